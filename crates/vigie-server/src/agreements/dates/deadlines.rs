//! The steps' windows and the deadlines a calendar shows for one
//! agreement: steps to hold, the last day for notice, the renewal, the
//! end and what the end obliges.
//!
//! What it must never do: invent a date it cannot derive (a step after a
//! step with no window has none; before the start there are no steps).

use chrono::NaiveDate;
use serde::Serialize;

use super::calendar::months_after;
use super::{Schedule, StepDone};
use crate::agreements::offers::{EndAction, Offer};

/// A step's window: from `opens_on` to `due_on`, both included.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepWindow {
    pub step: String,
    pub opens_on: NaiveDate,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
}

/// Something due on a day.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Deadline {
    pub day: NaiveDate,
    #[serde(flatten)]
    pub kind: DeadlineKind,
}

/// What is due (the API's `kind`, with the step or action it is about).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeadlineKind {
    /// A step's window opens (only when it is longer than a day).
    StepOpens { step: String },
    /// A step's last day.
    StepDue { step: String },
    /// The last day a termination stops the next renewal.
    NoticeBy,
    /// The first day of the next period.
    Renewal,
    /// The last day in force.
    Ends,
    /// The day after the end: what the end obliges.
    EndAction { action: EndAction },
}

impl Deadline {
    /// As a calendar says it.
    pub fn label(&self, offer: &Offer) -> String {
        let step = |id: &str| offer.step(id).map_or(id, |s| s.title.as_str()).to_owned();
        match &self.kind {
            DeadlineKind::StepOpens { step: id } => format!("{} : à partir de ce jour", step(id)),
            DeadlineKind::StepDue { step: id } => format!("{} : au plus tard ce jour", step(id)),
            DeadlineKind::NoticeBy => match &offer.notice {
                Some(notice) => format!(
                    "Dernier jour pour résilier avant la reconduction tacite ({})",
                    notice.article
                ),
                None => "Dernier jour pour refuser la reconduction tacite".to_owned(),
            },
            DeadlineKind::Renewal => "Reconduction tacite de la convention".to_owned(),
            DeadlineKind::Ends => "Dernier jour de la convention".to_owned(),
            DeadlineKind::EndAction { action } => action.label().to_owned(),
        }
    }
}

impl Schedule {
    /// Everything due for this agreement as known on [`Schedule::on`],
    /// past days included (a calendar keeps the range it shows), in
    /// order of day.
    pub fn deadlines(&self, offer: &Offer) -> Vec<Deadline> {
        let mut out = Vec::new();
        let mut push = |day, kind| out.push(Deadline { day, kind });
        for window in self.steps.iter().filter(|w| w.done_on.is_none()) {
            if window.opens_on < window.due_on {
                push(
                    window.opens_on,
                    DeadlineKind::StepOpens {
                        step: window.step.clone(),
                    },
                );
            }
            push(
                window.due_on,
                DeadlineKind::StepDue {
                    step: window.step.clone(),
                },
            );
        }
        if let Some(day) = self.notice_by {
            push(day, DeadlineKind::NoticeBy);
        }
        if let Some(day) = self.renews_on {
            push(day, DeadlineKind::Renewal);
        }
        if let Some(end) = self.ends_on {
            push(end, DeadlineKind::Ends);
            if let Some(after) = end.succ_opt() {
                for action in &offer.end_actions {
                    push(after, DeadlineKind::EndAction { action: *action });
                }
            }
        }
        out.sort();
        out
    }
}

/// Each step's window, in the offer's order: counted from the start, or
/// from the step it follows (its day when done, its window's first day
/// otherwise).
pub(super) fn windows(
    offer: &Offer,
    starts_on: Option<NaiveDate>,
    done: &[StepDone],
) -> Vec<StepWindow> {
    let mut out: Vec<StepWindow> = Vec::new();
    for step in &offer.steps {
        let origin = match &step.after {
            None => starts_on,
            Some(after) => out
                .iter()
                .find(|w| &w.step == after)
                .map(|w| w.done_on.unwrap_or(w.opens_on)),
        };
        let window = origin.and_then(|origin| {
            Some((
                months_after(origin, step.from_months)?,
                months_after(origin, step.to_months)?,
            ))
        });
        if let Some((opens_on, due_on)) = window {
            out.push(StepWindow {
                step: step.id.clone(),
                opens_on,
                due_on,
                done_on: done
                    .iter()
                    .filter(|d| d.step == step.id)
                    .map(|d| d.on)
                    .min(),
            });
        }
    }
    out
}
