//! Security headers on every answer (issue 14): pages, API, static files,
//! errors and redirects alike. A handler that needs another policy sets
//! the header itself; this layer only fills what is missing.
//!
//! What it must never do: allow an inline script, or let another site
//! frame a page (clickjacking the sign-in form or a commune's page).

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;

/// Only the observatory's own script and stylesheet run: no inline
/// script, style or event handler, no plugin, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The probe's report page (`/sondes/{id}`): the report fragment is the
/// one `vigie probe` also writes as a standalone file, so it carries its
/// own `<style>` and per-finding colours; scripts stay forbidden.
pub const REPORT_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A phishing exercise's sign-in page and awareness page (issue 11): the
/// scenario's page carries its own styles; nothing else loads, no script
/// runs, the form posts only here, and no referrer leaves.
pub const EXERCISE_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// HSTS, sent only when Vigie itself serves HTTPS (`--tls-cert`): behind a
/// reverse proxy, the proxy decides.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// Adds the headers the answer does not already carry.
pub async fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let wanted: [(HeaderName, &'static str); 4] = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in wanted {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

/// Adds HSTS: for the answers of a server that holds the certificate.
pub async fn strict_transport(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
    );
    response
}
