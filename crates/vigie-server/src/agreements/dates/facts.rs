//! What is recorded about one agreement (signature, the starting event,
//! the steps done, the completion, terminations), checked against its
//! offer, and the end they give: the earliest of its term, its completion
//! and each termination's effect.
//!
//! What it must never do: accept a fact the agreement does not allow (a
//! notice from a party that may not give one, a termination after the
//! end), since the dates derived from it would look right and be wrong.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::calendar::months_after;
use super::periods::Periods;
use crate::agreements::offers::{NoticeEffect, Offer, Party, Renewal, Start};
use crate::fr;

/// Everything recorded about an agreement, each with its day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    pub signed_on: Option<NaiveDate>,
    /// The day of the event that starts the agreement (installation
    /// attested, notification) or the day it sets; for an offer starting
    /// at signature, a different day given at creation (the API's
    /// optional `starts_on`), else the signature's.
    pub started_on: Option<NaiveDate>,
    /// The day of the offer's completion event (final minutes signed,
    /// restitution held).
    pub completed_on: Option<NaiveDate>,
    pub steps_done: Vec<StepDone>,
    pub terminations: Vec<Termination>,
}

/// A step of the offer done on a day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDone {
    pub step: String,
    pub on: NaiveDate,
}

/// A party ending the agreement, dated by the day the letter was received
/// (« la date de réception faisant courir le délai », seed 002 art. 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Termination {
    /// Termination with the offer's notice.
    Notice { given_on: NaiveDate, by: Party },
    /// The next tacit renewal refused: ends at the end of the first
    /// period the notice (if the offer has one) expires in.
    NonRenewal { given_on: NaiveDate, by: Party },
    /// Ended on a day decided whatever the notice: a breach after formal
    /// notice (seed 000 art. 7, seed 002 art. 9), force majeure (seed 002
    /// art. 9), both parties agreeing.
    Decided {
        given_on: NaiveDate,
        ends_on: NaiveDate,
    },
}

impl Termination {
    pub fn given_on(&self) -> NaiveDate {
        match *self {
            Termination::Notice { given_on, .. }
            | Termination::NonRenewal { given_on, .. }
            | Termination::Decided { given_on, .. } => given_on,
        }
    }
}

/// Why the agreement ends when it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndCause {
    /// Its term: the duration, or the maximum total of renewals.
    Term,
    /// The completion event (final minutes, restitution).
    Completion,
    Notice,
    NonRenewal,
    Decided,
}

impl EndCause {
    /// Ended by a party rather than by its own rules.
    pub fn is_termination(self) -> bool {
        matches!(
            self,
            EndCause::Notice | EndCause::NonRenewal | EndCause::Decided
        )
    }
}

/// The last day in force and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct End {
    pub day: NaiveDate,
    pub cause: EndCause,
}

/// A fact refused, in French, for the person who recorded it (the API's
/// 422 `error`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("{0} ne peut pas être enregistrée avant la signature de la convention.")]
    NotSigned(&'static str),
    #[error("{what} du {day} précède la signature de la convention ({signed}).")]
    BeforeSignature {
        what: &'static str,
        day: String,
        signed: String,
    },
    #[error("{what} du {day} vient après la fin de la convention ({ended}).")]
    AfterEnd {
        what: &'static str,
        day: String,
        ended: String,
    },
    #[error("Cette convention ne prévoit pas de résiliation avec préavis.")]
    NoNotice,
    #[error(
        "Cette convention n'est pas reconduite tacitement : il n'y a pas de reconduction à refuser."
    )]
    NoRenewal,
    #[error("{only} peut résilier cette convention ({article}).")]
    NotAllowed { only: String, article: String },
    #[error(
        "Cette convention ne s'achève ni par un procès-verbal de fin de mission ni par une restitution."
    )]
    NoCompletion,
    #[error("La fin de mission du {day} précède le début de la convention ({start}).")]
    CompletionBeforeStart { day: String, start: String },
    #[error("La fin décidée ({ends}) précède la décision ({given}).")]
    EndBeforeDecision { ends: String, given: String },
    #[error("« {0} » n'est pas une étape de cette offre.")]
    UnknownStep(String),
    #[error("Une date sort du calendrier pris en charge.")]
    OutOfRange,
}

/// The day the agreement starts, if known.
pub(super) fn starts_on(offer: &Offer, facts: &Facts) -> Option<NaiveDate> {
    match offer.start {
        Start::Signature => facts.started_on.or(facts.signed_on),
        Start::GivenDate | Start::InstallationAttested | Start::Notification => facts.started_on,
    }
}

/// Checks every fact against `offer` and gives the end they make, in
/// the order they happened (each must come before the end the earlier
/// ones made).
pub(super) fn resolve(
    offer: &Offer,
    periods: Option<&Periods>,
    facts: &Facts,
) -> Result<Option<End>, DateError> {
    if let Some(unknown) = facts
        .steps_done
        .iter()
        .find(|done| offer.step(&done.step).is_none())
    {
        return Err(DateError::UnknownStep(unknown.step.clone()));
    }
    let mut end = periods.and_then(Periods::natural_end).map(|day| End {
        day,
        cause: EndCause::Term,
    });
    let mut events: Vec<(NaiveDate, Option<&Termination>)> = facts
        .terminations
        .iter()
        .map(|t| (t.given_on(), Some(t)))
        .collect();
    events.extend(facts.completed_on.map(|day| (day, None)));
    events.sort_by_key(|(day, _)| *day);
    for (day, termination) in events {
        let what = if termination.is_some() {
            "La résiliation"
        } else {
            "La fin de mission"
        };
        let signed = facts.signed_on.ok_or(DateError::NotSigned(what))?;
        if day < signed {
            return Err(DateError::BeforeSignature {
                what,
                day: fr::day_long(day),
                signed: fr::day_long(signed),
            });
        }
        if let Some(end) = end
            && day > end.day
        {
            return Err(DateError::AfterEnd {
                what,
                day: fr::day_long(day),
                ended: fr::day_long(end.day),
            });
        }
        let effect = match termination {
            Some(termination) => effect(offer, periods, termination)?,
            None => completion(offer, periods, day)?,
        };
        // On the same day, the later fact says why: a notice whose
        // effect falls on the term still ends the agreement as a
        // termination.
        if end.is_none_or(|end| effect.day <= end.day) {
            end = Some(effect);
        }
    }
    Ok(end)
}

/// The completion event on `day`.
fn completion(offer: &Offer, periods: Option<&Periods>, day: NaiveDate) -> Result<End, DateError> {
    offer.completion().ok_or(DateError::NoCompletion)?;
    match periods.map(Periods::start) {
        Some(start) if day >= start => Ok(End {
            day,
            cause: EndCause::Completion,
        }),
        start => Err(DateError::CompletionBeforeStart {
            day: fr::day_long(day),
            start: start.map_or_else(|| "pas encore commencée".to_owned(), fr::day_long),
        }),
    }
}

/// When `termination` ends the agreement.
fn effect(
    offer: &Offer,
    periods: Option<&Periods>,
    termination: &Termination,
) -> Result<End, DateError> {
    // At the end of the period the notice expires in; before the start
    // (no period yet), when the notice expires.
    let period_end = |expires: NaiveDate| {
        periods
            .and_then(|p| p.containing(expires))
            .map_or(expires, |p| p.ends_on)
    };
    match *termination {
        Termination::Notice { given_on, by } => {
            let notice = offer.notice.as_ref().ok_or(DateError::NoNotice)?;
            allowed(offer, by)?;
            let expires = months_after(given_on, notice.months).ok_or(DateError::OutOfRange)?;
            let day = match notice.effect {
                NoticeEffect::AnyTime => expires,
                NoticeEffect::PeriodEnd => period_end(expires),
            };
            Ok(End {
                day,
                cause: EndCause::Notice,
            })
        }
        Termination::NonRenewal { given_on, by } => {
            if offer.renewal == Renewal::None {
                return Err(DateError::NoRenewal);
            }
            allowed(offer, by)?;
            let months = offer.notice.as_ref().map_or(0, |n| n.months);
            let expires = months_after(given_on, months).ok_or(DateError::OutOfRange)?;
            Ok(End {
                day: period_end(expires),
                cause: EndCause::NonRenewal,
            })
        }
        Termination::Decided { given_on, ends_on } => {
            if ends_on < given_on {
                return Err(DateError::EndBeforeDecision {
                    ends: fr::day_long(ends_on),
                    given: fr::day_long(given_on),
                });
            }
            Ok(End {
                day: ends_on,
                cause: EndCause::Decided,
            })
        }
    }
}

/// Whether `by` may end the agreement (anyone when the offer names no
/// one: a non-renewal of an offer without notice).
fn allowed(offer: &Offer, by: Party) -> Result<(), DateError> {
    let Some(notice) = &offer.notice else {
        return Ok(());
    };
    if notice.by.contains(&by) {
        return Ok(());
    }
    let only = match notice.by.as_slice() {
        [Party::Territory] => "Seul le territoire".to_owned(),
        [Party::Commune] => "Seule la commune".to_owned(),
        _ => "Seules les parties nommées".to_owned(),
    };
    Err(DateError::NotAllowed {
        only,
        article: notice.article.clone(),
    })
}
