//! The territory's anonymised figures for the public page (issue 15,
//! "Sharing"): over the last complete week (Monday to Sunday, Paris),
//! per EPCI, the attacks by category and the weather of the communes
//! whose sensor reported, and the share of communes with a pre-audit and
//! its average progress (questions answered of those that apply).
//!
//! What it must never do: let one commune's figures be read. A group's
//! section is published only when at least [`MIN_COMMUNES`] of its
//! communes have that data (sensor reports; a pre-audit), else it is
//! withheld whole; a withheld group's figures count nowhere, not even in
//! the territory's total, so that no subtraction gives them back; no
//! commune's name or code is part of the figures. Computed at most once
//! every [`CACHE_FOR`] per process: the page is anonymous and the
//! computation reads the whole territory.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};

use crate::cybermeteo::weather::{self, Communes, Level};
use crate::territory::{self, CommuneCode};
use crate::{AppError, AppState, audits};

/// The fewest communes with data for a group's figures to be published.
pub const MIN_COMMUNES: usize = 5;
/// How long computed figures are served again.
pub const CACHE_FOR: Duration = Duration::from_secs(600);
/// The weather levels counted, in the page's order.
pub const LEVELS: [Level; 4] = [Level::Sun, Level::Cloud, Level::Rain, Level::Storm];

/// What one commune brings to its group (never published on its own).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CommuneWeek {
    pub epci: Option<String>,
    /// Days of the week its sensor reported on, by [`LEVELS`].
    pub days: [usize; 4],
    /// Incidents of the week (both directions), by category.
    pub attacks: BTreeMap<String, i64>,
    /// Its last pre-audit's progress, 0–100; `None`: no pre-audit.
    pub audit: Option<u8>,
}

impl CommuneWeek {
    fn reported(&self) -> bool {
        self.days.iter().any(|d| *d > 0)
    }
}

/// The attacks and weather of a group's communes with a sensor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attacks {
    /// Communes whose sensor reported during the week.
    pub communes: usize,
    pub by_category: BTreeMap<String, i64>,
    pub total: i64,
    /// Commune-days by [`LEVELS`].
    pub days: [usize; 4],
}

/// The pre-audits of a group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Audits {
    pub audited: usize,
    /// The group's communes, audited or not.
    pub communes: usize,
    progress_sum: u64,
}

impl Audits {
    /// The share of the communes with a pre-audit, 0–100.
    pub fn share(&self) -> u64 {
        (self.audited as u64 * 100)
            .checked_div(self.communes as u64)
            .unwrap_or(0)
    }

    /// Their average progress, 0–100.
    pub fn mean_progress(&self) -> u64 {
        self.progress_sum
            .checked_div(self.audited as u64)
            .unwrap_or(0)
    }
}

/// One EPCI (or the communes without one): each section `None` when
/// withheld.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// SIREN of the EPCI; `None`: communes belonging to none.
    pub epci: Option<String>,
    pub communes: usize,
    pub attacks: Option<Attacks>,
    pub audits: Option<Audits>,
}

/// The page's figures for one week.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publication {
    pub monday: NaiveDate,
    pub sunday: NaiveDate,
    pub groups: Vec<Group>,
    /// The published sections added up (withheld ones left out).
    pub attacks: Attacks,
    pub audits: Audits,
}

/// The figures of `communes` grouped by EPCI, small groups withheld.
pub fn aggregate(monday: NaiveDate, communes: &[CommuneWeek]) -> Publication {
    let mut groups: BTreeMap<Option<&str>, Vec<&CommuneWeek>> = BTreeMap::new();
    for c in communes {
        groups.entry(c.epci.as_deref()).or_default().push(c);
    }
    let mut out = Publication {
        monday,
        sunday: monday + chrono::Duration::days(6),
        groups: Vec::new(),
        attacks: Attacks::default(),
        audits: Audits::default(),
    };
    // Communes without an EPCI last.
    let ordered = groups
        .iter()
        .filter(|(epci, _)| epci.is_some())
        .chain(groups.iter().filter(|(epci, _)| epci.is_none()));
    for (epci, members) in ordered {
        let mut attacks = Attacks::default();
        let mut audits = Audits {
            communes: members.len(),
            ..Audits::default()
        };
        for c in members {
            if c.reported() {
                attacks.communes += 1;
                for (category, n) in &c.attacks {
                    *attacks.by_category.entry(category.clone()).or_default() += n;
                    attacks.total = attacks.total.saturating_add(*n);
                }
                for (sum, d) in attacks.days.iter_mut().zip(c.days) {
                    *sum += d;
                }
            }
            if let Some(progress) = c.audit {
                audits.audited += 1;
                audits.progress_sum += u64::from(progress);
            }
        }
        let attacks = (attacks.communes >= MIN_COMMUNES).then_some(attacks);
        let audits = (audits.audited >= MIN_COMMUNES).then_some(audits);
        if let Some(a) = &attacks {
            out.attacks.communes += a.communes;
            for (category, n) in &a.by_category {
                *out.attacks.by_category.entry(category.clone()).or_default() += n;
            }
            out.attacks.total = out.attacks.total.saturating_add(a.total);
            for (sum, d) in out.attacks.days.iter_mut().zip(a.days) {
                *sum += d;
            }
        }
        if let Some(a) = &audits {
            out.audits.audited += a.audited;
            out.audits.communes += a.communes;
            out.audits.progress_sum += a.progress_sum;
        }
        out.groups.push(Group {
            epci: epci.map(str::to_owned),
            communes: members.len(),
            attacks,
            audits,
        });
    }
    out
}

/// The Monday of the last complete week before `today`.
pub fn last_week(today: NaiveDate) -> NaiveDate {
    let this_monday =
        today - chrono::Duration::days(i64::from(today.weekday().num_days_from_monday()));
    this_monday - chrono::Duration::days(7)
}

/// The figures last computed, and when.
#[derive(Default)]
pub struct Cache(tokio::sync::Mutex<Option<(Instant, Arc<Publication>)>>);

impl Cache {
    /// Last week's figures, computed again when older than [`CACHE_FOR`]
    /// or of another week. One computation at a time: the requests
    /// arriving meanwhile wait for it and share it.
    pub async fn get(&self, state: &AppState) -> Result<Arc<Publication>, AppError> {
        let monday = last_week(crate::cybermeteo::today());
        let mut cached = self.0.lock().await;
        if let Some((at, publication)) = cached.as_ref()
            && at.elapsed() < CACHE_FOR
            && publication.monday == monday
        {
            return Ok(publication.clone());
        }
        let publication = Arc::new(aggregate(monday, &gather(state, monday).await?));
        *cached = Some((Instant::now(), publication.clone()));
        Ok(publication)
    }
}

/// Every commune's week, read from the weather, the daily counts and the
/// pre-audits.
async fn gather(state: &AppState, monday: NaiveDate) -> Result<Vec<CommuneWeek>, AppError> {
    let db = &state.db;
    let sunday = monday + chrono::Duration::days(6);
    let mut weeks: HashMap<CommuneCode, CommuneWeek> = territory::communes(db)
        .await?
        .into_iter()
        .map(|c| {
            let week = CommuneWeek {
                epci: c.epci,
                ..CommuneWeek::default()
            };
            (c.code, week)
        })
        .collect();
    // The week is over: no sensor is "silent today" in it.
    let days = weather::for_days(db, Communes::All, monday, sunday, sunday, 0).await?;
    for (_, communes) in days {
        for w in communes {
            let level = LEVELS.iter().position(|l| *l == w.level);
            if let (Some(index), Some(week)) = (level, weeks.get_mut(&w.commune))
                && let Some(day) = week.days.get_mut(index)
            {
                *day += 1;
            }
        }
    }
    let counts: Vec<(CommuneCode, String, i64)> = sqlx::query_as(
        "SELECT commune, category, CAST(SUM(inbound + outbound) AS BIGINT) FROM daily_counts \
         WHERE day >= $1 AND day <= $2 GROUP BY commune, category",
    )
    .bind(monday.to_string())
    .bind(sunday.to_string())
    .fetch_all(db.read())
    .await?;
    for (commune, category, n) in counts {
        if let Some(week) = weeks.get_mut(&commune) {
            week.attacks.insert(category, n);
        }
    }
    let end_ms = super::gather::end_of(sunday);
    let rounds: Vec<(CommuneCode, String)> = sqlx::query_as(
        "SELECT commune, id FROM audits WHERE created_at < $1 ORDER BY created_at DESC, round DESC",
    )
    .bind(end_ms)
    .fetch_all(db.read())
    .await?;
    for (commune, id) in rounds {
        let Some(week) = weeks.get_mut(&commune) else {
            continue;
        };
        if week.audit.is_some() {
            continue;
        }
        let Some(audit) = audits::store::get(db, &id).await? else {
            continue;
        };
        let answers = audits::store::answer_map(db, &id).await?;
        let scores = audits::score::scores(&audit.book, &answers);
        let progress = (scores.answered * 100)
            .checked_div(scores.applicable)
            .unwrap_or(0);
        week.audit = Some(u8::try_from(progress.min(100)).unwrap_or(100));
    }
    Ok(weeks.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commune(epci: &str, reported: bool, audit: Option<u8>) -> CommuneWeek {
        CommuneWeek {
            epci: Some(epci.to_owned()),
            days: if reported { [5, 1, 1, 0] } else { [0; 4] },
            attacks: if reported {
                BTreeMap::from([("scan".to_owned(), 10)])
            } else {
                BTreeMap::new()
            },
            audit,
        }
    }

    #[test]
    fn four_communes_are_withheld_and_five_published() {
        let mut communes = Vec::new();
        communes.extend((0..4).map(|_| commune("200000004", true, Some(50))));
        communes.extend((0..5).map(|_| commune("200000005", true, Some(80))));
        communes.push(commune("200000005", false, None));
        let monday = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let p = aggregate(monday, &communes);
        assert_eq!(p.sunday.to_string(), "2026-03-08");
        let four = &p.groups[0];
        assert_eq!(
            (four.communes, &four.attacks, &four.audits),
            (4, &None, &None)
        );
        let five = &p.groups[1];
        let attacks = five.attacks.as_ref().unwrap();
        assert_eq!(
            (attacks.communes, attacks.total, attacks.days),
            (5, 50, [25, 5, 5, 0])
        );
        let audits = five.audits.as_ref().unwrap();
        assert_eq!((audits.share(), audits.mean_progress()), (83, 80));
        // The withheld group counts nowhere.
        assert_eq!((p.attacks.communes, p.attacks.total), (5, 50));
        assert_eq!(p.audits.audited, 5);
    }

    #[test]
    fn sections_are_withheld_apart_and_communes_without_an_epci_come_last() {
        let mut communes: Vec<CommuneWeek> =
            (0..6).map(|_| commune("200000006", true, None)).collect();
        communes.push(CommuneWeek::default());
        let p = aggregate(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(), &communes);
        assert!(p.groups[0].attacks.is_some() && p.groups[0].audits.is_none());
        assert_eq!(p.groups[1].epci, None);
    }

    #[test]
    fn the_last_complete_week() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(last_week(day("2026-03-09")), day("2026-03-02"));
        assert_eq!(last_week(day("2026-03-15")), day("2026-03-02"));
        assert_eq!(last_week(day("2026-03-16")), day("2026-03-09"));
    }
}
