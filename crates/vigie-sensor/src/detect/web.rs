//! Web exploits: requests to the commune's web servers that carry a known
//! attack (signatures from `data/signatures.toml`), matched on the
//! percent-decoded target and header values, and on the body of form POSTs
//! when it is in the same segment.
//!
//! Only inbound requests are inspected: what the commune's own users browse
//! is none of the sensor's business. A request is one attack: when it
//! matches several signatures (Shellshock also runs a command), it counts
//! for the most severe, the first in the file among equals (the file lists
//! the most specific first). One incident per signature and source; its
//! events are the matching requests.

use std::net::IpAddr;
use std::sync::Arc;

use vigie_core::{Category, Direction};

use crate::config::WebExploitConfig;
use crate::decode::http::Request;
use crate::incidents::{Details, IncidentBook, IncidentKey, Nanos, Rule};
use crate::signatures::{SigId, Signatures};

pub struct WebDetector {
    config: WebExploitConfig,
    signatures: Arc<Signatures>,
    /// Reused buffers: no allocation per request after warm-up.
    scratch: Vec<u8>,
    hits: Vec<SigId>,
}

impl WebDetector {
    pub fn new(config: WebExploitConfig, signatures: Arc<Signatures>) -> Self {
        WebDetector {
            config,
            signatures,
            scratch: Vec::with_capacity(4096),
            hits: Vec::with_capacity(16),
        }
    }

    /// Matches one inbound request from `remote` to port `port`.
    pub fn request(
        &mut self,
        book: &mut IncidentBook,
        now: Nanos,
        remote: IpAddr,
        port: u16,
        request: &Request<'_>,
    ) {
        self.hits.clear();
        let signatures = &self.signatures;
        signatures.scan_field(request.target, &mut self.scratch, &mut self.hits);
        for header in request.headers() {
            signatures.scan_field(header.value, &mut self.scratch, &mut self.hits);
        }
        if self.config.inspect_form_bodies && !request.body.is_empty() && is_form(request) {
            signatures.scan_field(request.body, &mut self.scratch, &mut self.hits);
        }
        let service = super::web_service(port);
        let best = self.hits.iter().copied().max_by(|a, b| {
            let by_severity = signatures
                .get(*a)
                .severity
                .cmp(&signatures.get(*b).severity);
            by_severity.then(b.cmp(a))
        });
        if let Some(id) = best {
            let signature = signatures.get(id);
            book.record(
                IncidentKey {
                    rule: Rule::Named(signature.id.as_str().into()),
                    direction: Direction::Inbound,
                    remote: Some(remote),
                    internal: None,
                    port: Some(port),
                    indicator: None,
                },
                || Details {
                    category: Category::WebExploit,
                    severity: signature.severity,
                    label: None,
                    service: Some(service.to_owned()),
                    source_known: true,
                },
                self.config.idle,
                now,
                now,
                1,
            );
        }
    }
}

fn is_form(request: &Request<'_>) -> bool {
    request.header("content-type").is_some_and(|value| {
        value.len() >= 33 && value[..33].eq_ignore_ascii_case(b"application/x-www-form-urlencoded")
    })
}
