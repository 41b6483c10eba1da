//! The campaigns' pages: the staff's list and form, a commune's
//! campaigns, and a campaign's page with its figures as they come in,
//! then what is left after the purge.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Redirect, Response};
use serde::Deserialize;

use super::results::{Figures, Summary};
use super::store::{self, Campaign, Status};
use super::targets::{self, Role};
use super::{Request, create_campaign, purge_campaign, visible_campaign};
use crate::accounts::{Caller, CsrfForm, CsrfMultipart, Staff, VisibleCommune};
use crate::db::now_ms;
use crate::fr;
use crate::territory::Commune;
use crate::web::upload as form;
use crate::web::{Chrome, render};
use crate::{AppError, AppState};

/// A campaign in a list.
struct ListRow {
    id: String,
    commune: String,
    dates: String,
    status: &'static str,
    targets: String,
    clicked: String,
}

#[derive(Template)]
#[template(path = "phishing/list.html")]
struct ListPage {
    chrome: Chrome,
    /// The commune of a commune's list; none for the staff's whole list.
    commune: Option<Commune>,
    rows: Vec<ListRow>,
    can_create: bool,
}

async fn list_rows(state: &AppState, campaigns: &[Campaign]) -> Result<Vec<ListRow>, AppError> {
    state.tracker.flush(&state.db, now_ms()).await?;
    let mut rows = Vec::with_capacity(campaigns.len());
    for campaign in campaigns {
        let summary = store::summary(&state.db, campaign).await?;
        let name = crate::territory::commune(&state.db, &campaign.commune)
            .await?
            .map_or_else(|| campaign.commune.clone(), |c| c.name);
        rows.push(ListRow {
            id: campaign.id.clone(),
            commune: name,
            dates: dates(campaign),
            status: campaign
                .status(chrono::Utc::now(), summary.total.sent)
                .label_fr(),
            targets: fr::plural(
                i64::try_from(summary.total.targets).unwrap_or(i64::MAX),
                "personne",
                "personnes",
            ),
            clicked: if summary.total.sent == 0 {
                "aucun envoi encore".to_owned()
            } else {
                fr::percent(summary.total.rate(summary.total.clicked))
            },
        });
    }
    Ok(rows)
}

/// « du 3 au 14 mars 2026 », « le 3 mars 2026 ».
fn dates(campaign: &Campaign) -> String {
    fr::day_range(campaign.start, campaign.end)
}

/// `/campagnes`: every commune's campaigns (staff).
pub(super) async fn all(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> Result<Response, AppError> {
    let campaigns = store::list(&state.db, None).await?;
    render(&ListPage {
        chrome: Chrome::new("Campagnes de sensibilisation", Some(&caller)),
        commune: None,
        rows: list_rows(&state, &campaigns).await?,
        can_create: true,
    })
}

/// `/communes/{code}/campagnes`: the commune's campaigns.
pub(super) async fn of_commune(
    State(state): State<AppState>,
    caller: Caller,
    VisibleCommune(commune): VisibleCommune,
) -> Result<Response, AppError> {
    let campaigns = store::list(&state.db, Some(&commune.code)).await?;
    render(&ListPage {
        chrome: Chrome::new(
            format!("Campagnes de sensibilisation — {}", commune.name),
            Some(&caller),
        ),
        rows: list_rows(&state, &campaigns).await?,
        commune: Some(commune),
        can_create: caller.is_staff(),
    })
}

#[derive(Template)]
#[template(path = "phishing/new.html")]
struct NewPage {
    chrome: Chrome,
    communes: Vec<(String, String)>,
    scenarios: Vec<(String, String)>,
    form: FormValues,
    error: Option<String>,
}

/// What the form holds, given back as typed when something is wrong.
#[derive(Clone, Debug, Default)]
struct FormValues {
    commune: String,
    scenarios: Vec<String>,
    targets: String,
    role: String,
    start: String,
    end: String,
    rate: String,
}

#[derive(Deserialize)]
pub(super) struct NewQuery {
    commune: Option<String>,
}

/// `/campagnes/nouvelle?commune=`: the form that starts a campaign.
pub(super) async fn new_form(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(query): Query<NewQuery>,
) -> Result<Response, AppError> {
    let today = crate::cybermeteo::today();
    let form = FormValues {
        commune: query.commune.unwrap_or_default(),
        scenarios: state
            .settings
            .scenarios
            .all()
            .map(|s| s.id.clone())
            .collect(),
        role: "agent".to_owned(),
        start: today.to_string(),
        end: (today + chrono::Duration::days(14)).to_string(),
        ..FormValues::default()
    };
    new_page(&state, &caller, form, None).await
}

async fn new_page(
    state: &AppState,
    caller: &Caller,
    form: FormValues,
    error: Option<String>,
) -> Result<Response, AppError> {
    let communes = crate::territory::communes(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.code.to_string(), c.name))
        .collect();
    render(&NewPage {
        chrome: Chrome::new("Nouvelle campagne de sensibilisation", Some(caller)),
        communes,
        scenarios: state
            .settings
            .scenarios
            .all()
            .map(|s| (s.id.clone(), s.title.clone()))
            .collect(),
        form,
        error,
    })
}

/// `POST /campagnes`: the form sent (multipart: the targets may come as
/// a file). Errors come back on the form, with everything as typed.
pub(super) async fn create(
    State(state): State<AppState>,
    Staff(caller): Staff,
    mut upload: CsrfMultipart,
) -> Result<Response, AppError> {
    let sent = form::read(
        &mut upload.form()?,
        &[
            "csrf", "commune", "scenario", "targets", "role", "start", "end", "rate",
        ],
        "targets_file",
    )
    .await
    .map_err(|e| AppError::BadRequest(format!("envoi illisible : {}", e.body_text())))?;
    let text = |name: &str| sent.text(name).unwrap_or_default().to_owned();
    let mut form = FormValues {
        commune: text("commune"),
        scenarios: sent.texts("scenario"),
        targets: text("targets"),
        role: text("role"),
        start: text("start"),
        end: text("end"),
        rate: text("rate"),
    };
    let file = sent
        .file
        .as_ref()
        .map(|(_, bytes)| bytes.to_vec())
        .unwrap_or_default();
    upload.check(Some(sent.text("csrf").unwrap_or_default()))?;
    if !file.is_empty() {
        // A file chosen wins over the box; shown back in it if wrong.
        form.targets = String::from_utf8(file).map_err(|_| {
            AppError::BadRequest(
                "Le fichier des destinataires n'est pas en UTF-8 : dans le tableur, enregistrez-le \
                 en « CSV UTF-8 » puis choisissez-le de nouveau."
                    .to_owned(),
            )
        })?;
    }
    match from_form(&form) {
        Ok(request) => match create_campaign(&state, &caller, request).await {
            Ok(id) => Ok(Redirect::to(&format!("/campagnes/{id}")).into_response()),
            Err(AppError::BadRequest(message) | AppError::Unprocessable(message)) => {
                new_page(&state, &caller, form, Some(message)).await
            }
            Err(other) => Err(other),
        },
        Err(message) => new_page(&state, &caller, form, Some(message)).await,
    }
}

use axum::response::IntoResponse;

fn from_form(form: &FormValues) -> Result<Request, String> {
    let day = |text: &str, what: &str| {
        text.trim()
            .parse::<chrono::NaiveDate>()
            .map_err(|_| format!("{what} : indiquez une date (jj/mm/aaaa)."))
    };
    let rate =
        match form.rate.trim() {
            "" => None,
            text => Some(text.parse::<u32>().map_err(|_| {
                format!("Rythme : « {text} » n'est pas un nombre d'envois par heure.")
            })?),
        };
    let text = form.targets.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or_default().to_lowercase();
    // A pasted CSV starts with its header; anything else is addresses.
    let targets = if first.contains("mail") || first.contains("courriel") {
        targets::from_csv(text.as_bytes())
    } else {
        let role = if form.role == "elu" {
            Role::Elected
        } else {
            Role::Agent
        };
        targets::from_pasted(text, role)
    }
    .map_err(|errors| errors.to_string())?;
    Ok(Request {
        commune: form.commune.clone(),
        scenarios: form.scenarios.clone(),
        targets,
        start: day(&form.start, "Premier jour")?,
        end: day(&form.end, "Dernier jour")?,
        rate_per_hour: rate,
    })
}

/// A line of figures: people, and the share of those sent the mail.
struct FigureRow {
    label: String,
    sent: String,
    opened: String,
    clicked: String,
    submitted: String,
}

impl FigureRow {
    fn of(label: String, f: &Figures) -> FigureRow {
        let cell = |n: u64| {
            format!(
                "{} ({})",
                fr::number(i64::try_from(n).unwrap_or(i64::MAX)),
                fr::percent(f.rate(n))
            )
        };
        FigureRow {
            label,
            sent: fr::number(i64::try_from(f.sent).unwrap_or(i64::MAX)),
            opened: cell(f.opened),
            clicked: cell(f.clicked),
            submitted: cell(f.submitted),
        }
    }
}

#[derive(Template)]
#[template(path = "phishing/show.html")]
struct ShowPage {
    chrome: Chrome,
    id: String,
    commune: Commune,
    dates: String,
    status: Status,
    status_label: &'static str,
    scenarios: String,
    total: FigureRow,
    by_role: Vec<FigureRow>,
    by_scenario: Vec<FigureRow>,
    days: Vec<(String, String, String, String)>,
    scanners: String,
    purge: String,
    is_staff: bool,
}

/// `/campagnes/{campaign}`: where it stands, its figures, its purge.
pub(super) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let campaign = visible_campaign(&state, &caller, &id).await?;
    state.tracker.flush(&state.db, now_ms()).await?;
    let summary: Summary = store::summary(&state.db, &campaign).await?;
    let commune = crate::territory::commune(&state.db, &campaign.commune)
        .await?
        .ok_or(AppError::NotFound)?;
    let library = &state.settings.scenarios;
    let title = |id: &str| {
        library
            .get(id)
            .map_or_else(|| id.to_owned(), |s| s.title.clone())
    };
    let status = campaign.status(chrono::Utc::now(), summary.total.sent);
    render(&ShowPage {
        chrome: Chrome::new(
            format!("Campagne de sensibilisation — {}", commune.name),
            Some(&caller),
        ),
        id: campaign.id.clone(),
        dates: dates(&campaign),
        status,
        status_label: status.label_fr(),
        scenarios: campaign
            .scenarios
            .iter()
            .map(|s| title(s))
            .collect::<Vec<_>>()
            .join(", "),
        total: FigureRow::of("Ensemble".to_owned(), &summary.total),
        by_role: summary
            .by_role
            .iter()
            .map(|(role, f)| {
                FigureRow::of(
                    Role::parse(role).map_or_else(|| role.clone(), |r| r.heading_fr().to_owned()),
                    f,
                )
            })
            .collect(),
        by_scenario: summary
            .by_scenario
            .iter()
            .map(|(s, f)| FigureRow::of(title(s), f))
            .collect(),
        days: summary
            .days
            .iter()
            .map(|d| {
                let n = |v: u64| fr::number(i64::try_from(v).unwrap_or(i64::MAX));
                (fr::day(d.day), n(d.opened), n(d.clicked), n(d.submitted))
            })
            .collect(),
        scanners: super::deliverable::scanners_sentence(summary.total.scanner_clicks),
        purge: match campaign.purged_at {
            Some(at) => format!(
                "Les adresses, les jetons et le détail des événements ont été effacés le {} : seuls les chiffres ci-dessus restent.",
                fr::date_at(at)
            ),
            None => format!(
                "Les adresses, les jetons et le détail des événements seront effacés le {} ; seuls les chiffres globaux resteront.",
                fr::long_date(campaign.purge_due_at)
            ),
        },
        is_staff: caller.is_staff(),
        commune,
    })
}

#[derive(Deserialize)]
pub(super) struct PurgeForm {
    #[serde(default)]
    confirm: String,
}

/// `POST /campagnes/{campaign}/purge`: now, once the box is ticked.
pub(super) async fn purge(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<PurgeForm>,
) -> Result<Response, AppError> {
    let campaign = visible_campaign(&state, &caller, &id).await?;
    if form.confirm != "oui" {
        return Err(AppError::BadRequest(
            "Cochez la case de confirmation pour effacer les données de la campagne.".to_owned(),
        ));
    }
    purge_campaign(&state, Some(&caller), &campaign).await?;
    Ok(Redirect::to(&format!("/campagnes/{}", campaign.id)).into_response())
}
