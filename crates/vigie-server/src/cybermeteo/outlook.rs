//! A commune's day told in words, for a mayor who has ten seconds: what
//! happened ("Aujourd'hui, 91 tentatives d'attaque, surtout des essais de
//! mots de passe sur la messagerie"), against its usual, why there is no
//! data when there is none, what to do, and first of all a town-hall
//! machine that contacted a malicious address.

use chrono::NaiveDate;

use super::advice::{Book, Contact};
use super::history::{DayWeather, IncidentRow};
use super::weather::Level;
use crate::fr;
use crate::sensors::SensorState;

/// Days before the shown one that make "the usual".
const USUAL_DAYS: usize = 28;

/// The story of one day.
#[derive(Clone, Debug, Default)]
pub struct Outlook {
    /// "Aujourd'hui, 91 tentatives d'attaque, surtout ..."
    pub sentence: String,
    /// "C'est plus que d'habitude (12 par jour en moyenne ...)."
    pub trend: Option<String>,
    /// Why there is no data, and what to do about it.
    pub no_data: Option<String>,
    pub advice: Option<AdviceView>,
    /// Town-hall machines that contacted a malicious address that day.
    pub outbound: Vec<OutboundView>,
    pub outbound_advice: Option<AdviceView>,
    pub national_help: Vec<Contact>,
}

/// Advice ready for a template.
#[derive(Clone, Debug)]
pub struct AdviceView {
    pub urgent: Option<String>,
    pub summary: String,
    pub steps: Vec<String>,
    pub contacts: Vec<Contact>,
}

/// One machine of the town hall that contacted a malicious address.
#[derive(Clone, Debug)]
pub struct OutboundView {
    /// The box's keyed hash (`h:…`), or "machine inconnue".
    pub machine: String,
    /// The malicious address contacted, if the box reported it.
    pub remote: Option<String>,
    /// "à 10 h 12".
    pub when: String,
    pub what: String,
    /// "3 fois".
    pub times: String,
}

/// What the sensing of the commune looked like when the page was drawn.
#[derive(Clone, Copy, Debug)]
pub struct Sensing {
    /// `None`: no box installed.
    pub state: Option<SensorState>,
    /// Last sign of life (Unix ms), if any.
    pub last_alive: Option<i64>,
    pub now_ms: i64,
}

/// Everything the outlook is computed from.
pub struct Day<'a> {
    pub day: NaiveDate,
    pub today: NaiveDate,
    /// The day's weather (the filtered one when a filter is on).
    pub weather: &'a DayWeather,
    /// The days before it, oldest first (for "the usual").
    pub before: &'a [DayWeather],
    pub incidents: &'a [IncidentRow],
    /// The day's incidents whatever the filter: an outbound alert always shows.
    pub all_incidents: &'a [IncidentRow],
    pub sensing: Sensing,
    pub territory: &'a str,
}

/// Tells `day`.
pub fn tell(day: &Day<'_>) -> Outlook {
    let book = Book::get();
    let mut outlook = Outlook {
        national_help: book.map(Book::national_help).unwrap_or_default(),
        ..Outlook::default()
    };
    let when = if day.day == day.today {
        "Aujourd'hui".to_owned()
    } else {
        format!("Le {}", day.day.format("%d/%m/%Y"))
    };
    if day.weather.level == Level::NoData {
        outlook.sentence = format!("{when}, pas de données.");
        outlook.no_data = Some(no_data_reason(day));
        return outlook;
    }
    let inbound = day.weather.inbound;
    let top = top_category(day.incidents);
    outlook.sentence = if inbound == 0 {
        format!("{when}, aucune tentative d'attaque venue d'internet.")
    } else {
        let mut text = format!(
            "{when}, {}",
            fr::plural(inbound, "tentative d'attaque", "tentatives d'attaque")
        );
        if let (Some(book), Some((category, service))) = (book, &top)
            && let Some(phrase) = book.phrase(category)
        {
            text.push_str(", surtout ");
            text.push_str(phrase);
            if let Some(service) = service.as_deref().and_then(|s| book.service(s)) {
                text.push_str(" sur ");
                text.push_str(service);
            }
        }
        text.push('.');
        text
    };
    outlook.trend = trend(inbound, day.before);
    if let Some(book) = book {
        let category = top.as_ref().map(|(c, _)| c.as_str());
        outlook.advice = book
            .for_day(category, day.weather.level)
            .map(|a| view(book, a, day.territory));
        outlook.outbound = outbound(day.all_incidents);
        if !outlook.outbound.is_empty() {
            outlook.outbound_advice = Some(view(book, book.outbound(), day.territory));
        }
    }
    outlook
}

fn view(book: &Book, advice: &super::advice::Advice, territory: &str) -> AdviceView {
    AdviceView {
        urgent: advice.urgent.clone(),
        summary: advice.summary.clone(),
        steps: advice.steps.clone(),
        contacts: book.contacts(advice, territory),
    }
}

/// Why a day has no data, and what to do.
fn no_data_reason(day: &Day<'_>) -> String {
    let Sensing {
        state,
        last_alive,
        now_ms,
    } = day.sensing;
    match state {
        None => "Aucun boîtier n'est installé dans la commune : rien n'est mesuré. \
                 Pour en installer un, contactez l'équipe cybersécurité du territoire."
            .to_owned(),
        Some(SensorState::Silent) if day.day == day.today => {
            let since = match last_alive {
                Some(at) => format!(
                    "depuis {} (dernier signe de vie le {})",
                    fr::duration((now_ms - at) / 1000),
                    fr::date_time(at)
                ),
                None => "depuis son installation : il n'a jamais transmis".to_owned(),
            };
            format!(
                "Le boîtier est silencieux {since}. Vérifiez qu'il est branché et allumé et \
                 que la connexion internet de la mairie fonctionne ; sinon, appelez l'équipe \
                 cybersécurité du territoire."
            )
        }
        Some(_) if day.day == day.today => {
            "Le boîtier fonctionne mais n'a pas encore envoyé de rapport aujourd'hui : \
             revenez dans une heure."
                .to_owned()
        }
        Some(_) => "Pas de rapport du boîtier ce jour-là : il n'était pas encore installé, \
                    ou il était débranché."
            .to_owned(),
    }
}

/// The day's main inbound category and its most attacked service.
fn top_category(incidents: &[IncidentRow]) -> Option<(String, Option<String>)> {
    let mut counts: Vec<(&str, i64)> = Vec::new();
    for incident in incidents.iter().filter(|i| i.direction != "outbound") {
        match counts.iter_mut().find(|(c, _)| *c == incident.category) {
            Some(entry) => entry.1 += 1,
            None => counts.push((&incident.category, 1)),
        }
    }
    let (category, _) = counts.into_iter().max_by_key(|(_, n)| *n)?;
    let mut services: Vec<(&str, i64)> = Vec::new();
    let services_of = incidents
        .iter()
        .filter(|i| i.direction != "outbound" && i.category == category)
        .filter_map(|i| i.service.as_deref());
    for service in services_of {
        match services.iter_mut().find(|(s, _)| *s == service) {
            Some(entry) => entry.1 += 1,
            None => services.push((service, 1)),
        }
    }
    let service = services
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(s, _)| s.to_owned());
    Some((category.to_owned(), service))
}

/// "plus que d'habitude" against the mean of the days with data among
/// the last four weeks; `None` with fewer than 3 such days.
pub fn trend(inbound: i64, before: &[DayWeather]) -> Option<String> {
    let usual: Vec<i64> = before
        .iter()
        .rev()
        .take(USUAL_DAYS)
        .filter(|d| d.level != Level::NoData)
        .map(|d| d.inbound)
        .collect();
    if usual.len() < 3 {
        return None;
    }
    let count = i64::try_from(usual.len()).unwrap_or(i64::MAX);
    let mean = usual.iter().sum::<i64>() as f64 / count as f64;
    let usual_text = format!(
        "{} par jour en moyenne ces {} derniers jours",
        fr::number(mean.round() as i64),
        count
    );
    let word = if (inbound as f64) > (mean * 1.5).max(mean + 2.0) {
        "plus que d'habitude"
    } else if (inbound as f64) < mean * 0.5 && mean >= 2.0 {
        "moins que d'habitude"
    } else {
        "comme d'habitude"
    };
    Some(format!("C'est {word} ({usual_text})."))
}

/// The town-hall machines that contacted a malicious address, one line
/// per machine and address.
fn outbound(incidents: &[IncidentRow]) -> Vec<OutboundView> {
    let mut out: Vec<(OutboundView, i64, i64)> = Vec::new();
    for incident in incidents.iter().filter(|i| i.direction == "outbound") {
        let machine = incident
            .internal_host
            .clone()
            .unwrap_or_else(|| "machine non identifiée".to_owned());
        match out
            .iter_mut()
            .find(|(v, _, _)| v.machine == machine && v.remote == incident.source)
        {
            Some(entry) => {
                entry.1 += 1;
                entry.2 = entry.2.min(incident.first_seen);
            }
            None => out.push((
                OutboundView {
                    machine,
                    remote: incident.source.clone(),
                    when: String::new(),
                    what: incident
                        .label
                        .clone()
                        .unwrap_or_else(|| super::category_label(&incident.category).to_owned()),
                    times: String::new(),
                },
                1,
                incident.first_seen,
            )),
        }
    }
    out.into_iter()
        .map(|(mut view, times, first)| {
            view.times = fr::plural(times, "fois", "fois");
            view.when = fr::date_time(first);
            view
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(inbound: i64, level: Level) -> DayWeather {
        DayWeather {
            day: NaiveDate::default(),
            score: inbound,
            inbound,
            outbound: 0,
            level,
            defended: 0,
        }
    }

    #[test]
    fn the_trend_compares_with_the_usual() {
        let usual: Vec<DayWeather> = (0..10).map(|_| day(10, Level::Cloud)).collect();
        let check = |n, word: &str| {
            let text = trend(n, &usual).unwrap_or_default();
            assert!(text.contains(word), "{n}: {text}");
        };
        check(91, "plus que d'habitude");
        check(10, "comme d'habitude");
        check(2, "moins que d'habitude");
        assert_eq!(trend(5, &usual[..2]), None);
        let empty: Vec<DayWeather> = (0..10).map(|_| day(0, Level::NoData)).collect();
        assert_eq!(trend(5, &empty), None);
    }
}
