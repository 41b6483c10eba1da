//! `vigie probe --upload URL --token T`: sends the `vigie.probe/1` document
//! to the observatory (`POST /api/v1/probes`, the personal API token of an
//! administrator or operator as `Authorization: Bearer`). The observatory
//! stores a report once, whatever the number of tries, so a failed upload
//! is simply tried again.
//!
//! It must never send the token in clear over a network (plain `http://`
//! only to this machine), follow a redirect elsewhere, or print the token.
//! Blocking: call it outside an async runtime (or in `spawn_blocking`).

use std::net::IpAddr;
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use vigie_core::probe::ProbeReport;

use super::trust::{Trust, pinned_config};

/// Where the observatory receives probe reports, under its base URL.
pub const ENDPOINT: &str = "/api/v1/probes";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// A large report on a slow link still goes through.
const TIMEOUT: Duration = Duration::from_secs(180);

/// What the observatory answered.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct UploadAnswer {
    /// `stored`, or `duplicate` when this very report was already there.
    pub status: String,
    /// The scan's number at the observatory.
    pub id: i64,
    /// The report's page, as an absolute URL.
    pub page: String,
}

/// Why the upload failed; the messages are for the person at the terminal.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("adresse de l'observatoire « {url} » invalide : {problem}")]
    Url { url: String, problem: String },
    #[error("jeton invalide : {0}")]
    Token(&'static str),
    #[error("rapport non envoyé : {0}")]
    Invalid(String),
    #[error("certificat de confiance : {0}")]
    Trust(String),
    #[error(
        "observatoire injoignable ({url}) : {cause}. Le rapport peut être renvoyé sans risque : il ne sera enregistré qu'une fois."
    )]
    Unreachable { url: String, cause: String },
    #[error(
        "jeton refusé par l'observatoire : inconnu ou révoqué (un jeton personnel vgt_… d'un administrateur ou d'un opérateur est attendu)"
    )]
    Unauthorized,
    #[error(
        "ce compte ne peut pas déposer de rapport de sonde : un compte administrateur ou opérateur est nécessaire"
    )]
    Forbidden,
    #[error("l'observatoire a refusé le rapport (code {status}) : {message}")]
    Refused { status: u16, message: String },
    #[error("réponse inattendue de l'observatoire (code {status}) : {detail}")]
    Answer { status: u16, detail: String },
}

/// Sends `report` to the observatory at `url` (its base address, e.g.
/// `https://vigie.departement.fr`, or the full `…/api/v1/probes`).
pub fn upload(
    url: &str,
    token: &str,
    report: &ProbeReport,
    trust: &Trust,
) -> Result<UploadAnswer, UploadError> {
    let endpoint = endpoint(url)?;
    let token = token.trim();
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(UploadError::Token(
            "vide ou avec des caractères non imprimables",
        ));
    }
    if report.commune.is_none() {
        return Err(UploadError::Invalid(
            "le périmètre ne nomme pas la commune (champ « commune ») : l'observatoire ne saurait à qui le rattacher".to_owned(),
        ));
    }
    report.validate().map_err(UploadError::Invalid)?;
    let body = serde_json::to_vec(report).map_err(|e| UploadError::Invalid(e.to_string()))?;
    let client = client(&endpoint, trust)?;
    let response = client
        .post(endpoint.clone())
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .map_err(|e| UploadError::Unreachable {
            url: endpoint.to_string(),
            cause: cause(&e),
        })?;
    answer(&endpoint, response)
}

/// The endpoint for `url`: https, or http to this machine only.
fn endpoint(url: &str) -> Result<Url, UploadError> {
    let invalid = |problem: &str| UploadError::Url {
        url: url.to_owned(),
        problem: problem.to_owned(),
    };
    let mut parsed = Url::parse(url.trim()).map_err(|e| invalid(&e.to_string()))?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("ni « ? » ni « # » attendus"));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| invalid("il manque le nom du serveur"))?;
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(invalid(
                "https:// est obligatoire : le jeton ne doit pas circuler en clair (http:// n'est accepté que vers cette machine)",
            ));
        }
        _ => return Err(invalid("https:// attendu")),
    }
    if !parsed.path().ends_with(ENDPOINT) {
        let path = format!("{}{ENDPOINT}", parsed.path().trim_end_matches('/'));
        parsed.set_path(&path);
    }
    Ok(parsed)
}

fn client(endpoint: &Url, trust: &Trust) -> Result<Client, UploadError> {
    let mut builder = Client::builder()
        .user_agent(concat!("vigie-probe/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TIMEOUT)
        // The token goes to the observatory named, never where it points.
        .redirect(reqwest::redirect::Policy::none())
        .https_only(endpoint.scheme() == "https");
    match trust {
        Trust::PublicRoots => {}
        Trust::CaFile(path) => {
            let problem = |what: String| UploadError::Trust(format!("{} : {what}", path.display()));
            let pem = std::fs::read(path).map_err(|e| problem(e.to_string()))?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| problem(format!("PEM illisible ({e})")))?;
            if certificates.is_empty() {
                return Err(problem(
                    "aucun certificat (« -----BEGIN CERTIFICATE----- ») dans ce fichier".to_owned(),
                ));
            }
            builder = builder.tls_built_in_root_certs(false);
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        Trust::PinnedSha256(pin) => {
            builder =
                builder.use_preconfigured_tls(pinned_config(*pin).map_err(UploadError::Trust)?);
        }
    }
    builder.build().map_err(|e| UploadError::Trust(cause(&e)))
}

/// The observatory's answer: the stored scan, or why it refused.
fn answer(
    endpoint: &Url,
    response: reqwest::blocking::Response,
) -> Result<UploadAnswer, UploadError> {
    #[derive(Deserialize)]
    struct Stored {
        status: String,
        id: i64,
        page: String,
    }
    #[derive(Deserialize)]
    struct Refusal {
        error: String,
    }
    let status = response.status();
    let body = response.text().unwrap_or_default();
    match status {
        StatusCode::UNAUTHORIZED => return Err(UploadError::Unauthorized),
        StatusCode::FORBIDDEN => return Err(UploadError::Forbidden),
        s if s.is_success() => {}
        s => {
            return Err(match serde_json::from_str::<Refusal>(&body) {
                Ok(refusal) => UploadError::Refused {
                    status: s.as_u16(),
                    message: refusal.error,
                },
                Err(_) => UploadError::Answer {
                    status: s.as_u16(),
                    detail: excerpt(&body),
                },
            });
        }
    }
    let stored: Stored = serde_json::from_str(&body).map_err(|e| UploadError::Answer {
        status: status.as_u16(),
        detail: format!("{e} dans « {} »", excerpt(&body)),
    })?;
    let page = endpoint
        .join(&stored.page)
        .map_or(stored.page, |url| url.to_string());
    Ok(UploadAnswer {
        status: stored.status,
        id: stored.id,
        page,
    })
}

/// The error and its causes, on one line (reqwest hides the useful part,
/// "connection refused" or the certificate problem, in its sources).
fn cause(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(" : ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

fn excerpt(body: &str) -> String {
    let mut text: String = body.chars().filter(|c| !c.is_control()).take(200).collect();
    if body.chars().count() > 200 {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, expected: Result<&str, &str>) {
        match (endpoint(url), expected) {
            (Ok(endpoint), Ok(wanted)) => assert_eq!(endpoint.as_str(), wanted, "{url}"),
            (Err(error), Err(words)) => {
                assert!(error.to_string().contains(words), "{url}: {error}")
            }
            (got, wanted) => panic!("{url}: {got:?}, expected {wanted:?}"),
        }
    }

    #[test]
    fn endpoints() {
        check(
            "https://vigie.loire.fr",
            Ok("https://vigie.loire.fr/api/v1/probes"),
        );
        check(
            "https://vigie.loire.fr/observatoire/",
            Ok("https://vigie.loire.fr/observatoire/api/v1/probes"),
        );
        check(
            "https://vigie.loire.fr/api/v1/probes",
            Ok("https://vigie.loire.fr/api/v1/probes"),
        );
        check(
            "http://127.0.0.1:8080",
            Ok("http://127.0.0.1:8080/api/v1/probes"),
        );
        check("http://[::1]:8080/", Ok("http://[::1]:8080/api/v1/probes"));
        check("http://localhost", Ok("http://localhost/api/v1/probes"));
        check("http://vigie.loire.fr", Err("https:// est obligatoire"));
        check("http://10.0.0.1", Err("https:// est obligatoire"));
        check("ftp://vigie.loire.fr", Err("https:// attendu"));
        check("https://vigie.loire.fr/?x=1", Err("ni « ? »"));
        check("vigie.loire.fr", Err("invalide"));
    }
}
