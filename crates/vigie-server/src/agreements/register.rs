//! The register of processing activities (GDPR article 30, issue 12):
//! each offer's processing record as its agreement lists it (purposes,
//! data categories, people concerned, recipients, retention, processor
//! and sub-processors), for the territory's register (every offer of the
//! catalogue) or a commune's (the offers it has signed agreements for);
//! as a page, a PDF (`documents/registre-traitements.typ`) and a CSV
//! (`web::csv`: UTF-8 with BOM, `;`, one row per processing). The staff
//! see the territory's and any commune's; a commune user their own
//! commune's.
//!
//! What it must never do: show a commune user the territory's register
//! or another commune's (the route's extractors and [`for_caller`]), or
//! list for a commune an offer it has no signed agreement for.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use super::offers::{Catalogue, Offer};
use super::store;
use crate::accounts::{Caller, VisibleCommune};
use crate::territory::Commune;
use crate::web::csv::{Cell, CsvFile};
use crate::web::{Chrome, render};
use crate::{AppError, AppState, fr};

/// The CSV's columns, in order.
pub const CSV_HEADER: [&str; 11] = [
    "offre",
    "traitement",
    "responsable du traitement",
    "sous-traitant",
    "sous-traitants ultérieurs",
    "finalités",
    "catégories de données",
    "personnes concernées",
    "destinataires",
    "durée de conservation",
    "source",
];

/// Between the items of a list in one CSV cell.
const ITEMS: &str = " | ";

/// One processing, as the register prints it.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub offer: String,
    pub name: String,
    pub controller: String,
    pub processor: String,
    pub sub_processors: Vec<String>,
    pub purposes: Vec<String>,
    pub data: Vec<String>,
    pub people: Vec<String>,
    pub recipients: Vec<String>,
    pub retention: String,
    pub article: String,
}

impl Row {
    fn of(offer: &Offer) -> Row {
        let p = &offer.processing;
        Row {
            offer: offer.title.clone(),
            name: p.name.clone(),
            controller: p.controller.clone(),
            processor: p.processor.clone(),
            sub_processors: p.sub_processors.clone(),
            purposes: p.purposes.clone(),
            data: p.data.clone(),
            people: p.people.clone(),
            recipients: p.recipients.clone(),
            retention: p.retention.clone(),
            article: p.article.clone(),
        }
    }
}

/// A whole register.
#[derive(Clone, Debug, Serialize)]
pub struct Register {
    pub title: String,
    /// « Territoire : … » or « Commune de … (code) ».
    pub scope: String,
    pub date: String,
    pub intro: String,
    pub processings: Vec<Row>,
    /// For file names: `territoire` or the commune's code.
    #[serde(skip)]
    pub slug: String,
}

const TITLE: &str = "Registre des activités de traitement";

/// Every offer's processing: the territory's register.
pub fn territory(offers: &Catalogue, territory: &str) -> Register {
    Register {
        title: TITLE.to_owned(),
        scope: format!("Territoire : {territory}"),
        date: fr::day_long(super::today()),
        intro: "Les traitements de données personnelles des offres du programme, tels que \
                les conventions les décrivent (règlement (UE) 2016/679, article 30)."
            .to_owned(),
        processings: offers.all().map(Row::of).collect(),
        slug: "territoire".to_owned(),
    }
}

/// The processings of the offers `commune` has signed agreements for, in
/// the catalogue's order.
pub async fn commune(state: &AppState, commune: &Commune) -> Result<Register, AppError> {
    let agreements = store::of_commune(&state.db, commune.code.as_str()).await?;
    let signed = |offer: &Offer| {
        agreements
            .iter()
            .any(|a| a.offer == offer.id && a.facts.signed_on.is_some())
    };
    Ok(Register {
        title: TITLE.to_owned(),
        scope: format!("Commune de {} ({})", commune.name, commune.code),
        date: fr::day_long(super::today()),
        intro: "Les traitements de données personnelles des conventions signées par la \
                commune, tels qu'elles les décrivent, à reporter dans son registre \
                (règlement (UE) 2016/679, article 30)."
            .to_owned(),
        processings: state
            .settings
            .offers
            .all()
            .filter(|o| signed(o))
            .map(Row::of)
            .collect(),
        slug: commune.code.to_string(),
    })
}

/// The register `caller` reaches at `/registre-traitements`: the
/// territory's for the staff, their commune's for a commune user.
async fn for_caller(state: &AppState, caller: &Caller) -> Result<Register, AppError> {
    if caller.is_staff() {
        let name = crate::territory::territory_name(&state.db).await?;
        return Ok(territory(&state.settings.offers, &name));
    }
    let code = caller.commune.as_ref().ok_or(AppError::NotFound)?;
    let found = crate::territory::commune(&state.db, code.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    commune(state, &found).await
}

#[derive(Template)]
#[template(path = "agreements/register.html")]
struct RegisterPage {
    chrome: Chrome,
    register: Register,
    /// Where the PDF and the CSV are: `/registre-traitements` or
    /// `/communes/{code}/registre-traitements`.
    base: String,
}

fn page(caller: &Caller, register: Register, base: String) -> Result<Response, AppError> {
    render(&RegisterPage {
        chrome: Chrome::new(TITLE, Some(caller)),
        register,
        base,
    })
}

async fn pdf(state: &AppState, register: Register) -> Result<Response, AppError> {
    let name = format!("registre-traitements-{}.pdf", register.slug);
    let bytes = state
        .render_pdf("registre-traitements.typ", register, chrono::Utc::now())
        .await?;
    Ok(crate::web::pdf(bytes, &name))
}

/// The register as CSV: one row per processing, lists joined by ` | `.
pub fn csv(register: &Register) -> Result<CsvFile, AppError> {
    let mut file = CsvFile::new(&CSV_HEADER)?;
    for row in &register.processings {
        let lists = [
            row.sub_processors.join(ITEMS),
            row.purposes.join(ITEMS),
            row.data.join(ITEMS),
            row.people.join(ITEMS),
            row.recipients.join(ITEMS),
        ];
        let [sub, purposes, data, people, recipients] = &lists;
        file.row(&[
            Cell::Text(&row.offer),
            Cell::Text(&row.name),
            Cell::Text(&row.controller),
            Cell::Text(&row.processor),
            Cell::Text(sub),
            Cell::Text(purposes),
            Cell::Text(data),
            Cell::Text(people),
            Cell::Text(recipients),
            Cell::Text(&row.retention),
            Cell::Text(&row.article),
        ])?;
    }
    Ok(file)
}

/// `GET /registre-traitements`.
pub(super) async fn own_page(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    let register = for_caller(&state, &caller).await?;
    page(&caller, register, "/registre-traitements".to_owned())
}

/// `GET /registre-traitements.pdf`.
pub(super) async fn own_pdf(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    let register = for_caller(&state, &caller).await?;
    pdf(&state, register).await
}

/// `GET /registre-traitements.csv`.
pub(super) async fn own_csv(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    let register = for_caller(&state, &caller).await?;
    csv(&register)?.into_response("registre-traitements.csv")
}

/// `GET /communes/{code}/registre-traitements`.
pub(super) async fn commune_page(
    State(state): State<AppState>,
    caller: Caller,
    VisibleCommune(found): VisibleCommune,
) -> Result<Response, AppError> {
    let base = format!("/communes/{}/registre-traitements", found.code);
    page(&caller, commune(&state, &found).await?, base)
}

/// `GET /communes/{code}/registre-traitements.pdf`.
pub(super) async fn commune_pdf(
    State(state): State<AppState>,
    VisibleCommune(found): VisibleCommune,
) -> Result<Response, AppError> {
    let register = commune(&state, &found).await?;
    pdf(&state, register).await
}

/// `GET /communes/{code}/registre-traitements.csv`.
pub(super) async fn commune_csv(
    State(state): State<AppState>,
    VisibleCommune(found): VisibleCommune,
) -> Result<Response, AppError> {
    let register = commune(&state, &found).await?;
    csv(&register)?.into_response("registre-traitements-commune.csv")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_territorys_register_has_every_offer() {
        let offers = Catalogue::built_in().unwrap_or_default();
        let register = territory(&offers, "Loire");
        assert_eq!(register.processings.len(), offers.len());
        assert!(register.processings.iter().all(|p| !p.name.is_empty()));
        assert!(csv(&register).is_ok());
    }
}
