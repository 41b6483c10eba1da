//! The lists over the API: what a sensor fetches (its manifest and the
//! lists' content, each with an ETag so that an unchanged set costs a 304)
//! and the staff's JSON view of every list.
//!
//! A sensor is known by its token, as for its reports; it is served the
//! territory's threat lists and allowlists and its own commune's
//! allowlists, never another commune's (those are "not found").

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use vigie_core::lists::{ListEntry, ListManifest, sha256_hex};

use super::store;
use crate::accounts::Staff;
use crate::sensors::ApiError;
use crate::territory::CommuneCode;
use crate::{AppError, AppState};

/// `GET /api/v1/sensors/lists`: the sensor's manifest.
pub(super) async fn manifest(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let commune = crate::sensors::ingest::authenticate(&state.db, &headers)
        .await?
        .commune;
    let lists = store::sensor_lists(&state.db, &commune).await?;
    let manifest = ListManifest {
        version: set_digest(&lists),
        lists,
    };
    let etag = quoted(&manifest.version);
    if matches_etag(&headers, &manifest.version) {
        return Ok(not_modified(etag));
    }
    Ok(with_etag(Json(manifest).into_response(), etag))
}

/// `GET /api/v1/sensors/lists/{name}`: a list's current content.
pub(super) async fn content(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let commune = crate::sensors::ingest::authenticate(&state.db, &headers)
        .await?
        .commune;
    let Some((sha256, text)) = store::sensor_content(&state.db, &name, &commune).await? else {
        return Err(ApiError::Refused(
            StatusCode::NOT_FOUND,
            format!("liste inconnue : « {name} »"),
        ));
    };
    let etag = quoted(&sha256);
    if matches_etag(&headers, &sha256) {
        return Ok(not_modified(etag));
    }
    let response = ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response();
    Ok(with_etag(response, etag))
}

/// One list as the staff's JSON view shows it.
#[derive(serde::Serialize)]
struct ListView {
    name: String,
    kind: &'static str,
    commune: Option<CommuneCode>,
    url: Option<String>,
    interval_secs: i64,
    /// 0 until a first content is accepted.
    version: i64,
    sha256: Option<String>,
    entries: Option<i64>,
    malformed: Option<i64>,
    /// Unix milliseconds.
    updated_at: Option<i64>,
    next_fetch_at: Option<i64>,
    /// Last content accepted, changed or not.
    last_fetch_at: Option<i64>,
    last_error: Option<String>,
    last_error_at: Option<i64>,
}

/// `GET /api/v1/lists`: every list, for the staff.
pub(super) async fn staff_lists(
    State(state): State<AppState>,
    _: Staff,
) -> Result<Response, AppError> {
    let views: Vec<ListView> = store::all(&state.db)
        .await?
        .into_iter()
        .map(|list| ListView {
            kind: list.kind.as_str(),
            sha256: list.current.as_ref().map(|v| v.sha256.clone()),
            entries: list.current.as_ref().map(|v| v.entries),
            malformed: list.current.as_ref().map(|v| v.malformed),
            updated_at: list.current.as_ref().map(|v| v.created_at),
            name: list.name,
            commune: list.commune,
            url: list.url,
            interval_secs: list.interval_secs,
            version: list.version,
            next_fetch_at: list.next_fetch_at,
            last_fetch_at: list.last_fetch_at,
            last_error: list.last_error,
            last_error_at: list.last_error_at,
        })
        .collect();
    Ok(Json(views).into_response())
}

/// The digest of a set of lists: it changes when any list is added,
/// removed or gets a new version.
fn set_digest(lists: &[ListEntry]) -> String {
    let mut text = String::new();
    for list in lists {
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            list.name,
            list.kind.as_str(),
            list.version,
            list.sha256
        ));
    }
    sha256_hex(text.as_bytes())
}

/// Whether `If-None-Match` names `tag` (quoted or not, weak or not) or is
/// `*` (RFC 9110 §13.1.2).
fn matches_etag(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|candidate| {
            let candidate = candidate.trim();
            let candidate = candidate.strip_prefix("W/").unwrap_or(candidate);
            candidate.trim_matches('"')
        })
        .any(|candidate| candidate == "*" || candidate == tag)
}

fn quoted(tag: &str) -> String {
    format!("\"{tag}\"")
}

fn not_modified(etag: String) -> Response {
    with_etag(StatusCode::NOT_MODIFIED.into_response(), etag)
}

fn with_etag(mut response: Response, etag: String) -> Response {
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, value.parse().unwrap());
        headers
    }

    #[test]
    fn if_none_match() {
        assert!(matches_etag(&headers("\"abc\""), "abc"));
        assert!(matches_etag(&headers("W/\"x\", \"abc\""), "abc"));
        assert!(matches_etag(&headers("abc"), "abc"));
        assert!(matches_etag(&headers("*"), "abc"));
        assert!(!matches_etag(&headers("\"abd\""), "abc"));
        assert!(!matches_etag(&HeaderMap::new(), "abc"));
    }

    #[test]
    fn the_set_digest_follows_versions() {
        let entry = |version| ListEntry {
            name: "feodo".into(),
            kind: vigie_core::lists::ListKind::Threat,
            version,
            sha256: "ab".repeat(32),
            entries: 1,
        };
        assert_eq!(set_digest(&[entry(1)]), set_digest(&[entry(1)]));
        assert_ne!(set_digest(&[entry(1)]), set_digest(&[entry(2)]));
        assert_ne!(set_digest(&[]), set_digest(&[entry(1)]));
    }
}
