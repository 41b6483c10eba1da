//! Dropping root after the capture is open: switch to an unprivileged user, keep only the capabilities still needed.
