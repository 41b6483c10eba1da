//! The pre-audit as a town hall fills it in: a commune's rounds, one
//! round's overview (progress, scores, the five most critical shortcomings
//! and, for a follow-up, what changed), and the questions one theme per
//! page. Each page's form saves everything it shows; with JavaScript each
//! answer is also saved as it is given (`/static/vigie.js`), so closing
//! the tab loses nothing.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::questionnaire::{Audience, Field, Kind, Questionnaire, Theme};
use super::store::{self, AnswerRow, AuditSummary};
use super::{Report, current_book, visible_audit};
use crate::accounts::VisibleCommune;
use crate::accounts::{Caller, CsrfForm, Staff, audit};
use crate::db::now_ms;
use crate::territory::Commune;
use crate::web::{Chrome, render};
use crate::{AppError, AppState, fr};

/// « Diagnostic », « Suivi n° 1 »…
fn round_label(round: i64) -> String {
    if round <= 1 {
        "Diagnostic".to_owned()
    } else {
        format!("Suivi n° {}", round - 1)
    }
}

#[derive(Template)]
#[template(path = "audits/history.html")]
struct HistoryPage {
    chrome: Chrome,
    commune: Commune,
    rows: Vec<HistoryRow>,
    can_start: bool,
}

struct HistoryRow {
    id: String,
    label: String,
    date: String,
    score: String,
}

/// `/communes/{code}/audits`: the commune's rounds, newest first.
pub(super) async fn history(
    State(state): State<AppState>,
    caller: Caller,
    VisibleCommune(commune): VisibleCommune,
) -> Result<Response, AppError> {
    let rounds: Vec<AuditSummary> = store::history(&state.db, &commune.code).await?;
    let mut rows = Vec::with_capacity(rounds.len());
    for round in rounds {
        let score = match store::get(&state.db, &round.id).await? {
            Some(audit) => {
                let answers = store::answer_map(&state.db, &audit.id).await?;
                super::score::scores(&audit.book, &answers)
                    .overall
                    .map_or_else(
                        || "pas encore de réponse".to_owned(),
                        |s| format!("{s} / 100"),
                    )
            }
            None => String::new(),
        };
        rows.push(HistoryRow {
            id: round.id,
            label: round_label(round.round),
            date: fr::date(round.created_at),
            score,
        });
    }
    render(&HistoryPage {
        chrome: Chrome::new(format!("Pré-audit — {}", commune.name), Some(&caller)),
        can_start: caller.is_staff(),
        commune,
        rows,
    })
}

/// `POST /communes/{code}/audits`: the staff starts a first round.
pub(super) async fn start(
    State(state): State<AppState>,
    Staff(caller): Staff,
    VisibleCommune(commune): VisibleCommune,
    _: CsrfForm,
) -> Result<Response, AppError> {
    let book = current_book(&state);
    let id = store::create(&state.db, &commune.code, &book, caller.user_id, now_ms()).await?;
    audit(
        &state.db,
        Some(caller.user_id),
        "audit_create",
        &format!("audit {id} of commune {}", commune.code),
    )
    .await;
    Ok(Redirect::to(&format!("/audits/{id}")).into_response())
}

/// `POST /audits/{audit}/suivi`: the staff starts the next round.
pub(super) async fn follow_up(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<String>,
    _: CsrfForm,
) -> Result<Response, AppError> {
    let previous = visible_audit(&state, &caller, &id).await?;
    let book = current_book(&state);
    let id = store::follow_up(&state.db, &previous, &book, caller.user_id, now_ms()).await?;
    audit(
        &state.db,
        Some(caller.user_id),
        "audit_follow_up",
        &format!("audit {id} follows {}", previous.id),
    )
    .await;
    Ok(Redirect::to(&format!("/audits/{id}")).into_response())
}

/// A page of questions: one theme of one questionnaire.
pub(super) struct PageRef<'a> {
    questionnaire: &'a Questionnaire,
    theme: &'a Theme,
}

fn pages(book: &super::Book) -> Vec<PageRef<'_>> {
    pages_for(book, None)
}

/// The pages of the questionnaires for `audience` (all of them for `None`).
pub(super) fn pages_for(book: &super::Book, audience: Option<Audience>) -> Vec<PageRef<'_>> {
    book.questionnaires
        .iter()
        .filter(|q| audience.is_none_or(|a| q.audience == a))
        .flat_map(|questionnaire| {
            questionnaire.themes.iter().map(move |theme| PageRef {
                questionnaire,
                theme,
            })
        })
        .collect()
}

#[derive(Template)]
#[template(path = "audits/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    commune: Commune,
    id: String,
    label: String,
    date: String,
    report: Report,
    sections: Vec<Section>,
    percent_answered: u32,
    can_follow_up: bool,
    providers: Vec<ProviderLine>,
    files: Vec<super::files::StoredFile>,
    /// The questions a file may support: (id, text).
    file_questions: Vec<(String, String)>,
}

struct ProviderLine {
    created: String,
    name: String,
    email: String,
    state: String,
    answers: usize,
}

struct Section {
    page: usize,
    questionnaire: String,
    title: String,
    score: Option<u8>,
    before: Option<u8>,
    answered: usize,
    questions: usize,
}

/// `/audits/{audit}`: where the round stands.
pub(super) async fn overview(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let audit = visible_audit(&state, &caller, &id).await?;
    let commune = super::commune_of(&state, &audit).await?;
    let report = Report::of(&state, &audit, now_ms()).await?;
    let facts = audit.book.facts(&report.answers);
    let sections = pages(&audit.book)
        .into_iter()
        .enumerate()
        .map(|(page, p)| {
            let asked: Vec<_> = p
                .questionnaire
                .questions
                .iter()
                .filter(|q| q.theme == p.theme.id && audit.book.applies(q, &facts))
                .collect();
            Section {
                page,
                questionnaire: p.questionnaire.title.clone(),
                title: p.theme.title.clone(),
                score: report
                    .scores
                    .themes
                    .iter()
                    .find(|t| t.id == p.theme.id && p.questionnaire.kind == Kind::Scored)
                    .and_then(|t| t.score),
                before: report
                    .comparison
                    .as_ref()
                    .and_then(|c| c.theme_before(&p.theme.id)),
                answered: asked
                    .iter()
                    .filter(|q| report.answers.contains_key(&q.id))
                    .count(),
                questions: asked.len(),
            }
        })
        .collect::<Vec<_>>();
    let (answered, total) = sections
        .iter()
        .fold((0, 0), |(a, t), s| (a + s.answered, t + s.questions));
    let percent_answered = (answered * 100)
        .checked_div(total)
        .map_or(0, |p| u32::try_from(p).unwrap_or(100));
    let rows = store::answers(&state.db, &audit.id).await?;
    let now = now_ms();
    let providers = super::providers::list(&state.db, &audit.id)
        .await?
        .into_iter()
        .map(|p| {
            let by = format!("provider:{}", p.id);
            ProviderLine {
                answers: rows.iter().filter(|r| r.answered_by == by).count(),
                state: p.state(now),
                created: fr::date(p.created_at),
                name: p.name,
                email: p.email,
            }
        })
        .collect();
    let files = super::files::list(&state.db, &audit.id).await?;
    let file_questions = audit
        .book
        .questions()
        .filter(|(_, q)| q.is_scored())
        .map(|(_, q)| (q.id.clone(), q.text.chars().take(90).collect::<String>()))
        .collect();
    render(&OverviewPage {
        providers,
        files,
        file_questions,
        chrome: Chrome::new(
            format!(
                "Pré-audit — {} — {}",
                commune.name,
                round_label(audit.round)
            ),
            Some(&caller),
        ),
        commune,
        id: audit.id.clone(),
        label: round_label(audit.round),
        date: fr::date(audit.created_at),
        report,
        sections,
        percent_answered,
        can_follow_up: caller.is_staff(),
    })
}

#[derive(Deserialize)]
pub(super) struct PageQuery {
    #[serde(default)]
    pub page: usize,
    /// Set after the last page's answers were saved (providers).
    #[serde(default)]
    pub fini: Option<String>,
}

/// What differs between the commune's pages and a provider's.
pub(super) struct QuestionsView {
    pub chrome: Chrome,
    /// Where the form posts.
    pub action: String,
    /// The link back, for signed-in callers.
    pub back: Option<String>,
    /// Each answer saved as given (needs a session: not for providers).
    pub autosave: bool,
    /// A sentence at the top (the provider's greeting).
    pub greeting: Option<String>,
    /// The last page's answers were just saved: say thanks.
    pub done: bool,
}

#[derive(Template)]
#[template(path = "audits/questions.html")]
struct QuestionsPage {
    chrome: Chrome,
    commune: Commune,
    id: String,
    action: String,
    back: Option<String>,
    autosave: bool,
    greeting: Option<String>,
    done: bool,
    page: usize,
    pages: usize,
    questionnaire: String,
    provider: bool,
    theme: String,
    intro: String,
    questions: Vec<Asked>,
    next_title: Option<String>,
}

struct Asked {
    id: String,
    text: String,
    help: String,
    /// Not applicable by a rule of the identity sheet: shown, not asked.
    ruled_out: bool,
    /// Scored: the answers offered; identity: the options of a choice.
    choices: Vec<(String, String)>,
    /// `number`, `text`, `yes_no`, `choice` or `scored`.
    kind: &'static str,
    answer: String,
    comment: String,
    who: String,
}

/// `/audits/{audit}/questions?page=N`: one theme's questions.
pub(super) async fn questions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, AppError> {
    let audit = visible_audit(&state, &caller, &id).await?;
    let commune = super::commune_of(&state, &audit).await?;
    let view = QuestionsView {
        chrome: Chrome::new(format!("Pré-audit — {}", commune.name), Some(&caller)),
        action: format!("/audits/{}/questions", audit.id),
        back: Some(format!("/audits/{}", audit.id)),
        autosave: true,
        greeting: None,
        done: false,
    };
    questions_view(&state, &audit, commune, None, query.page, view).await
}

/// One page of questions of `audit`, among the questionnaires for
/// `audience` (all for `None`), with the current answers.
pub(super) async fn questions_view(
    state: &AppState,
    audit: &super::Audit,
    commune: Commune,
    audience: Option<Audience>,
    page_index: usize,
    view: QuestionsView,
) -> Result<Response, AppError> {
    let all = pages_for(&audit.book, audience);
    let page = all.get(page_index).ok_or(AppError::NotFound)?;
    let rows: BTreeMap<String, AnswerRow> = store::answers(&state.db, &audit.id)
        .await?
        .into_iter()
        .map(|row| (row.question.clone(), row))
        .collect();
    let providers: BTreeMap<String, String> = super::providers::list(&state.db, &audit.id)
        .await?
        .into_iter()
        .map(|p| (format!("provider:{}", p.id), p.name))
        .collect();
    let answers: BTreeMap<String, String> = rows
        .iter()
        .map(|(q, row)| (q.clone(), row.answer.clone()))
        .collect();
    let facts = audit.book.facts(&answers);
    let questions = page
        .questionnaire
        .questions
        .iter()
        .filter(|q| q.theme == page.theme.id)
        .map(|q| {
            let row = rows.get(&q.id);
            let (kind, choices) = if q.is_scored() {
                (
                    "scored",
                    q.answers().into_iter().map(|a| (a.id, a.label)).collect(),
                )
            } else {
                match q.field {
                    Some(Field::Number) => ("number", Vec::new()),
                    Some(Field::YesNo) => (
                        "yes_no",
                        vec![
                            ("yes".to_owned(), "Oui".to_owned()),
                            ("no".to_owned(), "Non".to_owned()),
                        ],
                    ),
                    Some(Field::Choice) => (
                        "choice",
                        q.options
                            .iter()
                            .map(|o| (o.id.clone(), o.label.clone()))
                            .collect(),
                    ),
                    _ => ("text", Vec::new()),
                }
            };
            Asked {
                id: q.id.clone(),
                text: q.text.clone(),
                help: q.help.clone(),
                ruled_out: !audit.book.applies(q, &facts),
                choices,
                kind,
                answer: row.map(|r| r.answer.clone()).unwrap_or_default(),
                comment: row.map(|r| r.comment.clone()).unwrap_or_default(),
                who: row
                    .map(|r| answered_by(&r.answered_by, r.answered_at, &providers))
                    .unwrap_or_default(),
            }
        })
        .collect();
    render(&QuestionsPage {
        chrome: Chrome {
            title: format!(
                "{} — {} — {}",
                page.theme.title, page.questionnaire.title, commune.name
            ),
            ..view.chrome
        },
        commune,
        id: audit.id.clone(),
        action: view.action,
        back: view.back,
        autosave: view.autosave,
        greeting: view.greeting,
        done: view.done,
        page: page_index,
        pages: all.len(),
        questionnaire: page.questionnaire.title.clone(),
        provider: page.questionnaire.audience == Audience::Provider,
        theme: page.theme.title.clone(),
        intro: if page.theme.intro.is_empty() {
            page.questionnaire.intro.clone()
        } else {
            page.theme.intro.clone()
        },
        questions,
        next_title: all.get(page_index + 1).map(|p| p.theme.title.clone()),
    })
}

/// « répondu le 02/03/2026 à 10:12 », « répondu par Infogérance 42 le … »,
/// « reprise de l'étape précédente ».
fn answered_by(by: &str, at: i64, providers: &BTreeMap<String, String>) -> String {
    if by == "previous" {
        "reprise de l'étape précédente".to_owned()
    } else if let Some(name) = providers.get(by) {
        format!("répondu par {name} le {}", fr::date_time(at))
    } else {
        format!("répondu le {}", fr::date_time(at))
    }
}

/// `POST /audits/{audit}/questions`: the page's answers (`a.QUESTION`)
/// and comments (`c.QUESTION`), checked whole, stored in one transaction;
/// then the next page.
pub(super) async fn save(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let audit = visible_audit(&state, &caller, &id).await?;
    let (page, updates) = read_form(&audit, fields)?;
    store::save(
        &state.db,
        &audit.id,
        &updates,
        &format!("user:{}", caller.user_id),
        now_ms(),
    )
    .await?;
    let next = page + 1;
    let target = if next < pages(&audit.book).len() {
        format!("/audits/{}/questions?page={next}", audit.id)
    } else {
        format!("/audits/{}", audit.id)
    };
    Ok(Redirect::to(&target).into_response())
}

/// A page form's page number and answers (`a.QUESTION`), with comments
/// (`c.QUESTION`), checked against the round's questionnaires: an empty
/// field is no answer, a comment alone is kept for when it has one.
pub(super) fn read_form(
    audit: &super::Audit,
    fields: Vec<(String, String)>,
) -> Result<(usize, Vec<store::Update>), AppError> {
    let mut page = 0usize;
    let mut given: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
    for (name, value) in fields {
        if name == "page" {
            page = value.parse().unwrap_or(0);
        } else if let Some(question) = name.strip_prefix("a.") {
            given.entry(question.to_owned()).or_default().0 = Some(value);
        } else if let Some(question) = name.strip_prefix("c.") {
            given.entry(question.to_owned()).or_default().1 = Some(value);
        }
    }
    let given = given
        .into_iter()
        .filter_map(|(question, (answer, comment))| {
            let answer = answer
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())?;
            Some((question, answer, comment.map(|c| c.trim().to_owned())))
        })
        .collect();
    let updates = super::api::check(audit, given).map_err(AppError::BadRequest)?;
    Ok((page, updates))
}
