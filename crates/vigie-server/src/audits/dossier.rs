//! The diagnostic dossier (`/audits/{audit}/dossier.pdf`), through the
//! document engine (template `dossier-diagnostic.typ`): the commune's
//! identity, the scores per theme (a radar, with the round before for a
//! follow-up), the five most critical shortcomings, the action plan with
//! its costs, every answer, the probe's top ten and the sensor's last 90
//! days when they exist, and the signature block of the « procès-verbal
//! d'achèvement de phase ». Built from stored data only, dated by the last
//! answer: the same round gives the same document.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::questionnaire::{Kind, Who};
use super::store::{self, Audit};
use super::{Report, Scores, visible_audit};
use crate::accounts::Caller;
use crate::cybermeteo::weather::{Level, Thresholds};
use crate::territory::Commune;
use crate::{AppError, AppState, fr};

/// The template the dossier is set with (a territory may replace it).
pub const TEMPLATE: &str = "dossier-diagnostic.typ";

#[derive(Serialize)]
struct Data {
    title: String,
    commune: CommuneData,
    round: String,
    follow_up: bool,
    date: String,
    score: Option<u8>,
    before: Option<u8>,
    measures_met: usize,
    measures_assessed: usize,
    answered: usize,
    applicable: usize,
    themes: Vec<ThemeData>,
    top: Vec<ShortcomingData>,
    plan: Vec<PlanGroup>,
    /// « 350 à 1 300 € ».
    plan_investment: String,
    plan_yearly: String,
    changes: Option<ChangesData>,
    answers: Vec<AnswerSection>,
    probe: Option<ProbeData>,
    sensor: Option<SensorData>,
}

#[derive(Serialize)]
struct CommuneData {
    name: String,
    code: String,
    population: String,
}

#[derive(Serialize)]
struct ThemeData {
    title: String,
    score: Option<u8>,
    before: Option<u8>,
}

#[derive(Serialize)]
struct ShortcomingData {
    rank: usize,
    text: String,
    answer: String,
    action: String,
    who: &'static str,
    effort: &'static str,
    measures: String,
    because: Option<String>,
    /// The same weakness as the other side answered it.
    echoes: Vec<String>,
    cost: Option<String>,
}

#[derive(Serialize)]
struct PlanGroup {
    who: &'static str,
    actions: Vec<PlanAction>,
}

#[derive(Serialize)]
struct PlanAction {
    action: String,
    effort: &'static str,
    cost: Option<String>,
    buy: Option<String>,
}

#[derive(Serialize)]
struct ChangesData {
    improved: usize,
    still_open: usize,
    worse: usize,
    gained: String,
    lost: String,
    rows: Vec<[String; 4]>,
}

#[derive(Serialize)]
struct AnswerSection {
    title: String,
    rows: Vec<[String; 3]>,
}

#[derive(Serialize)]
struct ProbeData {
    date: String,
    top: Vec<[String; 3]>,
}

#[derive(Serialize)]
struct SensorData {
    days_reported: usize,
    inbound: String,
    outbound: String,
    worst: String,
}

/// « 120 à 250 € » (or « 120 € » when both ends meet).
fn euros(range: [u32; 2]) -> String {
    let [low, high] = range.map(i64::from);
    if low == high {
        format!("{} €", fr::number(low))
    } else {
        format!("{} à {} €", fr::number(low), fr::number(high))
    }
}

/// `GET /audits/{audit}/dossier.pdf`.
pub(super) async fn pdf(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let audit = visible_audit(&state, &caller, &id).await?;
    let commune = super::commune_of(&state, &audit).await?;
    let (bytes, day) = render(&state, &audit, &commune).await?;
    Ok(crate::web::pdf(
        bytes,
        &format!("dossier-diagnostic-{}-{day}.pdf", commune.code),
    ))
}

#[derive(askama::Template)]
#[template(path = "audits/dossier.html")]
struct DossierPage {
    chrome: crate::web::Chrome,
    id: String,
    d: Data,
}

/// `GET /audits/{audit}/dossier`: the same dossier as a page.
pub(super) async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let audit = visible_audit(&state, &caller, &id).await?;
    let commune = super::commune_of(&state, &audit).await?;
    let (data, _) = gather(&state, &audit, &commune).await?;
    crate::web::render(&DossierPage {
        chrome: crate::web::Chrome::new(data.title.clone(), Some(&caller)),
        id: audit.id.clone(),
        d: data,
    })
}

/// The dossier's data and its date (Unix ms): the last answer's.
async fn gather(
    state: &AppState,
    audit: &Audit,
    commune: &Commune,
) -> Result<(Data, i64), AppError> {
    let rows = store::answers(&state.db, &audit.id).await?;
    let at_ms = rows
        .iter()
        .map(|row| row.answered_at)
        .chain([audit.created_at])
        .max()
        .unwrap_or(audit.created_at);
    let report = Report::of(state, audit, at_ms).await?;
    Ok((
        data(state, audit, commune, &report, &rows, at_ms).await?,
        at_ms,
    ))
}

/// The dossier's PDF and its day (`YYYY-MM-DD`).
pub async fn render(
    state: &AppState,
    audit: &Audit,
    commune: &Commune,
) -> Result<(Vec<u8>, String), AppError> {
    // Dated by its last answer (or its start): the same round, the same
    // document, whenever it is printed.
    let (data, at_ms) = gather(state, audit, commune).await?;
    let at = chrono::DateTime::from_timestamp_millis(at_ms).unwrap_or_default();
    let day = vigie_core::local_day(at).to_string();
    let bytes = state.render_pdf(TEMPLATE, data, at).await?;
    Ok((bytes, day))
}

/// What a dossier says, read from the database, ready to be set: the two
/// halves of [`render`] apart, so `vigie bench dossiers` can tell the
/// queries' time from the typesetting's.
pub struct Gathered {
    data: Data,
    at: chrono::DateTime<chrono::Utc>,
    /// `YYYY-MM-DD`.
    pub day: String,
}

/// Reads everything the dossier of `audit` says (the first half of
/// [`render`]).
pub async fn gathered(
    state: &AppState,
    audit: &Audit,
    commune: &Commune,
) -> Result<Gathered, AppError> {
    let (data, at_ms) = gather(state, audit, commune).await?;
    let at = chrono::DateTime::from_timestamp_millis(at_ms).unwrap_or_default();
    let day = vigie_core::local_day(at).to_string();
    Ok(Gathered { data, at, day })
}

impl Gathered {
    /// Sets the dossier with `engine` (the second half of [`render`]):
    /// CPU-bound, for a blocking thread.
    pub fn pdf(&self, engine: &vigie_docs::Engine) -> Result<Vec<u8>, AppError> {
        engine
            .pdf(TEMPLATE, &self.data, self.at)
            .map_err(|e| AppError::Internal(format!("dossier: {e}")))
    }
}

async fn data(
    state: &AppState,
    audit: &Audit,
    commune: &Commune,
    report: &Report,
    rows: &[store::AnswerRow],
    at_ms: i64,
) -> Result<Data, AppError> {
    let book = &audit.book;
    let cost_of = |id: &Option<String>| id.as_deref().and_then(|id| book.cost(id));
    let comparison = report.comparison.as_ref();
    let top = report
        .top()
        .iter()
        .enumerate()
        .map(|(index, s)| ShortcomingData {
            rank: index + 1,
            text: s.text.clone(),
            answer: s.answer.clone(),
            action: s.action.clone(),
            who: s.who.label(),
            effort: s.effort,
            measures: s
                .measures
                .iter()
                .map(|m| format!("n° {m}"))
                .collect::<Vec<_>>()
                .join(", "),
            because: s.because.clone(),
            echoes: s.echoes.iter().map(super::score::Echo::sentence).collect(),
            cost: cost_of(&s.cost).map(|c| format!("{} : {}", c.label, euros(c.investment))),
        })
        .collect();
    // The action plan: every shortcoming's action, by who does it, most
    // critical first; a cost counted once however many actions share it.
    let mut groups: BTreeMap<u8, (Who, Vec<PlanAction>)> = BTreeMap::new();
    let mut counted = std::collections::BTreeSet::new();
    let (mut investment, mut yearly) = ([0u32; 2], [0u32; 2]);
    for s in &report.shortcomings {
        let order = match s.who {
            Who::Commune => 0,
            Who::Prestataire => 1,
            Who::Territoire => 2,
        };
        let cost = cost_of(&s.cost);
        if let Some(cost) = cost
            && counted.insert(cost.id.clone())
        {
            for i in 0..2 {
                investment[i] = investment[i].saturating_add(cost.investment[i]);
                yearly[i] = yearly[i].saturating_add(cost.yearly[i]);
            }
        }
        groups
            .entry(order)
            .or_insert((s.who, Vec::new()))
            .1
            .push(PlanAction {
                action: s.action.clone(),
                effort: s.effort,
                cost: cost
                    .map(|c| format!("{} ; puis {} par an", euros(c.investment), euros(c.yearly))),
                buy: cost.map(|c| c.buy.clone()),
            });
    }
    let plan = groups
        .into_values()
        .map(|(who, actions)| PlanGroup {
            who: match who {
                Who::Commune => "La mairie",
                Who::Prestataire => "Le prestataire informatique",
                Who::Territoire => "L'équipe du territoire",
            },
            actions,
        })
        .collect();
    let by_question: BTreeMap<&str, &store::AnswerRow> = rows
        .iter()
        .map(|row| (row.question.as_str(), row))
        .collect();
    let answers = book
        .questionnaires
        .iter()
        .flat_map(|q| q.themes.iter().map(move |theme| (q, theme)))
        .map(|(q, theme)| AnswerSection {
            title: format!("{} — {}", q.title, theme.title),
            rows: q
                .questions
                .iter()
                .filter(|question| question.theme == theme.id)
                .map(|question| {
                    let row = by_question.get(question.id.as_str());
                    let answer = row.map_or_else(
                        || "sans réponse".to_owned(),
                        |row| {
                            if q.kind == Kind::Scored {
                                question
                                    .answers()
                                    .into_iter()
                                    .find(|a| a.id == row.answer)
                                    .map_or_else(|| row.answer.clone(), |a| a.label)
                            } else {
                                question
                                    .options
                                    .iter()
                                    .find(|o| o.id == row.answer)
                                    .map(|o| o.label.clone())
                                    .unwrap_or_else(|| match row.answer.as_str() {
                                        "yes" => "Oui".to_owned(),
                                        "no" => "Non".to_owned(),
                                        other => other.to_owned(),
                                    })
                            }
                        },
                    );
                    [
                        question.text.clone(),
                        answer,
                        row.map(|r| r.comment.clone()).unwrap_or_default(),
                    ]
                })
                .collect(),
        })
        .collect();
    let changes = comparison.map(|c| ChangesData {
        improved: c.count(super::Trend::Improved),
        still_open: c.count(super::Trend::StillOpen),
        worse: c.count(super::Trend::Worse),
        gained: c
            .measures_gained
            .iter()
            .map(|m| format!("n° {m}"))
            .collect::<Vec<_>>()
            .join(", "),
        lost: c
            .measures_lost
            .iter()
            .map(|m| format!("n° {m}"))
            .collect::<Vec<_>>()
            .join(", "),
        rows: c
            .questions
            .iter()
            .filter(|q| q.trend != super::Trend::Kept)
            .map(|q| {
                [
                    q.text.clone(),
                    q.before.clone().unwrap_or_else(|| "—".to_owned()),
                    q.after.clone(),
                    q.trend.label().to_owned(),
                ]
            })
            .collect(),
    });
    Ok(Data {
        title: format!("Dossier de diagnostic de cybersécurité — {}", commune.name),
        commune: CommuneData {
            name: commune.name.clone(),
            code: commune.code.to_string(),
            population: if commune.population > 0 {
                fr::plural(commune.population, "habitant", "habitants")
            } else {
                "population inconnue".to_owned()
            },
        },
        round: if audit.round <= 1 {
            "Diagnostic (étape 1 du parcours)".to_owned()
        } else {
            format!(
                "Suivi n° {} (étape {} du parcours)",
                audit.round - 1,
                audit.round
            )
        },
        follow_up: comparison.is_some(),
        date: fr::date(at_ms),
        score: report.scores.overall,
        before: comparison.and_then(|c| c.before.overall),
        measures_met: report.scores.measures_met,
        measures_assessed: report.scores.measures_assessed,
        answered: report.scores.answered,
        applicable: report.scores.applicable,
        themes: report
            .scores
            .themes
            .iter()
            .map(|t| ThemeData {
                title: t.title.clone(),
                score: t.score,
                before: comparison.and_then(|c| c.theme_before(&t.id)),
            })
            .collect(),
        top,
        plan,
        plan_investment: euros(investment),
        plan_yearly: euros(yearly),
        changes,
        answers,
        probe: probe(state, &commune.code).await?,
        sensor: sensor(state, commune, at_ms).await?,
    })
}

async fn probe(state: &AppState, commune: &str) -> Result<Option<ProbeData>, AppError> {
    let Some(scan) = crate::probes::last_scan(&state.db, commune).await? else {
        return Ok(None);
    };
    let document = crate::probes::document(&state.db, scan.id).await?;
    Ok(Some(ProbeData {
        date: fr::date(scan.finished_at),
        top: document
            .top
            .iter()
            .map(|t| {
                [
                    t.title.clone(),
                    vigie_docs::probe::severity_label(t.severity).to_owned(),
                    t.recommendation.clone(),
                ]
            })
            .collect(),
    }))
}

async fn sensor(
    state: &AppState,
    commune: &Commune,
    at_ms: i64,
) -> Result<Option<SensorData>, AppError> {
    let to =
        vigie_core::local_day(chrono::DateTime::from_timestamp_millis(at_ms).unwrap_or_default());
    let from = to - chrono::Duration::days(89);
    let thresholds = Thresholds::load(&state.db).await?;
    let days =
        crate::cybermeteo::history::days(&state.db, &commune.code, from, to, thresholds).await?;
    let reported: Vec<_> = days.iter().filter(|d| d.level != Level::NoData).collect();
    if reported.is_empty() {
        return Ok(None);
    }
    let inbound = reported
        .iter()
        .map(|d| d.inbound)
        .fold(0i64, i64::saturating_add);
    let outbound = reported
        .iter()
        .map(|d| d.outbound)
        .fold(0i64, i64::saturating_add);
    let worst = reported
        .iter()
        .max_by_key(|d| d.score)
        .map(|d| {
            format!(
                "{} ({})",
                d.day.format("%d/%m/%Y"),
                d.level.label_fr().to_lowercase()
            )
        })
        .unwrap_or_default();
    Ok(Some(SensorData {
        days_reported: reported.len(),
        inbound: fr::plural(inbound, "tentative d'attaque", "tentatives d'attaque"),
        outbound: fr::plural(outbound, "alerte sortante", "alertes sortantes"),
        worst,
    }))
}

/// The « procès-verbal de fin de mission », prefilled from the commune's
/// rounds: each step with its date and score, what the path achieved.
pub const CLOSING_TEMPLATE: &str = "pv-fin-de-mission.typ";

#[derive(Serialize)]
struct ClosingData {
    title: String,
    commune: CommuneData,
    rounds: Vec<[String; 3]>,
    first: Option<u8>,
    last: Option<u8>,
    measures_first: String,
    measures_last: String,
    date: String,
}

/// `GET /audits/{audit}/pv-fin-de-mission.pdf`: the minutes of the end
/// of the path, as of this round (the last one, normally).
pub(super) async fn closing_minutes(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let last = visible_audit(&state, &caller, &id).await?;
    let commune = super::commune_of(&state, &last).await?;
    // The chain of rounds, first to this one.
    let mut chain = vec![last.clone()];
    while let Some(previous) = chain.last().and_then(|a| a.previous.clone()) {
        if chain.len() > 20 {
            break;
        }
        match store::get(&state.db, &previous).await? {
            Some(round) => chain.push(round),
            None => break,
        }
    }
    chain.reverse();
    let mut rounds = Vec::new();
    let mut scores = Vec::new();
    let mut at_ms = last.created_at;
    for round in &chain {
        let answers = store::answers(&state.db, &round.id).await?;
        at_ms = at_ms.max(answers.iter().map(|a| a.answered_at).max().unwrap_or(0));
        let map = answers
            .into_iter()
            .map(|row| (row.question, row.answer))
            .collect();
        let score = super::score::scores(&round.book, &map);
        rounds.push([
            if round.round <= 1 {
                "Diagnostic".to_owned()
            } else {
                format!("Suivi n° {}", round.round - 1)
            },
            fr::date(round.created_at),
            score
                .overall
                .map_or_else(|| "—".to_owned(), |s| format!("{s} / 100")),
        ]);
        scores.push(score);
    }
    let measures = |s: Option<&Scores>| {
        s.map_or_else(String::new, |s| {
            format!("{} sur {}", s.measures_met, s.measures_assessed)
        })
    };
    let data = ClosingData {
        title: format!("Procès-verbal de fin de mission — {}", commune.name),
        commune: CommuneData {
            name: commune.name.clone(),
            code: commune.code.to_string(),
            population: fr::plural(commune.population.max(0), "habitant", "habitants"),
        },
        rounds,
        first: scores.first().and_then(|s| s.overall),
        last: scores.last().and_then(|s| s.overall),
        measures_first: measures(scores.first()),
        measures_last: measures(scores.last()),
        date: fr::date(at_ms),
    };
    let at = chrono::DateTime::from_timestamp_millis(at_ms).unwrap_or_default();
    let bytes = state.render_pdf(CLOSING_TEMPLATE, data, at).await?;
    Ok(crate::web::pdf(
        bytes,
        &format!("pv-fin-de-mission-{}.pdf", commune.code),
    ))
}

/// The security requirements annex of the commune's next IT procurement.
pub const ANNEX_TEMPLATE: &str = "annexe-securite.typ";

#[derive(Serialize)]
struct AnnexData {
    title: String,
    commune: String,
    intro: String,
    sections: Vec<AnnexSection>,
}

#[derive(Serialize)]
struct AnnexSection {
    title: String,
    requirements: Vec<String>,
}

/// The annex's text, from the round's provider questionnaires.
fn annex(audit: &Audit, commune: &Commune) -> AnnexData {
    let sections = audit
        .book
        .questionnaires
        .iter()
        .filter(|q| {
            q.audience == super::questionnaire::Audience::Provider && q.kind == Kind::Scored
        })
        .flat_map(|q| {
            q.themes.iter().map(move |theme| AnnexSection {
                title: theme.title.clone(),
                requirements: q
                    .questions
                    .iter()
                    .filter(|question| {
                        question.theme == theme.id && !question.requirement.is_empty()
                    })
                    .map(|question| question.requirement.clone())
                    .collect(),
            })
        })
        .filter(|section| !section.requirements.is_empty())
        .collect();
    AnnexData {
        title: format!(
            "Exigences de sécurité informatique — commune de {}",
            commune.name
        ),
        commune: commune.name.clone(),
        intro: format!(
            "Annexe au cahier des clauses techniques du marché de maintenance et d'infogérance informatique de la commune de {}. Le titulaire respecte les exigences suivantes, tirées des mesures d'hygiène informatique de l'ANSSI, et justifie de leur mise en œuvre à la demande de la commune.",
            commune.name
        ),
        sections,
    }
}

/// `GET /audits/{audit}/annexe-securite.pdf` or `.docx`: the annex, as a
/// PDF through the document engine or as an editable DOCX.
pub(super) async fn annex_document(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> Result<Response, AppError> {
    let audit = visible_audit(&state, &caller, &id).await?;
    let commune = super::commune_of(&state, &audit).await?;
    let data = annex(&audit, &commune);
    let file = format!("annexe-securite-{}", commune.code);
    if uri.path().ends_with(".docx") {
        let mut blocks = vec![
            vigie_docs::docx::Block::Title(data.title.clone()),
            vigie_docs::docx::Block::Paragraph(data.intro.clone()),
        ];
        for section in &data.sections {
            blocks.push(vigie_docs::docx::Block::Heading(section.title.clone()));
            blocks.extend(
                section
                    .requirements
                    .iter()
                    .cloned()
                    .map(vigie_docs::docx::Block::Requirement),
            );
        }
        let bytes = vigie_docs::docx::docx(&blocks)
            .map_err(|e| AppError::Internal(format!("annex: {e}")))?;
        return Ok((
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                        .to_owned(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{file}.docx\""),
                ),
            ],
            bytes,
        )
            .into_response());
    }
    let at = chrono::DateTime::from_timestamp_millis(audit.created_at).unwrap_or_default();
    let bytes = state.render_pdf(ANNEX_TEMPLATE, data, at).await?;
    Ok(crate::web::pdf(bytes, &format!("{file}.pdf")))
}
