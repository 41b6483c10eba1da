//! The administrator's pages: `/listes` (every list, its version, entries
//! and last error; forms to upload content and to add a URL) and
//! `/listes/{name}` (a list's versions; fetch now, delete).
//!
//! Who may do what: the staff sees; only the administrator changes, with
//! the session's CSRF token, and every change goes to the audit log.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use vigie_core::lists::ListKind;

use super::store::{self, ListRow, VersionRow};
use super::{ListError, NewList, Saved, Source, fetch, paris_time};
use crate::accounts::{Admin, Caller, ConfirmForm, CsrfForm, Role, Staff, audit};
use crate::territory::CommuneCode;
use crate::web::{self, Chrome};
use crate::{AppError, AppState};

/// A list's line in the table.
struct Line {
    name: String,
    kind: &'static str,
    commune: String,
    url: Option<String>,
    version: i64,
    entries: i64,
    malformed: i64,
    problems: String,
    updated: String,
    last_error: Option<String>,
    last_error_at: String,
    interval_hours: i64,
    next_fetch: String,
    /// Last content accepted, changed or not.
    last_fetch: String,
    /// Issue 16: a threat list whose name reads like an allowlist's.
    kind_warning: Option<&'static str>,
}

struct VersionLine {
    version: i64,
    sha256: String,
    entries: i64,
    malformed: i64,
    bytes: i64,
    created: String,
}

#[derive(Template)]
#[template(path = "lists.html")]
struct ListsPage {
    chrome: Chrome,
    is_admin: bool,
    lines: Vec<Line>,
    communes: Vec<(CommuneCode, String)>,
    default_interval_hours: i64,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "lists_detail.html")]
struct DetailPage {
    chrome: Chrome,
    is_admin: bool,
    line: Line,
    versions: Vec<VersionLine>,
}

#[derive(serde::Deserialize)]
pub(super) struct UploadForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    content: String,
}

#[derive(serde::Deserialize)]
pub(super) struct UrlForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    interval_hours: String,
}

/// `GET /listes`.
pub(super) async fn list(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> Result<Response, AppError> {
    web::render(&lists_page(&state, &caller, None).await?)
}

/// `GET /listes/{name}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let list = store::by_name(&state.db, &name)
        .await?
        .ok_or(AppError::NotFound)?;
    let versions = store::versions(&state.db, list.id).await?;
    web::render(&DetailPage {
        chrome: Chrome::new(format!("Liste {}", list.name), Some(&caller)),
        is_admin: caller.role == Role::Admin,
        versions: versions.iter().map(version_line).collect(),
        line: line(list),
    })
}

/// `POST /listes/depot`: new content for an uploaded list (created if
/// needed).
pub(super) async fn upload(
    State(state): State<AppState>,
    Admin(caller): Admin,
    CsrfForm(form): CsrfForm<UploadForm>,
) -> Result<Response, AppError> {
    // A browser's textarea sends CRLF: the same file uploaded twice, or
    // fetched elsewhere, must keep the same digest.
    let text = form.content.replace("\r\n", "\n");
    let saved = match new_list(&form.name, &form.kind, &form.commune, Source::Upload) {
        Ok(list) => super::upload(&state.db, &list, &text).await,
        Err(e) => Err(e),
    };
    let name = form.name.trim();
    match saved {
        Ok(saved) => {
            let detail = match saved {
                Saved::New(version) => format!("{name} : version {version}"),
                Saved::Unchanged(version) => format!("{name} : inchangée (version {version})"),
            };
            audit(&state.db, Some(caller.user_id), "list_upload", &detail).await;
            Ok(Redirect::to(&format!("/listes/{name}")).into_response())
        }
        Err(error) => refuse(&state, &caller, error).await,
    }
}

/// `POST /listes/url`: a list fetched from a URL on a schedule; the first
/// fetch comes within a minute.
pub(super) async fn add_url(
    State(state): State<AppState>,
    Admin(caller): Admin,
    CsrfForm(form): CsrfForm<UrlForm>,
) -> Result<Response, AppError> {
    let hours = match form.interval_hours.trim() {
        "" => Ok(super::DEFAULT_INTERVAL_SECS / 3600),
        text => text.parse::<i64>().map_err(|_| {
            ListError::BadUrl(format!(
                "intervalle « {text} » : un nombre d'heures attendu"
            ))
        }),
    };
    let url = form.url.trim().to_owned();
    let created = match hours.and_then(|hours| {
        let source = Source::Url {
            url: url.clone(),
            interval_secs: hours.saturating_mul(3600),
        };
        new_list(&form.name, &form.kind, &form.commune, source)
    }) {
        Ok(list) => {
            let allowed = &state.settings.list_fetch_allowed_hosts;
            super::create(&state.db, &list, allowed).await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(_) => {
            let name = form.name.trim();
            audit(
                &state.db,
                Some(caller.user_id),
                "list_add_url",
                &format!("{name} : {url}"),
            )
            .await;
            Ok(Redirect::to(&format!("/listes/{name}")).into_response())
        }
        Err(error) => refuse(&state, &caller, error).await,
    }
}

/// `POST /listes/{name}/actualiser`: fetch a URL list now.
pub(super) async fn fetch_now(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(name): Path<String>,
    _: CsrfForm,
) -> Result<Response, AppError> {
    let list = store::by_name(&state.db, &name)
        .await?
        .ok_or(AppError::NotFound)?;
    if list.url.is_none() {
        return Err(AppError::BadRequest(
            "cette liste est déposée, pas récupérée depuis une adresse".to_owned(),
        ));
    }
    // The outcome, failure included, is recorded on the list and shown
    // on its page.
    let allowed = &state.settings.list_fetch_allowed_hosts;
    let detail = match fetch::refresh(&state.db, allowed, &list).await? {
        Ok(saved) => format!("{name} : version {}", saved.version()),
        Err(error) => format!("{name} : échec ({error})"),
    };
    audit(&state.db, Some(caller.user_id), "list_fetch", &detail).await;
    Ok(Redirect::to(&format!("/listes/{name}")).into_response())
}

/// `POST /listes/{name}/supprimer`.
pub(super) async fn delete(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(name): Path<String>,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, AppError> {
    // An unknown list is "not found", confirmed or not.
    if store::by_name(&state.db, &name).await?.is_none() {
        return Err(AppError::NotFound);
    }
    if !form.confirmed() {
        return Err(AppError::BadRequest(
            "Cochez la case de confirmation pour supprimer la liste.".to_owned(),
        ));
    }
    if !super::delete(&state.db, &name).await? {
        return Err(AppError::NotFound);
    }
    audit(&state.db, Some(caller.user_id), "list_delete", &name).await;
    Ok(Redirect::to("/listes").into_response())
}

/// The list a form describes (the name and commune are checked on
/// creation).
fn new_list(name: &str, kind: &str, commune: &str, source: Source) -> Result<NewList, ListError> {
    let kind = ListKind::parse(kind.trim())
        .ok_or_else(|| ListError::BadName(format!("type de liste inconnu : « {kind} »")))?;
    // The field may hold "42059" or "42059 — Name" (the list's suggestion).
    let commune = commune.split_whitespace().next().map(str::to_owned);
    Ok(NewList {
        name: name.trim().to_owned(),
        kind,
        commune,
        source,
    })
}

/// The list page again, with what was wrong.
async fn refuse(state: &AppState, caller: &Caller, error: ListError) -> Result<Response, AppError> {
    let status = match &error {
        ListError::Db(_) => return Err(error.into()),
        ListError::NameTaken(_) => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    };
    let page = lists_page(state, caller, Some(error.to_string())).await?;
    Ok((status, web::render(&page)?).into_response())
}

async fn lists_page(
    state: &AppState,
    caller: &Caller,
    error: Option<String>,
) -> Result<ListsPage, AppError> {
    let lines = store::all(&state.db).await?.into_iter().map(line).collect();
    // In French order, as the picker shows them ("Écotay" among the E).
    let communes = crate::territory::communes(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.code, c.name))
        .collect();
    Ok(ListsPage {
        chrome: Chrome::new("Listes de menaces et listes blanches", Some(caller)),
        is_admin: caller.role == Role::Admin,
        lines,
        communes,
        default_interval_hours: super::DEFAULT_INTERVAL_SECS / 3600,
        error,
    })
}

fn line(list: ListRow) -> Line {
    let current = list.current.as_ref();
    Line {
        kind_warning: super::allowlist_lookalike(&list.name, list.kind),
        kind: list.kind.label_fr(),
        commune: list
            .commune
            .map_or_else(|| "tout le territoire".to_owned(), |c| c.to_string()),
        version: list.version,
        entries: current.map_or(0, |v| v.entries),
        malformed: current.map_or(0, |v| v.malformed),
        problems: current.map_or_else(String::new, |v| v.problems.clone()),
        updated: current.map_or_else(|| "—".to_owned(), |v| paris_time(v.created_at)),
        last_error_at: list.last_error_at.map_or_else(String::new, paris_time),
        last_error: list.last_error,
        interval_hours: list.interval_secs / 3600,
        next_fetch: match (&list.url, list.next_fetch_at) {
            (Some(_), Some(at)) => paris_time(at),
            _ => String::new(),
        },
        last_fetch: list
            .last_fetch_at
            .map_or_else(|| "—".to_owned(), paris_time),
        url: list.url,
        name: list.name,
    }
}

fn version_line(version: &VersionRow) -> VersionLine {
    VersionLine {
        version: version.version,
        sha256: version.sha256.clone(),
        entries: version.entries,
        malformed: version.malformed,
        bytes: version.bytes,
        created: paris_time(version.created_at),
    }
}
