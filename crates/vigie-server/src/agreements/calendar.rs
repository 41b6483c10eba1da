//! What is due, and when, for the agreements a caller may see: each
//! agreement's deadlines (steps, the last day for notice, renewals, the
//! end) over a range of days, and what an ended agreement still obliges.
//! The API's `GET /api/v1/deadlines`, the calendar page and the reminders
//! read it.
//!
//! What it must never do: show a caller a commune they may not see, or
//! spend unbounded work on a range (at most [`MAX_RANGE_DAYS`]).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::Serialize;

use super::dates::{Deadline, DeadlineKind};
use super::store;
use super::{Status, today};
use crate::accounts::Caller;
use crate::{AppError, AppState, fr};

/// The longest range a calendar asks for: five years.
pub const MAX_RANGE_DAYS: i64 = 5 * 366;

/// Something due on a day, for a commune.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Due {
    pub day: NaiveDate,
    /// The commune's INSEE code, if it is about one.
    pub commune: Option<String>,
    /// `step_opens`, `step_due`, `notice_by`, `renewal`, `ends`,
    /// `end_action` (an agreement's), or another capability's (`kit_…`).
    pub kind: String,
    /// French: « Parcours cybersécurité — Étape 2 : réunion de suivi : au
    /// plus tard ce jour ».
    pub title: String,
    /// The page it is about.
    pub link: String,
    /// The agreement it is about, if one.
    pub agreement: Option<String>,
    /// The offer, or the step or action, it is about (the API's words).
    pub offer: Option<String>,
    pub step: Option<String>,
    pub action: Option<String>,
}

/// Checks a range: `from` ≤ `to`, at most [`MAX_RANGE_DAYS`].
pub fn checked_range(from: NaiveDate, to: NaiveDate) -> Result<(), AppError> {
    if to < from {
        return Err(AppError::BadRequest(format!(
            "La fin de la période ({}) précède son début ({}).",
            fr::day(to),
            fr::day(from)
        )));
    }
    if (to - from).num_days() > MAX_RANGE_DAYS {
        return Err(AppError::BadRequest(format!(
            "Demandez au plus {} à la fois.",
            fr::plural(MAX_RANGE_DAYS, "jour", "jours")
        )));
    }
    Ok(())
}

/// The agreements' deadlines from `from` to `to` (both included) for
/// what `caller` may see, in order of day.
pub async fn deadlines(
    state: &AppState,
    caller: &Caller,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Due>, AppError> {
    checked_range(from, to)?;
    let agreements = match (&caller.commune, caller.is_staff()) {
        (_, true) => store::all(&state.db).await?,
        (Some(code), false) => store::of_commune(&state.db, code).await?,
        (None, false) => Vec::new(),
    };
    let today = today();
    let mut out = BTreeSet::new();
    for agreement in agreements {
        if !caller.can_see_commune(&agreement.commune) {
            continue;
        }
        let Some(offer) = state.settings.offers.get(&agreement.offer) else {
            continue;
        };
        let facts = store::effective_facts(&state.db, &state.settings.offers, &agreement).await?;
        let link = format!("/conventions/{}", agreement.id);
        let mut push = |deadline: &Deadline| {
            if deadline.day < from || deadline.day > to {
                return;
            }
            let (step, action) = match &deadline.kind {
                DeadlineKind::StepOpens { step } | DeadlineKind::StepDue { step } => {
                    (Some(step.clone()), None)
                }
                DeadlineKind::EndAction { action } => (None, Some(action.id().to_owned())),
                _ => (None, None),
            };
            out.insert(Due {
                day: deadline.day,
                commune: Some(agreement.commune.clone()),
                kind: kind_word(&deadline.kind).to_owned(),
                title: format!("{} — {}", offer.title, deadline.label(offer)),
                link: link.clone(),
                agreement: Some(agreement.id.clone()),
                offer: Some(offer.id.clone()),
                step,
                action,
            });
        };
        // The dates known today; then, while the agreement renews within
        // the range, those of each next period (no fact is dated after
        // today, so they are what today's rules give).
        let mut on = today;
        for _ in 0..=(MAX_RANGE_DAYS / 28) {
            let Ok(schedule) = super::dates::schedule(offer, &facts, on) else {
                break;
            };
            if matches!(schedule.status, Status::Draft) {
                break;
            }
            for deadline in schedule.deadlines(offer) {
                push(&deadline);
            }
            match schedule.renews_on {
                Some(next) if next <= to && next > on => on = next,
                _ => break,
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// The API's `kind` of an agreement's deadline.
fn kind_word(kind: &DeadlineKind) -> &'static str {
    match kind {
        DeadlineKind::StepOpens { .. } => "step_opens",
        DeadlineKind::StepDue { .. } => "step_due",
        DeadlineKind::NoticeBy => "notice_by",
        DeadlineKind::Renewal => "renewal",
        DeadlineKind::Ends => "ends",
        DeadlineKind::EndAction { .. } => "end_action",
    }
}
