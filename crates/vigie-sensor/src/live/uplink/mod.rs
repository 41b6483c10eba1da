//! The sensor's only link to the outside: HTTPS (rustls) to its observatory
//! for enrolment, batches, heartbeats and lists, with the trust the config
//! names, and the backoff between retries.
//!
//! It must talk to nobody else: no redirect is followed, and a request
//! never carries more than a report, a heartbeat or the enrolment code.
//! Errors are classified so the daemon knows whether to retry, set a batch
//! aside, or stop and say the token no longer works.

mod backoff;
mod enroll;
mod error;
mod tls;

use std::io::Read;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};

pub use backoff::{BACKOFF_CAP, BACKOFF_START, Backoff};
pub use enroll::{EnrollError, EnrollOptions, Enrollment, enroll_box};
pub use error::{ErrorKind, UplinkError};
use error::{error_chain, error_text};
pub use tls::{Trust, fingerprint, parse_pin, pin_hex};

/// The enrolment endpoint (docs/api.md).
pub const ENROLL_PATH: &str = "/api/v1/sensors/enroll";
/// Where batches go (docs/api.md).
pub const REPORTS_PATH: &str = "/api/v1/reports";
/// Where heartbeats go.
pub const HEARTBEAT_PATH: &str = "/api/v1/sensors/heartbeat";
/// The largest body `get` accepts: a list of a million addresses is about
/// 16 MiB; more means something is wrong at the other end.
pub const MAX_FETCH_BYTES: u64 = 256 * 1024 * 1024;

/// An HTTPS client bound to one observatory.
#[derive(Clone, Debug)]
pub struct Uplink {
    client: Client,
    base: String,
    token: Option<String>,
}

/// The enrolment answer: the sensor's id and its secret token.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Enrolled {
    pub sensor_id: String,
    pub token: String,
    /// The commune's INSEE code, if the observatory says it (later versions).
    #[serde(default)]
    pub commune: Option<String>,
}

impl std::fmt::Debug for Enrolled {
    // The token is a secret: never in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolled")
            .field("sensor_id", &self.sensor_id)
            .finish_non_exhaustive()
    }
}

/// The observatory's acknowledgement of a batch; either way it is safe to
/// delete it from the spool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Stored now, in one transaction.
    Stored,
    /// This sequence number was already stored (an earlier try got through
    /// but its answer was lost); nothing changed.
    Duplicate,
}

/// The answer to a conditional GET.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetched {
    /// 304: what the box has (that ETag) is current.
    NotModified,
    Body {
        bytes: Vec<u8>,
        etag: Option<String>,
    },
}

impl Uplink {
    /// A client for the observatory at `base_url` (`https://` only), trusting
    /// what `trust` says, sending `token` as bearer when there is one.
    pub fn new(
        base_url: &str,
        trust: &Trust,
        token: Option<String>,
        timeout: Duration,
    ) -> Result<Uplink, UplinkError> {
        let base = check_url(base_url, "https")?;
        let mut builder = builder(timeout).https_only(true);
        if let Some(config) = tls::client_config(trust)? {
            builder = builder.use_preconfigured_tls(config);
        }
        Uplink::finish(builder, base, token)
    }

    /// A client over plain `http://`, only for an observatory on the same
    /// machine or a test network (`allow_plain_http = true`).
    pub fn plain_http(
        base_url: &str,
        token: Option<String>,
        timeout: Duration,
    ) -> Result<Uplink, UplinkError> {
        let base = check_url(base_url, "http")?;
        Uplink::finish(builder(timeout), base, token)
    }

    fn finish(
        builder: reqwest::blocking::ClientBuilder,
        base: String,
        token: Option<String>,
    ) -> Result<Uplink, UplinkError> {
        let client = builder
            .build()
            .map_err(|e| UplinkError::Tls(error_chain(&e)))?;
        Ok(Uplink {
            client,
            base,
            token,
        })
    }

    /// The observatory's base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Exchanges a one-time enrolment code for the sensor's id and token.
    pub fn enroll(&self, code: &str) -> Result<Enrolled, UplinkError> {
        let body = serde_json::json!({ "code": code });
        let response = self.send(ENROLL_PATH, self.post(ENROLL_PATH).json(&body))?;
        let enrolled: Enrolled = read_json(ENROLL_PATH, response)?;
        if enrolled.token.is_empty() || enrolled.sensor_id.is_empty() {
            return Err(answer(ENROLL_PATH, "empty sensor_id or token"));
        }
        Ok(enrolled)
    }

    /// Sends one `vigie.report/1` batch (already serialized, with its `seq`).
    pub fn send_report(&self, body: &[u8]) -> Result<Delivery, UplinkError> {
        #[derive(serde::Deserialize)]
        struct Ack {
            status: String,
        }
        let request = self
            .authorized(self.post(REPORTS_PATH))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        let ack: Ack = read_json(REPORTS_PATH, self.send(REPORTS_PATH, request)?)?;
        match ack.status.as_str() {
            "stored" => Ok(Delivery::Stored),
            "duplicate" => Ok(Delivery::Duplicate),
            other => Err(answer(REPORTS_PATH, &format!("unknown status {other:?}"))),
        }
    }

    /// Sends the box's health; the observatory answers 200 with JSON.
    pub fn heartbeat(&self, heartbeat: &vigie_core::Heartbeat) -> Result<(), UplinkError> {
        let request = self.authorized(self.post(HEARTBEAT_PATH)).json(heartbeat);
        self.send(HEARTBEAT_PATH, request).map(drop)
    }

    /// GET of `path` (from the base URL), conditional on `etag` when the box
    /// already holds a version.
    pub fn get(&self, path: &str, etag: Option<&str>) -> Result<Fetched, UplinkError> {
        let mut request = self.authorized(self.client.get(self.url(path)));
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let response = self.send(path, request)?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut bytes = Vec::new();
        response
            .take(MAX_FETCH_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.transport(&e))?;
        if bytes.len() as u64 > MAX_FETCH_BYTES {
            return Err(answer(
                path,
                &format!("body larger than {MAX_FETCH_BYTES} bytes"),
            ));
        }
        Ok(Fetched::Body { bytes, etag })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path))
    }

    fn authorized(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Sends and turns any answer other than 2xx or 304 into an error
    /// carrying the observatory's own explanation.
    fn send(&self, path: &str, request: RequestBuilder) -> Result<Response, UplinkError> {
        let response = request.send().map_err(|e| self.transport(&e))?;
        let status = response.status();
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            return Ok(response);
        }
        Err(UplinkError::Status {
            path: path.to_owned(),
            status: status.as_u16(),
            message: error_text(response),
        })
    }

    fn transport(&self, error: &dyn std::error::Error) -> UplinkError {
        UplinkError::Transport {
            url: self.base.clone(),
            message: error_chain(error),
        }
    }
}

fn builder(timeout: Duration) -> reqwest::blocking::ClientBuilder {
    Client::builder()
        .user_agent(concat!("vigie-sensor/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .connect_timeout(timeout)
        // The box talks to its observatory only: never follow it elsewhere.
        .redirect(reqwest::redirect::Policy::none())
}

/// Checks the base URL has the expected scheme, a host, and nothing after
/// the path; returns it without its trailing slash.
pub(crate) fn check_url(url: &str, scheme: &str) -> Result<String, UplinkError> {
    let invalid = |problem: &str| UplinkError::Url {
        url: url.to_owned(),
        problem: problem.to_owned(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
    if parsed.scheme() != scheme {
        return Err(invalid(if scheme == "https" {
            "the observatory must be reached over https:// (http:// only with allow_plain_http, for a test)"
        } else {
            "expected an http:// URL"
        }));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || !parsed.username().is_empty() {
        return Err(invalid("no query, fragment or user name expected"));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

fn read_json<T: serde::de::DeserializeOwned>(
    path: &str,
    response: Response,
) -> Result<T, UplinkError> {
    let bytes = response
        .bytes()
        .map_err(|e| answer(path, &error_chain(&e)))?;
    serde_json::from_slice(&bytes).map_err(|e| answer(path, &format!("not the expected JSON: {e}")))
}

fn answer(path: &str, problem: &str) -> UplinkError {
    UplinkError::Answer {
        path: path.to_owned(),
        problem: problem.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_normalised() {
        assert_eq!(
            check_url("https://obs.example.fr/", "https").unwrap(),
            "https://obs.example.fr"
        );
        assert_eq!(
            check_url("https://obs.example.fr:8443/vigie/", "https").unwrap(),
            "https://obs.example.fr:8443/vigie"
        );
        let err = check_url("http://obs.example.fr", "https").unwrap_err();
        assert!(err.to_string().contains("https://"), "{err}");
        assert!(check_url("https://obs.example.fr/?a=b", "https").is_err());
        assert!(check_url("obs.example.fr", "https").is_err());
        assert!(check_url("http://127.0.0.1:8080", "http").is_ok());
    }
}
