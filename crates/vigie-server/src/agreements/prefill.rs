//! What each document of an agreement says, prefilled from its data: the
//! JSON a template of the document engine reads (each template's header
//! lists its fields), and the offer's rules in the words of an
//! agreement's articles.
//!
//! What it must never do: let a text from the data become template code
//! (it is passed as JSON values), or state a rule the offer does not have.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Value, json};

use super::offers::{Completion, Cost, Duration, NoticeEffect, Offer, Renewal, Start};
use super::service::View;
use super::today;
use crate::territory::Commune;
use crate::{AppError, AppState, fr};

/// What every document says of the parties.
#[derive(Serialize)]
struct Parties {
    name: String,
    code: String,
    population: String,
}

fn commune_json(commune: &Commune) -> Parties {
    Parties {
        name: commune.name.clone(),
        code: commune.code.to_string(),
        population: if commune.population > 0 {
            fr::plural(commune.population, "habitant", "habitants")
        } else {
            "population inconnue".to_owned()
        },
    }
}

fn long(day: Option<NaiveDate>) -> Value {
    day.map_or(Value::Null, |d| Value::String(fr::day_long(d)))
}

/// The offer's rules as the agreement's articles say them.
pub fn rules(offer: &Offer, starts_on: Option<NaiveDate>) -> Value {
    let start = match offer.start {
        Start::Signature => "La convention prend effet à sa signature.".to_owned(),
        Start::GivenDate => match starts_on {
            Some(day) => format!("La convention prend effet le {}.", fr::day_long(day)),
            None => "La convention prend effet à la date que les parties fixent.".to_owned(),
        },
        Start::InstallationAttested => {
            "La convention prend effet à la date d'installation du boîtier, attestée par les parties."
                .to_owned()
        }
        Start::Notification => {
            "La convention entre en vigueur au jour de sa notification à la commune.".to_owned()
        }
    };
    let months = |m: u32| fr::plural(i64::from(m), "mois", "mois");
    let duration = match offer.duration {
        Duration::Fixed { months: m } => format!("Elle est conclue pour {}.", months(m)),
        Duration::EndOfCalendarYear => {
            "Elle se termine à la fin de l'année civile (31 décembre).".to_owned()
        }
        Duration::AtMost {
            months: m,
            ends_with,
        } => format!(
            "Elle est conclue pour {} au plus et s'achève {}.",
            months(m),
            match ends_with {
                Completion::FinalMinutes => "à la signature du procès-verbal de fin de mission",
                Completion::Restitution => "à la réunion de restitution",
            }
        ),
    };
    let renewal = match offer.renewal {
        Renewal::None => "Elle n'est pas reconduite.".to_owned(),
        Renewal::Tacit {
            period_months,
            max_total_months,
        } => match max_total_months {
            Some(max) => format!(
                "Elle est reconduite tacitement par périodes de {}, dans la limite de {} au total.",
                months(period_months),
                fr::plural(i64::from(max / 12), "an", "ans")
            ),
            None => format!(
                "Elle est reconduite tacitement par périodes de {} jusqu'à la fin de la mission.",
                months(period_months)
            ),
        },
    };
    let notice = match &offer.notice {
        None => "La convention ne prévoit pas de résiliation avec préavis.".to_owned(),
        Some(notice) => {
            let parties: Vec<&str> = notice.by.iter().map(|p| p.label()).collect();
            format!(
                "Elle peut être résiliée par {}, par lettre recommandée avec accusé de réception, avec un préavis de {} courant de la réception de la lettre ({}){}.",
                parties.join(" ou "),
                months(notice.months),
                notice.article,
                match notice.effect {
                    NoticeEffect::AnyTime => "",
                    NoticeEffect::PeriodEnd =>
                        " ; la résiliation prend effet à la fin de la période en cours",
                }
            )
        }
    };
    json!({ "start": start, "duration": duration, "renewal": renewal, "notice": notice })
}

pub(super) fn agreement_data(view: &View, commune: &Commune) -> Value {
    let offer = &view.offer;
    let steps: Vec<[String; 2]> = offer
        .steps
        .iter()
        .map(|step| {
            let origin = step
                .after
                .as_deref()
                .and_then(|after| offer.step(after))
                .map_or("du début de la convention".to_owned(), |s| {
                    format!("de « {} »", s.title)
                });
            let when = if step.from_months == step.to_months {
                if step.from_months == 0 {
                    format!("au début, à partir {origin}")
                } else {
                    format!(
                        "{} après la date {origin}",
                        fr::plural(i64::from(step.to_months), "mois", "mois")
                    )
                }
            } else {
                format!(
                    "entre {} et {} mois après la date {origin}",
                    step.from_months, step.to_months
                )
            };
            [step.title.clone(), when]
        })
        .collect();
    let cost = match offer.cost {
        Cost::Free => "La mise à disposition est gratuite pour la commune.",
        Cost::ContributionPerPhase => {
            "La commune verse une contribution à l'issue de chaque phase, après la fourniture du procès-verbal d'achèvement de phase ou de fin de mission."
        }
        Cost::Unspecified => "Les conditions financières sont fixées par le territoire.",
    };
    let mut costs = Vec::new();
    if let Some(c) = &view.agreement.costs {
        for (label, cents) in [
            ("Coût total de la prestation", c.total_cents),
            ("Part des membres fondateurs", c.founders_cents),
            ("Contribution de la commune", c.commune_cents),
        ] {
            if let Some(cents) = cents {
                costs.push([label.to_owned(), fr::euros(cents)]);
            }
        }
        for phase in &c.phases {
            let title = offer
                .step(&phase.step)
                .map_or(phase.step.as_str(), |s| s.title.as_str());
            costs.push([
                format!("Contribution après « {title} »"),
                fr::euros(phase.cents),
            ]);
        }
    }
    let p = &offer.processing;
    json!({
        "title": format!("Convention : {}", offer.title),
        "reference": view.agreement.id,
        "commune": commune_json(commune),
        "offer": { "title": offer.title, "summary": offer.summary, "source": offer.source },
        "referents": {
            "commune": view.agreement.commune_referent,
            "territory": view.agreement.territory_referent,
        },
        "signed_on": long(view.facts.signed_on),
        "rules": rules(offer, view.schedule.starts_on),
        "steps": steps,
        "cost": cost,
        "costs": costs,
        "end_actions": offer.end_actions.iter().map(|a| a.label()).collect::<Vec<_>>(),
        "data_at_end": view.agreement.data_at_end.map(|d| d.label()),
        "processing": {
            "name": p.name, "controller": p.controller, "processor": p.processor,
            "sub_processors": p.sub_processors, "purposes": p.purposes, "data": p.data,
            "people": p.people, "recipients": p.recipients, "retention": p.retention,
            "article": p.article,
        },
        "date": fr::day_long(today()),
    })
}

pub(super) async fn attestation_data(
    state: &AppState,
    view: &View,
    commune: &Commune,
) -> Result<Value, AppError> {
    let sensors: Vec<(String, Option<i64>)> = sqlx::query_as(
        "SELECT id, installed_at FROM sensors WHERE commune = $1 AND installed_at IS NOT NULL \
         ORDER BY installed_at LIMIT 20",
    )
    .bind(commune.code)
    .fetch_all(state.db.read())
    .await?;
    let sensors: Vec<[String; 2]> = sensors
        .into_iter()
        .map(|(id, at)| [id, at.map(fr::date).unwrap_or_default()])
        .collect();
    Ok(json!({
        "title": "Attestation d'installation du boîtier",
        "reference": view.agreement.id,
        "commune": commune_json(commune),
        "offer": { "title": view.offer.title },
        "installed_on": long(view.schedule.starts_on),
        "sensors": sensors,
        "ends_on": long(view.schedule.ends_on),
        "date": fr::day_long(today()),
    }))
}

pub(super) fn phase_data(view: &View, commune: &Commune, step: &str) -> Value {
    let offer = &view.offer;
    let title = offer
        .step(step)
        .map_or("Phase".to_owned(), |s| s.title.clone());
    let window = view.schedule.steps.iter().find(|w| w.step == step);
    let contribution = view
        .agreement
        .costs
        .as_ref()
        .and_then(|c| c.phases.iter().find(|p| p.step == step))
        .map(|p| fr::euros(p.cents));
    json!({
        "title": "Procès-verbal d'achèvement de phase",
        "reference": view.agreement.id,
        "commune": commune_json(commune),
        "offer": { "title": offer.title },
        "step": {
            "title": title,
            "window": window.map_or("—".to_owned(), |w| fr::day_range(w.opens_on, w.due_on)),
            "done_on": long(window.and_then(|w| w.done_on)),
        },
        "contribution": contribution,
        "date": fr::day_long(today()),
    })
}

pub(super) fn final_data(view: &View, commune: &Commune) -> Value {
    let steps: Vec<[String; 2]> = view
        .schedule
        .steps
        .iter()
        .map(|w| {
            let title = view
                .offer
                .step(&w.step)
                .map_or(w.step.clone(), |s| s.title.clone());
            let done = w.done_on.map_or("pas encore".to_owned(), fr::day);
            [title, done]
        })
        .collect();
    json!({
        "title": "Procès-verbal de fin de mission",
        "reference": view.agreement.id,
        "commune": commune_json(commune),
        "offer": { "title": view.offer.title },
        "steps": steps,
        "starts_on": long(view.schedule.starts_on),
        "date": fr::day_long(today()),
    })
}
