//! The territory's routes: the communes as JSON and as a French page, for
//! any signed-in user. Contacts are shown to the staff only; a commune's
//! name links to its page only for those who may open it.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::Response;

use super::{Commune, CommuneCode, communes, departement_codes, departements, territory_name};
use crate::accounts::Caller;
use crate::fr;
use crate::web::{Access, Chrome, Routes, render};
use crate::{AppError, AppState};

pub fn router() -> Routes {
    Routes::new()
        .get("/api/v1/communes", Access::SignedIn, communes_api)
        .get("/territoire", Access::SignedIn, communes_page)
}

/// One commune in `GET /api/v1/communes`.
#[derive(Debug, serde::Serialize)]
pub struct CommuneEntry {
    code: CommuneCode,
    name: String,
    population: i64,
    epci: Option<String>,
    departement: String,
}

/// `GET /api/v1/communes`: every commune of the territory, sorted by name.
async fn communes_api(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Vec<CommuneEntry>>, AppError> {
    let list = communes(&state.db).await?;
    Ok(Json(
        list.into_iter()
            .map(|c| CommuneEntry {
                code: c.code,
                name: c.name,
                population: c.population,
                epci: c.epci,
                departement: c.departement,
            })
            .collect(),
    ))
}

struct Row {
    code: CommuneCode,
    name: String,
    population: String,
    epci: Option<String>,
    /// Whether the caller may open the commune's page.
    open: bool,
    email: Option<String>,
    phone: Option<String>,
    website: Option<String>,
}

#[derive(Template)]
#[template(path = "territory/communes.html")]
struct CommunesPage {
    chrome: Chrome,
    territory: String,
    departements: String,
    /// « 320 communes », « 1 commune ».
    count: String,
    population: String,
    /// « 36 mairies avec un contact connu ».
    with_contact: String,
    show_contacts: bool,
    rows: Vec<Row>,
}

/// `GET /territoire`: the list of the territory's communes.
async fn communes_page(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    let list: Vec<Commune> = communes(&state.db).await?;
    let named: Vec<String> = departement_codes(&state.db)
        .await?
        .iter()
        .map(|code| {
            departements::find(code)
                .map_or_else(|| code.clone(), |d| format!("{} ({code})", d.name))
        })
        .collect();
    let page = CommunesPage {
        chrome: Chrome::new("Territoire", Some(&caller)),
        territory: territory_name(&state.db).await?,
        departements: named.join(", "),
        population: fr::number(list.iter().map(|c| c.population).sum()),
        count: fr::count(list.len(), "commune", "communes"),
        with_contact: fr::count(
            list.iter()
                .filter(|c| c.email.is_some() || c.phone.is_some() || c.website.is_some())
                .count(),
            "mairie avec un contact connu",
            "mairies avec un contact connu",
        ),
        show_contacts: caller.is_staff(),
        rows: list.into_iter().map(|c| row(c, &caller)).collect(),
    };
    render(&page)
}

fn row(commune: Commune, caller: &Caller) -> Row {
    Row {
        open: caller.can_see_commune(&commune.code),
        population: fr::number(commune.population),
        epci: commune.epci,
        email: commune.email,
        phone: commune.phone,
        // Only http(s) addresses become links (the import already keeps
        // no other; this holds for rows written by anything else).
        website: commune
            .website
            .filter(|w| w.starts_with("https://") || w.starts_with("http://")),
        code: commune.code,
        name: commune.name,
    }
}
