//! The kit's links to national guides (Cybermalveillance.gouv.fr, 17Cyber,
//! ANSSI's hygiene guide…): seeded by migration 0017, then added and
//! removed by the staff (`kit_links`).
//!
//! What it must never do: keep an address a browser would run
//! (`javascript:`, `data:`…): only `http` and `https` links are kept.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::FromRow;

use super::clean_text;
use super::pages::{LinkDraft, Notice, kit_page};
use crate::accounts::{ConfirmForm, CsrfForm, Staff, audit};
use crate::db::{Db, now_ms};
use crate::{AppError, AppState};

/// The longest address kept.
const MAX_URL_CHARS: usize = 500;
/// The most links the kit keeps.
const MAX_LINKS: i64 = 100;

#[derive(Clone, Debug, FromRow)]
pub struct KitLink {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub url: String,
}

pub async fn list(db: &Db) -> Result<Vec<KitLink>, AppError> {
    Ok(
        sqlx::query_as("SELECT id, title, description, url FROM kit_links ORDER BY created_at, id")
            .fetch_all(db.read())
            .await?,
    )
}

#[derive(Deserialize, Default)]
pub(super) struct LinkForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    url: String,
}

/// `POST /kit/liens` (`title`, `description`, `url`).
pub(super) async fn add(
    State(state): State<AppState>,
    Staff(caller): Staff,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> Result<Response, AppError> {
    let checked = clean_text(&form.title, "Titre", 200)
        .and_then(|_| clean_text(&form.description, "Description", 1000))
        .and_then(|_| check_url(&form.url));
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM kit_links")
        .fetch_one(&state.db.pool)
        .await?;
    let checked = checked.and_then(|url| {
        if count >= MAX_LINKS {
            Err(format!(
                "Le kit garde déjà {MAX_LINKS} liens : retirez-en un avant d'en ajouter un autre."
            ))
        } else {
            Ok(url)
        }
    });
    let url = match checked {
        Ok(url) => url,
        Err(message) => {
            let draft = LinkDraft {
                title: form.title,
                description: form.description,
                url: form.url,
            };
            let page = kit_page(&state, &caller, Notice::LinkError(message, draft)).await?;
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    sqlx::query(
        "INSERT INTO kit_links (title, description, url, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(form.title.trim())
    .bind(form.description.trim())
    .bind(&url)
    .bind(now_ms())
    .execute(&state.db.pool)
    .await?;
    audit(&state.db, Some(caller.user_id), "kit_link_add", &url).await;
    Ok(Redirect::to("/kit#guides").into_response())
}

/// `POST /kit/liens/{link_id}/supprimer` (`confirm=oui`).
pub(super) async fn delete(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, AppError> {
    let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
    let url: Option<String> = sqlx::query_scalar("SELECT url FROM kit_links WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?;
    let url = url.ok_or(AppError::NotFound)?;
    if !form.confirmed() {
        let message = "Cochez la case de confirmation pour retirer ce lien du kit.".to_owned();
        let page = kit_page(&state, &caller, Notice::Error(message)).await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    sqlx::query("DELETE FROM kit_links WHERE id = $1")
        .bind(id)
        .execute(&state.db.pool)
        .await?;
    audit(&state.db, Some(caller.user_id), "kit_link_delete", &url).await;
    Ok(Redirect::to("/kit#guides").into_response())
}

/// An `http` or `https` address with a host, as typed (trimmed), or
/// what is wrong with it in French.
fn check_url(text: &str) -> Result<String, String> {
    let url = text.trim();
    let refuse = |why: &str| Err(format!("« Adresse » : {why}"));
    if url.is_empty() {
        return refuse("donnez l'adresse de la page, qui commence par https://");
    }
    if url.chars().count() > MAX_URL_CHARS {
        return refuse("au plus 500 caractères");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return refuse("une adresse n'a pas d'espace");
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return refuse("elle doit commencer par https:// (ou http://)");
    };
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return refuse("seules les adresses web (https:// ou http://) sont acceptées");
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.contains('@') {
        return refuse("le nom du site manque après https://");
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_addresses_are_kept() {
        assert_eq!(
            check_url(" https://www.17cyber.gouv.fr/ "),
            Ok("https://www.17cyber.gouv.fr/".to_owned())
        );
        assert!(check_url("http://intranet.mairie.fr/guide.pdf").is_ok());
        for bad in [
            "",
            "javascript:alert(1)",
            "data:text/html,<script>",
            "www.exemple.fr",
            "https://",
            "https://user@exemple.fr",
            "https://exemple.fr/a b",
            "ftp://exemple.fr",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
