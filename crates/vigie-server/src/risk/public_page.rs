//! The territory's public page (`GET /public/territoire`) and its open
//! data CSV (`GET /public/territoire.csv`), for the Département's
//! website: anonymous, and only when `public_territory = true` in
//! vigie.toml (404 otherwise, as for a page that does not exist).
//!
//! What it must never do: show a figure `public::aggregate` withheld, a
//! commune's name or code, or anything about the caller (no session is
//! read: the page is the same for everyone).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use vigie_core::Category;

use super::public::{Attacks, Audits, Group, LEVELS, MIN_COMMUNES, Publication};
use crate::web::csv::{Cell, CsvFile};
use crate::web::{Chrome, render};
use crate::{AppError, AppState, fr, territory};

/// The page's and the CSV's words for a withheld section.
pub const WITHHELD: &str = "données non publiées : moins de 5 communes";

/// The body a request here may carry: none (a GET reads no body).
pub const MAX_BODY_BYTES: usize = 0;

/// A section's figures in words, for the page.
pub struct AttacksView {
    pub communes: String,
    pub total: String,
    /// (category label, incidents) in the categories' order.
    pub categories: Vec<(&'static str, String)>,
    /// (level label, css class, share of the commune-days).
    pub weather: Vec<(&'static str, &'static str, String)>,
}

pub struct AuditsView {
    pub audited: String,
    pub share: String,
    pub progress: String,
}

pub struct GroupView {
    pub name: String,
    pub communes: String,
    pub attacks: Option<AttacksView>,
    pub audits: Option<AuditsView>,
}

#[derive(Template)]
#[template(path = "risk/public.html")]
struct PublicPage {
    chrome: Chrome,
    territory: String,
    week: String,
    total: AttacksView,
    audits: AuditsView,
    groups: Vec<GroupView>,
    withheld: &'static str,
    min: usize,
}

/// `GET /public/territoire`: the anonymised page.
pub async fn page(State(state): State<AppState>) -> Result<Response, AppError> {
    let p = published(&state).await?;
    let page = PublicPage {
        chrome: Chrome::new("Cybersécurité des communes du territoire", None),
        territory: territory::territory_name(&state.db).await?,
        week: fr::day_range(p.monday, p.sunday),
        total: attacks_view(&p.attacks),
        audits: audits_view(&p.audits),
        groups: p.groups.iter().map(group_view).collect(),
        withheld: WITHHELD,
        min: MIN_COMMUNES,
    };
    render(&page)
}

/// `GET /public/territoire.csv`: the same figures as open data.
pub async fn csv(State(state): State<AppState>) -> Result<Response, AppError> {
    let p = published(&state).await?;
    let mut header = vec![
        "Semaine du",
        "Semaine au",
        "Groupe",
        "SIREN de l'EPCI",
        "Communes",
        "Publication",
        "Communes avec capteur",
        "Attaques",
    ];
    header.extend(Category::ALL.iter().map(|c| c.label_fr()));
    header.extend(LEVELS.iter().map(|l| l.label_fr()));
    header.extend([
        "Communes avec pré-diagnostic",
        "Part des communes avec pré-diagnostic (%)",
        "Avancement moyen des pré-diagnostics (%)",
    ]);
    let mut file = CsvFile::new(&header)?;
    let (monday, sunday) = (fr::day(p.monday), fr::day(p.sunday));
    for g in &p.groups {
        let name = group_name(g);
        let siren = g.epci.clone().unwrap_or_default();
        let row = Row {
            week: (&monday, &sunday),
            name: &name,
            siren: &siren,
            communes: g.communes,
            attacks: g.attacks.as_ref(),
            audits: g.audits.as_ref(),
        };
        row.write(&mut file)?;
    }
    let total = Row {
        week: (&monday, &sunday),
        name: "Territoire (groupes publiés)",
        siren: "",
        communes: p.audits.communes,
        attacks: Some(&p.attacks),
        audits: Some(&p.audits),
    };
    total.write(&mut file)?;
    file.into_response("territoire-anonymise.csv")
}

async fn published(state: &AppState) -> Result<std::sync::Arc<Publication>, AppError> {
    if !state.settings.public_territory {
        return Err(AppError::NotFound);
    }
    state.public_figures.get(state).await
}

/// One line of the CSV: a group, or the published groups together.
struct Row<'a> {
    week: (&'a str, &'a str),
    name: &'a str,
    siren: &'a str,
    communes: usize,
    attacks: Option<&'a Attacks>,
    audits: Option<&'a Audits>,
}

impl Row<'_> {
    fn write(&self, file: &mut CsvFile) -> Result<(), AppError> {
        let n = |v: usize| Cell::Number(i64::try_from(v).unwrap_or(i64::MAX));
        let status = match (self.attacks.is_some(), self.audits.is_some()) {
            (true, true) => "publiées".to_owned(),
            (false, false) => format!("capteurs et pré-diagnostics : {WITHHELD}"),
            (true, false) => format!("pré-diagnostics : {WITHHELD}"),
            (false, true) => format!("capteurs : {WITHHELD}"),
        };
        let mut cells = vec![
            Cell::Text(self.week.0),
            Cell::Text(self.week.1),
            Cell::Text(self.name),
            Cell::Text(self.siren),
            n(self.communes),
            Cell::Text(&status),
        ];
        let empty = Cell::Text("");
        match self.attacks {
            Some(a) => {
                cells.extend([n(a.communes), Cell::Number(a.total)]);
                cells.extend(
                    Category::ALL
                        .iter()
                        .map(|c| Cell::Number(a.by_category.get(c.as_str()).copied().unwrap_or(0))),
                );
                cells.extend(a.days.iter().map(|d| n(*d)));
            }
            None => cells.extend(std::iter::repeat_n(empty, 2 + Category::ALL.len() + 4)),
        }
        match self.audits {
            Some(a) => cells.extend([
                n(a.audited),
                Cell::Number(i64::try_from(a.share()).unwrap_or(0)),
                Cell::Number(i64::try_from(a.mean_progress()).unwrap_or(0)),
            ]),
            None => cells.extend([empty; 3]),
        }
        file.row(&cells)
    }
}

fn group_name(g: &Group) -> String {
    match &g.epci {
        Some(siren) => format!("EPCI {siren}"),
        None => "Communes sans EPCI".to_owned(),
    }
}

fn group_view(g: &Group) -> GroupView {
    GroupView {
        name: group_name(g),
        communes: fr::count(g.communes, "commune", "communes"),
        attacks: g.attacks.as_ref().map(attacks_view),
        audits: g.audits.as_ref().map(audits_view),
    }
}

fn attacks_view(a: &Attacks) -> AttacksView {
    let days: usize = a.days.iter().sum();
    AttacksView {
        communes: fr::count(a.communes, "commune équipée", "communes équipées"),
        total: fr::plural(a.total, "attaque", "attaques"),
        categories: Category::ALL
            .iter()
            .map(|c| {
                let n = a.by_category.get(c.as_str()).copied().unwrap_or(0);
                (c.label_fr(), fr::number(n))
            })
            .collect(),
        weather: LEVELS
            .iter()
            .zip(a.days)
            .map(|(level, d)| {
                let share = if days == 0 {
                    0.0
                } else {
                    d as f64 * 100.0 / days as f64
                };
                (level.label_fr(), level.css_class(), fr::percent(share))
            })
            .collect(),
    }
}

fn audits_view(a: &Audits) -> AuditsView {
    AuditsView {
        audited: fr::count(a.audited, "commune", "communes"),
        share: fr::percent(a.share() as f64),
        progress: fr::percent(a.mean_progress() as f64),
    }
}
