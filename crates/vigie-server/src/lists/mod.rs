//! The territory's threat lists and allowlists, kept by the observatory and
//! served to its sensors.
//!
//! A list is uploaded by the administrator or fetched from a URL on a
//! schedule ([`fetch_due`], called every minute by the `lists.fetch` job of [`crate::jobs`]); its
//! content is checked with the sensor's own parser (FireHOL, Spamhaus DROP,
//! abuse.ch CSV, plain lists) and each change makes a new version, numbered
//! and digested (SHA-256). Threat lists are territory-wide; an allowlist is
//! territory-wide or belongs to one commune. A sensor fetches the manifest
//! of its lists (`GET /api/v1/sensors/lists`, with an ETag) and the
//! content of those that changed (`GET /api/v1/sensors/lists/{name}`).
//!
//! What this module must never do: serve a commune's allowlist to another
//! commune's sensor, replace a working list with content where nothing
//! parses, lose the current version because a fetch failed, let anyone
//! but the administrator change a list, or fetch from this machine or its
//! internal network a host the administrator did not allow by name
//! (`destination`, issue 14).

mod api;
mod content;
mod destination;
mod fetch;
mod pages;
mod store;

/// Why an address is not an Internet address (private, loopback…), if it
/// is not: the ranges a list URL may not reach, which the STIX export
/// leaves out too.
pub(crate) use destination::classify as classify_address;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::post;
use vigie_core::lists::{ListKind, MAX_MANIFEST_LISTS, check_list_name};

use crate::AppError;
use crate::db::{Db, now_ms};
use crate::web::{Access, Routes};

pub use destination::{Kind as AddressKind, Refused};
pub use fetch::{FETCHER_PERIOD, FetchSummary, fetch_due, fetch_due_at};
pub use store::KEEP_VERSIONS;

/// Largest list accepted, uploaded or fetched. FireHOL's biggest sets are a
/// few MiB; this leaves room without letting a runaway URL fill the memory.
pub const MAX_LIST_BYTES: usize = 64 * 1024 * 1024;
/// Largest upload form (`/listes/depot`): an urlencoded form takes up to
/// three bytes per byte of content.
pub const MAX_UPLOAD_BYTES: usize = 3 * MAX_LIST_BYTES + 64 * 1024;
/// How often a URL is fetched unless the administrator says otherwise.
pub const DEFAULT_INTERVAL_SECS: i64 = 24 * 3600;
/// Shortest interval between two scheduled fetches of one URL.
pub const MIN_INTERVAL_SECS: i64 = 3600;

/// Why a list could not be created or changed. The messages are read by
/// the administrator.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("{0}")]
    BadName(String),
    #[error("commune inconnue : « {0} » (code INSEE d'une commune du territoire attendu)")]
    UnknownCommune(String),
    #[error("une liste de menaces vaut pour tout le territoire : elle n'a pas de commune")]
    CommuneOnThreatList,
    #[error("trop de listes : un capteur en charge au plus {MAX_MANIFEST_LISTS}")]
    TooMany,
    #[error("une liste nommée « {0} » existe déjà")]
    NameTaken(String),
    #[error("la liste « {0} » est récupérée depuis une adresse : son contenu ne se dépose pas")]
    FetchedList(String),
    #[error("la liste « {name} » existe déjà avec un autre type ou une autre commune")]
    Mismatch { name: String },
    #[error("adresse de la liste : {0}")]
    BadUrl(String),
    #[error("adresse refusée : {0}")]
    Refused(destination::Refused),
    #[error("contenu refusé : {0}")]
    Content(String),
    #[error("récupération impossible : {0}")]
    Fetch(String),
    #[error("erreur de la base de données : {0}")]
    Db(#[from] sqlx::Error),
}

impl From<ListError> for AppError {
    fn from(error: ListError) -> Self {
        match error {
            ListError::Db(e) => e.into(),
            ListError::NameTaken(_) => AppError::Conflict(error.to_string()),
            other => AppError::BadRequest(other.to_string()),
        }
    }
}

/// Where a new list's content comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// Uploaded by the administrator.
    Upload,
    /// Fetched from `url` every `interval_secs`.
    Url { url: String, interval_secs: i64 },
}

/// A list to create.
#[derive(Clone, Debug)]
pub struct NewList {
    pub name: String,
    pub kind: ListKind,
    /// For an allowlist of one commune: its INSEE code.
    pub commune: Option<String>,
    pub source: Source,
}

/// What saving content did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saved {
    /// A new current version, numbered.
    New(i64),
    /// The same content as the current version, which stays.
    Unchanged(i64),
}

impl Saved {
    pub fn version(self) -> i64 {
        match self {
            Saved::New(version) | Saved::Unchanged(version) => version,
        }
    }
}

/// Creates a list (a URL list is fetched by the next [`fetch_due`]);
/// returns its id. A URL's host may be an internal address only if it is
/// one of `allowed_hosts` (`ServerSettings::list_fetch_allowed_hosts`).
pub async fn create(db: &Db, list: &NewList, allowed_hosts: &[String]) -> Result<i64, ListError> {
    check_list_name(&list.name, list.kind).map_err(ListError::BadName)?;
    if let Some(problem) = allowlist_lookalike(&list.name, list.kind) {
        return Err(ListError::BadName(format!(
            "nom de liste « {} » : {problem}",
            list.name
        )));
    }
    if store::count(db).await? >= MAX_MANIFEST_LISTS as i64 {
        return Err(ListError::TooMany);
    }
    if let Some(commune) = &list.commune {
        if list.kind == ListKind::Threat {
            return Err(ListError::CommuneOnThreatList);
        }
        if !store::commune_exists(db, commune).await? {
            return Err(ListError::UnknownCommune(commune.clone()));
        }
    }
    if let Source::Url { url, interval_secs } = &list.source {
        fetch::check_destination(url, allowed_hosts).await?;
        if *interval_secs < MIN_INTERVAL_SECS {
            return Err(ListError::BadUrl(format!(
                "intervalle trop court : au moins {} heure",
                MIN_INTERVAL_SECS / 3600
            )));
        }
    }
    store::insert(db, list, now_ms()).await
}

/// Uploads `text` as the content of list `list.name`, creating the list
/// if needed: a new version when the content changed.
pub async fn upload(db: &Db, list: &NewList, text: &str) -> Result<Saved, ListError> {
    let existing = store::by_name(db, &list.name).await?;
    let bytes = text.as_bytes().to_vec();
    let checked = content::check(&list.name, list.kind, content::Origin::Uploaded, bytes).await?;
    let id = match existing {
        Some(known) if known.url.is_some() => return Err(ListError::FetchedList(known.name)),
        Some(known)
            if known.kind != list.kind || known.commune.as_deref() != list.commune.as_deref() =>
        {
            return Err(ListError::Mismatch { name: known.name });
        }
        Some(known) => known.id,
        // An uploaded list has no URL: no host to allow.
        None => create(db, list, &[]).await?,
    };
    Ok(store::save_version(db, id, &checked, now_ms()).await?)
}

/// Deletes a list and its versions; false when there was none.
pub async fn delete(db: &Db, name: &str) -> Result<bool, ListError> {
    Ok(store::delete(db, name).await?)
}

/// Administrator's pages (`/listes`), the staff's JSON view and the
/// sensors' API.
pub fn router() -> Routes {
    let upload_limit = DefaultBodyLimit::max(MAX_UPLOAD_BYTES);
    Routes::new()
        .get("/listes", Access::Staff, pages::list)
        .method(
            Method::POST,
            "/listes/depot",
            Access::Admin,
            post(pages::upload).layer(upload_limit),
        )
        .post("/listes/url", Access::Admin, pages::add_url)
        .get("/listes/{list}", Access::Staff, pages::detail)
        .post("/listes/{list}/actualiser", Access::Admin, pages::fetch_now)
        .post("/listes/{list}/supprimer", Access::Admin, pages::delete)
        .get("/api/v1/lists", Access::Staff, api::staff_lists)
        .get(
            vigie_core::lists::MANIFEST_PATH,
            Access::Sensor,
            api::manifest,
        )
        .get("/api/v1/sensors/lists/{list}", Access::Sensor, api::content)
}

/// Issue 16: a threat list named like an allowlist (`allow`, `whitelist`,
/// `liste_blanche`...) is most likely an allowlist given the wrong kind,
/// and would report the addresses it was meant to protect. New ones are
/// refused; the lists page flags those created before.
pub fn allowlist_lookalike(name: &str, kind: ListKind) -> Option<&'static str> {
    (kind == ListKind::Threat && vigie_lists::kind::looks_like_allowlist(name)).then_some(
        "ce nom ressemble à celui d'une liste blanche, mais c'est une liste de menaces : \
         les capteurs signaleraient comme attaques les adresses qu'elle contient. Une liste \
         blanche se crée avec le type « Liste blanche » (nom commençant par « allowlist ») ; \
         une liste de menaces prend un autre nom",
    )
}

/// Time as shown on the pages: `22/11/2026 09:45`, Europe/Paris.
fn paris_time(ms: i64) -> String {
    crate::fr::date_time(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_statuses() {
        let taken: AppError = ListError::NameTaken("x".into()).into();
        assert_eq!(taken.status(), axum::http::StatusCode::CONFLICT);
        let bad: AppError = ListError::Content("vide".into()).into();
        assert_eq!(bad.message_fr(), "contenu refusé : vide");
        assert_eq!(paris_time(1_768_519_800_000), "16/01/2026 00:30");
    }

    #[test]
    fn issue16_a_threat_list_named_like_an_allowlist_is_flagged() {
        for name in ["allow", "whitelist_mairie", "liste_blanche"] {
            assert!(
                allowlist_lookalike(name, ListKind::Threat).is_some(),
                "{name}"
            );
        }
        assert!(allowlist_lookalike("allowlist_42218", ListKind::Allow).is_none());
        assert!(allowlist_lookalike("firehol_level1", ListKind::Threat).is_none());
    }
}
