//! Why an exchange with the observatory failed, classified so the daemon
//! knows whether to retry, set a batch aside or stop; messages carry the
//! observatory's own explanation and never a secret.

use reqwest::blocking::Response;

/// How much of a non-JSON error body is kept in the message.
const MAX_ERROR_TEXT: usize = 300;

/// What the daemon should do about a failed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Network, timeout, 5xx, 429: try again later with backoff.
    Retryable,
    /// 400, 413 and other 4xx: this request will never succeed; a batch is
    /// set aside.
    Rejected,
    /// 401, 403: the token is unknown or revoked; stop sending and say so.
    Unauthorized,
    /// Bad URL, CA file or TLS setup: fix the configuration.
    Setup,
}

#[derive(Debug, thiserror::Error)]
pub enum UplinkError {
    #[error("invalid observatory URL {url:?}: {problem}")]
    Url { url: String, problem: String },
    #[error("cannot use the CA file {}: {problem}", path.display())]
    CaFile {
        path: std::path::PathBuf,
        problem: String,
    },
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    #[error("cannot reach the observatory ({url}): {message}")]
    Transport { url: String, message: String },
    #[error("the observatory refused {path} with {status}: {message}")]
    Status {
        path: String,
        status: u16,
        message: String,
    },
    #[error("unexpected answer from the observatory to {path}: {problem}")]
    Answer { path: String, problem: String },
}

impl UplinkError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            UplinkError::Url { .. } | UplinkError::CaFile { .. } | UplinkError::Tls(_) => {
                ErrorKind::Setup
            }
            // A garbled 200 may mean the batch was stored: retrying is safe
            // thanks to the observatory's idempotency.
            UplinkError::Transport { .. } | UplinkError::Answer { .. } => ErrorKind::Retryable,
            UplinkError::Status { status, .. } => match *status {
                401 | 403 => ErrorKind::Unauthorized,
                408 | 429 => ErrorKind::Retryable,
                s if s >= 500 => ErrorKind::Retryable,
                _ => ErrorKind::Rejected,
            },
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.kind() == ErrorKind::Retryable
    }

    /// The token is unknown or revoked: sending more is pointless.
    pub fn is_unauthorized(&self) -> bool {
        self.kind() == ErrorKind::Unauthorized
    }

    /// The observatory will never accept this request as it is.
    pub fn is_rejected(&self) -> bool {
        self.kind() == ErrorKind::Rejected
    }

    /// The HTTP status the observatory answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            UplinkError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The observatory's `{"error": "..."}` text, or the start of whatever
/// else the body holds, or the status's reason.
pub(super) fn error_text(response: Response) -> String {
    let status = response.status();
    let text = response.text().unwrap_or_default();
    #[derive(serde::Deserialize)]
    struct Refusal {
        error: String,
    }
    if let Ok(refusal) = serde_json::from_str::<Refusal>(&text) {
        return refusal.error;
    }
    let text = text.trim();
    if text.is_empty() {
        return status
            .canonical_reason()
            .unwrap_or("no reason given")
            .to_owned();
    }
    text.chars().take(MAX_ERROR_TEXT).collect()
}

/// reqwest's own message is "error sending request"; the cause (refused,
/// timed out, certificate not trusted) is further down the chain.
pub(super) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !message.contains(&cause_text) {
            message.push_str(": ");
            message.push_str(&cause_text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> UplinkError {
        UplinkError::Status {
            path: "/api/v1/reports".to_owned(),
            status: code,
            message: "x".to_owned(),
        }
    }

    #[test]
    fn errors_are_classified() {
        let check = |code: u16, expected: ErrorKind| assert_eq!(status(code).kind(), expected);
        check(400, ErrorKind::Rejected);
        check(413, ErrorKind::Rejected);
        check(404, ErrorKind::Rejected);
        check(401, ErrorKind::Unauthorized);
        check(403, ErrorKind::Unauthorized);
        check(429, ErrorKind::Retryable);
        check(500, ErrorKind::Retryable);
        check(503, ErrorKind::Retryable);
        assert!(status(502).is_retryable());
        assert!(!status(400).is_retryable());
        assert!(status(400).is_rejected());
        assert!(status(403).is_unauthorized());
        let setup = UplinkError::Tls("x".to_owned());
        assert_eq!(setup.kind(), ErrorKind::Setup);
    }
}
