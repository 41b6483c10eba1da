//! The probe's report in French: HTML and PDF, opening with the ten most critical vulnerabilities.
