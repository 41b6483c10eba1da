//! The pages a commune's agents and elected officials open from its link,
//! with no account: the list of modules (with how many times the commune
//! completed each), a module's content and quiz, and the score page with
//! the corrections.
//!
//! What it must never do: ask who the person is, set a cookie, store
//! anything but the completion's aggregate row (`store::record`), accept a
//! body larger than [`MAX_ANSWER_BYTES`], or tell a stranger more than
//! « this link does not exist » (the flood limit counts each unknown link
//! as a guess, `web::flood`).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::links::{self, Link, MAX_COMPLETIONS_PER_LINK_PER_DAY};
use super::module::{Catalogue, Marked, Module, catalogue};
use super::store::{self, Recorded};
use crate::db::now_ms;
use crate::territory::Commune;
use crate::web::{Chrome, render};
use crate::{AppError, AppState, fr};

/// The largest answer form: `q1=3&q2=1…` for six questions is under a
/// hundred bytes; the rest is room for a browser's quirks, not for data.
pub const MAX_ANSWER_BYTES: usize = 4 * 1024;

/// The link's commune and the modules, if the link is usable; a French
/// page otherwise (404 for a link that never existed, 410 for one that
/// ended).
async fn open(
    state: &AppState,
    token: &str,
) -> Result<(Link, Commune, &'static Catalogue), Response> {
    let fail = |e: AppError| e.into_response();
    let catalogue = catalogue().map_err(|e| fail(AppError::Internal(e.to_owned())))?;
    let link = links::by_token(&state.db, token)
        .await
        .map_err(fail)?
        .ok_or_else(|| AppError::NotFound.into_response())?;
    if !link.usable(now_ms()) {
        return Err(gone(&link));
    }
    let commune = crate::territory::commune(&state.db, &link.commune)
        .await
        .map_err(|e| fail(e.into()))?
        .ok_or_else(|| AppError::NotFound.into_response())?;
    Ok((link, commune, catalogue))
}

#[derive(Template)]
#[template(path = "elearning/link_gone.html")]
struct GonePage {
    chrome: Chrome,
    state: String,
}

fn gone(link: &Link) -> Response {
    let page = GonePage {
        chrome: Chrome::new("Lien terminé", None),
        state: link.state_fr(now_ms()),
    };
    with_status(render(&page), StatusCode::GONE)
}

fn with_status(page: Result<Response, AppError>, status: StatusCode) -> Response {
    match page {
        Ok(mut response) => {
            *response.status_mut() = status;
            response
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Template)]
#[template(path = "elearning/list.html")]
struct ListPage {
    chrome: Chrome,
    commune: String,
    base: String,
    /// « 6 modules ».
    count: String,
    modules: Vec<ModuleLine>,
}

struct ModuleLine {
    id: String,
    title: String,
    minutes: String,
    summary: String,
    done: String,
}

/// `GET /formation/{link}`: the modules, and how often the commune's
/// people completed each (a count, never a name).
pub(super) async fn list(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, Response> {
    let (link, commune, catalogue) = open(&state, &token).await?;
    let tallies = store::tallies(&state.db, &link.commune)
        .await
        .map_err(IntoResponse::into_response)?;
    let modules = catalogue
        .modules
        .iter()
        .map(|module| {
            let done = tallies.get(&module.id).map_or(0, |t| t.completions);
            ModuleLine {
                id: module.id.clone(),
                title: module.title.clone(),
                minutes: fr::plural(i64::from(module.minutes), "minute", "minutes"),
                summary: module.summary.clone(),
                done: match done {
                    0 => "Pas encore suivi dans la commune".to_owned(),
                    n => format!("Suivi {} dans la commune", fr::plural(n, "fois", "fois")),
                },
            }
        })
        .collect();
    render(&ListPage {
        chrome: Chrome::new(format!("Formation cybersécurité — {}", commune.name), None),
        commune: commune.name,
        base: format!("/formation/{token}"),
        count: fr::count(catalogue.modules.len(), "module", "modules"),
        modules,
    })
    .map_err(IntoResponse::into_response)
}

#[derive(Template)]
#[template(path = "elearning/module.html")]
struct ModulePage<'a> {
    chrome: Chrome,
    commune: String,
    base: String,
    module: &'a Module,
    /// « Lecture : 8 minutes, puis 5 questions. »
    reading: String,
    questions: Vec<QuestionView>,
    error: Option<String>,
}

struct QuestionView {
    /// The form field: `q1`, `q2`…
    name: String,
    legend: String,
    choices: Vec<ChoiceView>,
}

struct ChoiceView {
    /// `1`, `2`… as the form sends it back.
    value: String,
    label: String,
    checked: bool,
}

fn module_page(
    commune: &Commune,
    token: &str,
    module: &Module,
    chosen: &BTreeMap<usize, usize>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let questions = module
        .quiz
        .iter()
        .enumerate()
        .map(|(index, question)| QuestionView {
            name: format!("q{}", index + 1),
            legend: format!("{}. {}", index + 1, question.text),
            choices: question
                .choices
                .iter()
                .enumerate()
                .map(|(choice, label)| ChoiceView {
                    value: (choice + 1).to_string(),
                    label: label.clone(),
                    checked: chosen.get(&index) == Some(&choice),
                })
                .collect(),
        })
        .collect();
    render(&ModulePage {
        chrome: Chrome::new(module.title.clone(), None),
        commune: commune.name.clone(),
        base: format!("/formation/{token}"),
        module,
        reading: format!(
            "Lecture : {}, puis {}.",
            fr::plural(i64::from(module.minutes), "minute", "minutes"),
            fr::count(module.quiz.len(), "question", "questions")
        ),
        questions,
        error,
    })
}

/// `GET /formation/{link}/{module}`: the content, then the quiz.
pub(super) async fn module(
    State(state): State<AppState>,
    Path((token, id)): Path<(String, String)>,
) -> Result<Response, Response> {
    let (_, commune, catalogue) = open(&state, &token).await?;
    let module = catalogue
        .get(&id)
        .ok_or_else(|| AppError::NotFound.into_response())?;
    module_page(&commune, &token, module, &BTreeMap::new(), None)
        .map_err(IntoResponse::into_response)
}

#[derive(Template)]
#[template(path = "elearning/score.html")]
struct ScorePage {
    chrome: Chrome,
    commune: String,
    base: String,
    title: String,
    result: String,
    percent: String,
    counted: bool,
    cap: String,
    corrections: Vec<Correction>,
    next: Option<(String, String)>,
}

struct Correction {
    question: String,
    chosen: String,
    right: bool,
    answer: String,
    explanation: String,
}

/// `POST /formation/{link}/{module}` (`q1=2&q2=1…`): the score and the
/// corrections; the completion is counted for the commune, and nothing
/// else is kept.
pub(super) async fn answer(
    State(state): State<AppState>,
    Path((token, id)): Path<(String, String)>,
    form: Result<axum::Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, Response> {
    // The link first: an unknown one is a 404 (a guess) whatever the body.
    let (link, commune, catalogue) = open(&state, &token).await?;
    let module = catalogue
        .get(&id)
        .ok_or_else(|| AppError::NotFound.into_response())?;
    let axum::Form(fields) = form.map_err(IntoResponse::into_response)?;
    let chosen = read_answers(&fields);
    let marked = match module.mark(&chosen) {
        Ok(marked) => marked,
        Err(missing) => {
            let which = missing
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let message = if missing.len() == 1 {
                format!(
                    "Répondez à toutes les questions pour voir votre résultat : il manque la réponse à la question {which}."
                )
            } else {
                format!(
                    "Répondez à toutes les questions pour voir votre résultat : il manque les réponses aux questions {which}."
                )
            };
            return Err(with_status(
                module_page(&commune, &token, module, &chosen, Some(message)),
                StatusCode::BAD_REQUEST,
            ));
        }
    };
    let right = marked.iter().filter(|m| m.right).count();
    let recorded = store::record(&state.db, &link, module, right, now_ms())
        .await
        .map_err(IntoResponse::into_response)?;
    let page = score_page(&commune, &token, catalogue, module, &marked, recorded);
    Ok(match recorded {
        Recorded::Counted => page.map_err(IntoResponse::into_response)?,
        // Marked and corrected all the same: only the counting is refused.
        Recorded::CapReached => with_status(page, StatusCode::TOO_MANY_REQUESTS),
    })
}

fn score_page(
    commune: &Commune,
    token: &str,
    catalogue: &Catalogue,
    module: &Module,
    marked: &[Marked],
    recorded: Recorded,
) -> Result<Response, AppError> {
    let right = marked.iter().filter(|m| m.right).count();
    let total = module.quiz.len();
    let corrections = module
        .quiz
        .iter()
        .zip(marked)
        .map(|(question, mark)| Correction {
            question: question.text.clone(),
            chosen: question
                .choices
                .get(mark.chosen)
                .cloned()
                .unwrap_or_default(),
            right: mark.right,
            answer: question
                .choices
                .get(question.answer)
                .cloned()
                .unwrap_or_default(),
            explanation: question.explanation.clone(),
        })
        .collect();
    let position = catalogue.modules.iter().position(|m| m.id == module.id);
    let next = position
        .and_then(|p| catalogue.modules.get(p + 1))
        .map(|m| (m.id.clone(), m.title.clone()));
    let percent = i64::try_from(right * 100 / total.max(1)).unwrap_or(0);
    render(&ScorePage {
        chrome: Chrome::new(format!("Résultat — {}", module.title), None),
        commune: commune.name.clone(),
        base: format!("/formation/{token}"),
        title: module.title.clone(),
        result: format!(
            "{} sur {}",
            fr::count(right, "bonne réponse", "bonnes réponses"),
            fr::number(i64::try_from(total).unwrap_or(0))
        ),
        percent: fr::percent(percent as f64),
        counted: recorded == Recorded::Counted,
        cap: fr::plural(MAX_COMPLETIONS_PER_LINK_PER_DAY, "parcours", "parcours"),
        corrections,
        next,
    })
}

/// `q1=2` → question 0 answered with choice 1 (the page counts from 1);
/// anything else in the form is ignored.
fn read_answers(fields: &[(String, String)]) -> BTreeMap<usize, usize> {
    fields
        .iter()
        .filter_map(|(name, value)| {
            let question = name
                .strip_prefix('q')?
                .parse::<usize>()
                .ok()?
                .checked_sub(1)?;
            let choice = value.trim().parse::<usize>().ok()?.checked_sub(1)?;
            Some((question, choice))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_from_one() {
        let fields = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let read = read_answers(&fields(&[
            ("q1", "2"),
            ("q2", " 1 "),
            ("q0", "1"),
            ("q3", "0"),
            ("x", "1"),
            ("q4", "trois"),
            ("q18446744073709551616", "1"),
        ]));
        assert_eq!(read, BTreeMap::from([(0, 1), (1, 0)]));
    }
}
