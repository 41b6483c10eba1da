//! The documentation kit the Mégalis agreement promises (issue 11; seed
//! 004: « des supports de présentation, des liens vers des guides …
//! (Cybermalveillance.gouv.fr, ANSSI), des modèles de procédures, le
//! catalogue de prestations »): files the staff upload (`files`, kinds
//! recognised by `sniff` from their bytes), links to the national guides
//! (`links`, seeded by migration 0017), one page (`pages`).
//!
//! Who sees it: the agreement says « Un kit documentaire sera fourni à
//! la collectivité requérante » (seed 004). The staff, and the users of a
//! commune that signed an agreement whose offer grants the kit
//! (`grants = ["documentation_kit"]`: the awareness paths), read its
//! files ([`may_read`]); every signed-in user sees the national guides
//! and, when their commune has no such agreement, how to get the kit.
//! Only the staff change it (`Access::Staff`).
//!
//! What it must never do: keep a file whose bytes are not one of the
//! kinds listed in `sniff` (whatever its name says), or a link a browser
//! would run as a script.

mod files;
mod links;
mod pages;
pub mod sniff;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing;

pub use files::{MAX_FILE, MAX_UPLOAD};

use crate::web::{Access, Routes};

pub fn router() -> Routes {
    Routes::new()
        .get("/kit", Access::SignedIn, pages::page)
        .method(
            Method::POST,
            "/kit/fichiers",
            Access::Staff,
            routing::post(files::upload).layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .get("/kit/fichiers/{file}", Access::SignedIn, files::download)
        .post(
            "/kit/fichiers/{file}/supprimer",
            Access::Staff,
            files::delete,
        )
        .post("/kit/liens", Access::Staff, links::add)
        .post(
            "/kit/liens/{link_id}/supprimer",
            Access::Staff,
            links::delete,
        )
}

/// Whether `caller` reads the kit's files: the staff, or a user of a
/// commune that signed an agreement granting it.
pub async fn may_read(
    state: &crate::AppState,
    caller: &crate::accounts::Caller,
) -> Result<bool, crate::AppError> {
    if caller.is_staff() {
        return Ok(true);
    }
    let Some(commune) = &caller.commune else {
        return Ok(false);
    };
    let offers = &state.settings.offers;
    Ok(crate::agreements::store::of_commune(&state.db, commune)
        .await?
        .iter()
        .any(|agreement| {
            agreement.facts.signed_on.is_some()
                && offers.get(&agreement.offer).is_some_and(|offer| {
                    offer
                        .grants
                        .contains(&crate::agreements::offers::Grant::DocumentationKit)
                })
        }))
}

/// The kit's sections, in the page's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Presentation,
    Procedure,
    Catalogue,
}

impl Section {
    pub const ALL: [Section; 3] = [
        Section::Presentation,
        Section::Procedure,
        Section::Catalogue,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Section::Presentation => "presentation",
            Section::Procedure => "procedure",
            Section::Catalogue => "catalogue",
        }
    }

    pub fn parse(id: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.id() == id.trim())
    }

    pub fn title_fr(self) -> &'static str {
        match self {
            Section::Presentation => "Supports de présentation",
            Section::Procedure => "Modèles de procédures",
            Section::Catalogue => "Catalogue de prestations",
        }
    }

    pub fn intro_fr(self) -> &'static str {
        match self {
            Section::Presentation => {
                "Pour présenter la cybersécurité en conseil municipal ou en réunion d'agents."
            }
            Section::Procedure => {
                "À adapter à la mairie, puis à imprimer et afficher : qui appeler, quoi faire, dans quel ordre."
            }
            Section::Catalogue => {
                "Ce que l'équipe du territoire et son opérateur technique proposent aux communes."
            }
        }
    }
}

/// A form's text field: trimmed, not blank, at most `max` characters;
/// the error names the field as the form labels it.
fn clean_text(text: &str, label: &str, max: usize) -> Result<(), String> {
    let text = text.trim();
    if text.is_empty() {
        Err(format!("« {label} » : à remplir."))
    } else if text.chars().count() > max {
        Err(format!(
            "« {label} » : au plus {} caractères.",
            crate::fr::number(i64::try_from(max).unwrap_or(i64::MAX))
        ))
    } else {
        Ok(())
    }
}
