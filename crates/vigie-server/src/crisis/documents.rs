//! The kit's documents through the one document engine (`vigie-docs`):
//! the loan form (`fiche-de-pret.typ`: every item of the handover, the
//! conditions of seed 002, the signature spaces), the return form
//! (`fiche-de-restitution.typ`: blank until the return is recorded) and
//! the wipe attestation (`attestation-effacement.typ`). Templates are data
//! a territory may override by name, like every other document.
//!
//! What it must never do: print another commune's loan (the handlers take
//! `visible_loan`), or date a document by the clock when a fact dates it
//! (the same loan gives the same form).

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Serialize;

use super::ledger::{self, Filter, Loan};
use super::rules::DataOutcome;
use super::{store, visible_loan};
use crate::accounts::Caller;
use crate::{AppError, AppState, fr};

pub const LOAN_TEMPLATE: &str = "fiche-de-pret.typ";
pub const RETURN_TEMPLATE: &str = "fiche-de-restitution.typ";
pub const WIPE_TEMPLATE: &str = "attestation-effacement.typ";

#[derive(Serialize)]
struct CommuneData {
    name: String,
    code: String,
}

fn commune(loan: &Loan) -> CommuneData {
    CommuneData {
        name: loan.commune_name.clone(),
        code: loan.commune.clone(),
    }
}

fn item(loan: &Loan) -> [String; 3] {
    [
        loan.item_label.clone(),
        loan.kind().label_fr().to_owned(),
        loan.identifiers_fr(),
    ]
}

/// « PR-3F2A… »: the handover's reference, short enough to read aloud.
fn reference(loan: &Loan) -> String {
    format!(
        "PR-{}",
        loan.handover
            .chars()
            .take(8)
            .collect::<String>()
            .to_uppercase()
    )
}

#[derive(Serialize)]
struct LoanData {
    title: String,
    commune: CommuneData,
    crisis: Option<String>,
    booking: Option<String>,
    holder: String,
    holder_role: String,
    lent: String,
    due: String,
    reference: String,
    items: Vec<[String; 3]>,
    signatory: Option<String>,
}

/// `GET /prets/{loan}/fiche-de-pret.pdf`: the form of the loan's whole
/// handover.
pub(super) async fn loan_form(
    State(state): State<AppState>,
    caller: Caller,
    Path(loan): Path<String>,
) -> Result<Response, AppError> {
    let loan = visible_loan(&state, &caller, &loan).await?;
    let handover = ledger::loans(
        &state.db,
        Filter {
            handover: Some(&loan.handover),
            ..Filter::default()
        },
    )
    .await?;
    let crisis = match loan.crisis_id {
        Some(id) => store::crisis(&state.db, id).await?.map(|c| {
            let since = c
                .started_day
                .parse()
                .map_or_else(|_| String::new(), fr::day);
            format!("attaque constatée le {since} ; {}", c.what)
        }),
        None => None,
    };
    let booking = match loan.booking_id {
        Some(id) => store::booking(&state.db, id).await?.map(|b| b.reason),
        None => None,
    };
    let data = LoanData {
        title: format!("Fiche de prêt du kit de crise — {}", loan.commune_name),
        commune: commune(&loan),
        crisis,
        booking,
        holder: loan.holder_name.clone(),
        holder_role: loan.holder_role.clone(),
        lent: fr::date_at(loan.lent_at),
        due: loan.due().map_or_else(String::new, fr::day_long),
        reference: reference(&loan),
        items: handover.iter().map(item).collect(),
        signatory: loan.signatory.clone(),
    };
    pdf(
        &state,
        LOAN_TEMPLATE,
        data,
        loan.lent_at,
        &format!("fiche-de-pret-{}", loan.id),
    )
    .await
}

#[derive(Serialize)]
struct ReturnData {
    title: String,
    commune: CommuneData,
    reference: String,
    item: [String; 3],
    holder: String,
    lent: String,
    due: String,
    returned: Option<String>,
    returned_by: String,
    condition: String,
    outcome: Option<&'static str>,
}

/// `GET /prets/{loan}/fiche-de-restitution.pdf`: blank to fill in by hand
/// before the return is recorded, filled in after.
pub(super) async fn return_form(
    State(state): State<AppState>,
    caller: Caller,
    Path(loan): Path<String>,
) -> Result<Response, AppError> {
    let loan = visible_loan(&state, &caller, &loan).await?;
    let data = ReturnData {
        title: format!(
            "Fiche de restitution du kit de crise — {}",
            loan.commune_name
        ),
        commune: commune(&loan),
        reference: reference(&loan),
        item: item(&loan),
        holder: format!("{} ({})", loan.holder_name, loan.holder_role),
        lent: fr::date(loan.lent_at),
        due: loan.due().map_or_else(String::new, fr::day),
        returned: loan.returned_at.map(fr::date_at),
        returned_by: loan.returned_by.clone().unwrap_or_default(),
        condition: loan.return_condition.clone().unwrap_or_default(),
        outcome: loan.outcome().map(DataOutcome::id),
    };
    let at = loan.returned_at.unwrap_or(loan.lent_at);
    pdf(
        &state,
        RETURN_TEMPLATE,
        data,
        at,
        &format!("fiche-de-restitution-{}", loan.id),
    )
    .await
}

#[derive(Serialize)]
struct WipeData {
    title: String,
    commune: CommuneData,
    reference: String,
    item: [String; 3],
    lent: String,
    returned: String,
    day: String,
    wiped_by: String,
    method: String,
    outcome: &'static str,
    date: String,
}

/// `GET /prets/{loan}/attestation-effacement.pdf`: once the wipe that
/// followed the loan is attested.
pub(super) async fn attestation(
    State(state): State<AppState>,
    caller: Caller,
    Path(loan): Path<String>,
) -> Result<Response, AppError> {
    let loan = visible_loan(&state, &caller, &loan).await?;
    let (Some(day), Some(returned)) = (loan.wipe_day.clone(), loan.returned_at) else {
        return Err(AppError::Conflict(format!(
            "« {} » n'est pas encore effacé depuis ce prêt : l'attestation sera disponible une fois l'effacement enregistré.",
            loan.item_label
        )));
    };
    let day = day.parse().map_or(day, fr::day_long);
    let data = WipeData {
        title: format!("Attestation d'effacement — {}", loan.item_label),
        commune: commune(&loan),
        reference: reference(&loan),
        item: item(&loan),
        lent: fr::date(loan.lent_at),
        returned: fr::date(returned),
        date: day.clone(),
        day,
        wiped_by: loan.wiped_by.clone().unwrap_or_default(),
        method: loan.wipe_method.clone().unwrap_or_default(),
        outcome: loan
            .outcome()
            .unwrap_or(DataOutcome::Destroyed)
            .sentence_fr(),
    };
    pdf(
        &state,
        WIPE_TEMPLATE,
        data,
        returned,
        &format!("attestation-effacement-{}", loan.id),
    )
    .await
}

async fn pdf<T: Serialize + Send + 'static>(
    state: &AppState,
    template: &'static str,
    data: T,
    at_ms: i64,
    name: &str,
) -> Result<Response, AppError> {
    let at = chrono::DateTime::from_timestamp_millis(at_ms).unwrap_or_default();
    let bytes = state.render_pdf(template, data, at).await?;
    Ok(crate::web::pdf(bytes, &format!("{name}.pdf")))
}
