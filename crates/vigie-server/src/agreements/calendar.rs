//! What is due, and when, for a scope (the territory, or one commune):
//! each agreement's deadlines (steps, the last day for notice, renewals,
//! the end), what an ended agreement still obliges (its end actions not
//! done, from `agreement_end_actions`), and what other capabilities have
//! due (the crisis kit: see [`others`]). The API's
//! `GET /api/v1/deadlines`, the calendar page, the iCalendar feeds and
//! the reminders read it.
//!
//! What it must never do: show a scope a commune outside it (a commune
//! user's scope is their commune only), or spend unbounded work on a
//! range (at most [`MAX_RANGE_DAYS`]).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::Serialize;

use super::dates::{Deadline, DeadlineKind};
use super::ending::{self, Pending};
use super::offers::Offer;
use super::store::{self, Agreement};
use super::{Status, today};
use crate::accounts::Caller;
use crate::{AppError, AppState, fr};

/// The longest range a calendar asks for: five years.
pub const MAX_RANGE_DAYS: i64 = 5 * 366;

/// Whose deadlines: what a person may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every commune, and what is the territory's own (staff).
    Territory,
    /// One commune's (its INSEE code): a commune user.
    Commune(String),
    /// Nothing (a commune user without a commune).
    Nothing,
}

impl Scope {
    /// What `caller` may see.
    pub fn of(caller: &Caller) -> Scope {
        match (&caller.commune, caller.is_staff()) {
            (_, true) => Scope::Territory,
            (Some(code), false) => Scope::Commune(code.to_string()),
            (None, false) => Scope::Nothing,
        }
    }

    /// Whether something of `commune` (`None`: the territory's own, such
    /// as a kit item's yearly check) is in this scope.
    pub fn sees(&self, commune: Option<&str>) -> bool {
        match self {
            Scope::Territory => true,
            Scope::Commune(code) => commune == Some(code.as_str()),
            Scope::Nothing => false,
        }
    }
}

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
    /// The page it is about (a path, without the public URL).
    pub link: String,
    /// The agreement it is about, if one.
    pub agreement: Option<String>,
    /// The offer, or the step or action, it is about (the API's words).
    pub offer: Option<String>,
    pub step: Option<String>,
    pub action: Option<String>,
}

impl Due {
    /// What another capability has due (the crisis kit's items).
    pub fn other(
        day: NaiveDate,
        commune: Option<String>,
        kind: &str,
        title: String,
        link: String,
    ) -> Due {
        Due {
            day,
            commune,
            kind: kind.to_owned(),
            title,
            link,
            agreement: None,
            offer: None,
            step: None,
            action: None,
        }
    }

    /// Names this deadline across reads and replicas: the reminders'
    /// table and the iCalendar UIDs use it. A deadline moved to another
    /// day is another deadline (its reminders are sent again).
    pub fn key(&self) -> String {
        let about = self.agreement.as_deref().unwrap_or(&self.link);
        let what = self.step.as_deref().or(self.action.as_deref());
        format!(
            "{}|{about}|{}|{}",
            self.kind,
            what.unwrap_or_default(),
            self.day
        )
    }
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

/// What is due from `from` to `to` (both included) for what `caller`
/// may see, in order of day.
pub async fn deadlines(
    state: &AppState,
    caller: &Caller,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Due>, AppError> {
    due(state, &Scope::of(caller), from, to).await
}

/// What is due from `from` to `to` (both included) in `scope`, in order
/// of day: the agreements' deadlines, their end actions still to do,
/// and other capabilities' dates.
pub async fn due(
    state: &AppState,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Due>, AppError> {
    checked_range(from, to)?;
    let agreements = agreements(state, scope).await?;
    let recorded = ending::recorded(&state.db, scope).await?;
    let mut out = BTreeSet::new();
    for agreement in &agreements {
        let Some(offer) = state.settings.offers.get(&agreement.offer) else {
            continue;
        };
        // Once its end actions are recorded, the table says what is left
        // to do, not the schedule.
        let skip_end_actions = recorded.contains_key(&agreement.id);
        for due in schedule_dues(state, agreement, offer, to).await? {
            if due.day >= from && !(skip_end_actions && due.kind == "end_action") {
                out.insert(due);
            }
        }
    }
    for pending in recorded.values().flatten() {
        if pending.done_at.is_none() && pending.due_on >= from && pending.due_on <= to {
            out.extend(end_action_due(state, pending));
        }
    }
    out.extend(others(state, scope, from, to).await?);
    Ok(out.into_iter().collect())
}

/// The end actions still to do whose day is before `before`: what a
/// calendar shows as late.
pub async fn late(
    state: &AppState,
    scope: &Scope,
    before: NaiveDate,
) -> Result<Vec<Due>, AppError> {
    let recorded = ending::recorded(&state.db, scope).await?;
    let mut out: Vec<Due> = recorded
        .values()
        .flatten()
        .filter(|p| p.done_at.is_none() && p.due_on < before)
        .filter_map(|p| end_action_due(state, p))
        .collect();
    out.sort();
    Ok(out)
}

/// The agreements of `scope`.
async fn agreements(state: &AppState, scope: &Scope) -> Result<Vec<Agreement>, AppError> {
    Ok(match scope {
        Scope::Territory => store::all(&state.db).await?,
        Scope::Commune(code) => store::of_commune(&state.db, code).await?,
        Scope::Nothing => Vec::new(),
    })
}

/// One agreement's deadlines up to `to`, past days included: the dates
/// known today, then, while it renews within the range, those of each
/// next period (no fact is dated after today, so they are what today's
/// rules give).
async fn schedule_dues(
    state: &AppState,
    agreement: &Agreement,
    offer: &Offer,
    to: NaiveDate,
) -> Result<Vec<Due>, AppError> {
    let facts = store::effective_facts(&state.db, &state.settings.offers, agreement).await?;
    let link = format!("/conventions/{}", agreement.id);
    let mut out = Vec::new();
    let mut on = today();
    for _ in 0..=(MAX_RANGE_DAYS / 28) {
        let Ok(schedule) = super::dates::schedule(offer, &facts, on) else {
            break;
        };
        if matches!(schedule.status, Status::Draft) {
            break;
        }
        out.extend(
            schedule
                .deadlines(offer)
                .iter()
                .filter(|d| d.day <= to)
                .map(|d| deadline_due(agreement, offer, &link, d)),
        );
        match schedule.renews_on {
            Some(next) if next <= to && next > on => on = next,
            _ => break,
        }
    }
    Ok(out)
}

fn deadline_due(agreement: &Agreement, offer: &Offer, link: &str, deadline: &Deadline) -> Due {
    let (step, action) = match &deadline.kind {
        DeadlineKind::StepOpens { step } | DeadlineKind::StepDue { step } => {
            (Some(step.clone()), None)
        }
        DeadlineKind::EndAction { action } => (None, Some(action.id().to_owned())),
        _ => (None, None),
    };
    let label = match &deadline.kind {
        DeadlineKind::EndAction { action } => {
            ending::label(*action, agreement.data_at_end).to_owned()
        }
        _ => deadline.label(offer),
    };
    Due {
        day: deadline.day,
        commune: Some(agreement.commune.clone()),
        kind: kind_word(&deadline.kind).to_owned(),
        title: format!("{} — {label}", offer.title),
        link: link.to_owned(),
        agreement: Some(agreement.id.clone()),
        offer: Some(offer.id.clone()),
        step,
        action,
    }
}

/// A recorded end action as the calendar shows it.
fn end_action_due(state: &AppState, pending: &Pending) -> Option<Due> {
    let action = super::offers::EndAction::parse(&pending.action)?;
    let title = state
        .settings
        .offers
        .get(&pending.offer)
        .map_or_else(|| pending.offer.clone(), |o| o.title.clone());
    Some(Due {
        day: pending.due_on,
        commune: Some(pending.commune.clone()),
        kind: "end_action".to_owned(),
        title: format!("{title} — {}", ending::label(action, pending.data_at_end)),
        link: format!("/conventions/{}", pending.agreement),
        agreement: Some(pending.agreement.clone()),
        offer: Some(pending.offer.clone()),
        step: None,
        action: Some(pending.action.clone()),
    })
}

/// What other capabilities have due in `scope` from `from` to `to`: the
/// crisis kit's loans due back, annual checks and bookings starting. The
/// scope keeps a commune to its own items and the territory's own tasks
/// (`commune: None`) to the staff.
async fn others(
    state: &AppState,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Due>, AppError> {
    let mut others: Vec<Due> = crate::crisis::due(&state.db, from, to)
        .await?
        .into_iter()
        .map(|d| Due::other(d.day, d.commune, d.kind, d.title, d.link))
        .collect();
    // Phishing campaigns whose addresses are due to be deleted.
    let first = vigie_core::local_day_start_ms(from).unwrap_or(0);
    let last = to
        .succ_opt()
        .and_then(vigie_core::local_day_start_ms)
        .map_or(i64::MAX, |next| next - 1);
    let purges = crate::phishing::store::purges_due(&state.db, first, last).await?;
    for (id, commune, start, end, due_at) in purges {
        let Some(day) = chrono::DateTime::from_timestamp_millis(due_at).map(vigie_core::local_day)
        else {
            continue;
        };
        let span = match (start.parse::<NaiveDate>(), end.parse::<NaiveDate>()) {
            (Ok(start), Ok(end)) => format!(" ({})", fr::day_range(start, end)),
            _ => String::new(),
        };
        others.push(Due::other(
            day,
            Some(commune),
            "campaign_purge",
            format!("Campagne de sensibilisation{span} : effacement des adresses et des suivis"),
            format!("/campagnes/{id}"),
        ));
    }
    Ok(others
        .into_iter()
        .filter(|d| scope.sees(d.commune.as_deref()) && d.day >= from && d.day <= to)
        .collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn due(kind: &str, agreement: Option<&str>, step: Option<&str>) -> Due {
        Due {
            agreement: agreement.map(str::to_owned),
            step: step.map(str::to_owned),
            ..Due::other(
                NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default(),
                Some("42218".to_owned()),
                kind,
                "Titre".to_owned(),
                "/kit/3".to_owned(),
            )
        }
    }

    #[test]
    fn keys_name_what_and_when() {
        assert_eq!(
            due("step_due", Some("ab12"), Some("diagnostic")).key(),
            "step_due|ab12|diagnostic|2026-03-02"
        );
        assert_eq!(
            due("kit_return", None, None).key(),
            "kit_return|/kit/3||2026-03-02"
        );
    }

    #[test]
    fn scopes() {
        let commune = Scope::Commune("42218".to_owned());
        assert!(commune.sees(Some("42218")));
        assert!(!commune.sees(Some("42095")));
        assert!(!commune.sees(None));
        assert!(Scope::Territory.sees(None));
        assert!(!Scope::Nothing.sees(Some("42218")));
    }
}
