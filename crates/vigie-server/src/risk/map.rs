//! The territory's risk map as SVG, from the same projected contours as
//! the weather map (`territory::MapGeometry`): each commune filled with
//! the level of its risk or of one factor, a tooltip with the score and
//! how many factors are known, and a link to its risk page for those who
//! may see it. Readable without JavaScript; colours in `vigie.css`.
//!
//! What it must never do: draw a commune without data in a "good" colour
//! (unknown has its own grey), or link a commune the caller may not see.

use std::fmt::Write as _;

use super::factors::{Kind, Level};
use super::gather::Assessment;
use super::rules::Rules;
use crate::cybermeteo::map::escape;
use crate::territory::MapGeometry;

/// Above this many communes the per-commune links are left out, as on the
/// weather map: the list below the map links every commune shown.
const MAX_DETAILED: usize = 2000;

/// What the map is coloured by: the risk, or one factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Risk,
    Factor(Kind),
}

impl View {
    /// From `?vue=`: unknown words mean the risk.
    pub fn parse(text: Option<&str>) -> View {
        Kind::ALL
            .into_iter()
            .find(|k| Some(k.slug()) == text)
            .map_or(View::Risk, View::Factor)
    }

    pub fn slug(self) -> &'static str {
        match self {
            View::Risk => "risque",
            View::Factor(k) => k.slug(),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            View::Risk => "Risque d'ensemble",
            View::Factor(k) => k.label(),
        }
    }

    /// The value and level of `a` in this view.
    pub fn of(self, rules: &Rules, a: &Assessment) -> (Option<u8>, Level) {
        match self {
            View::Risk => (a.risk, a.level),
            View::Factor(k) => {
                let score = a.factors.get(k.index()).and_then(|f| f.score);
                (score, Level::of(rules, score))
            }
        }
    }
}

/// Draws `geometry` coloured by `view` of `assessed` (sorted by code).
pub fn render(
    geometry: &MapGeometry,
    rules: &Rules,
    assessed: &[Assessment],
    view: View,
    may_open: impl Fn(&str) -> bool,
) -> String {
    let (x, y, w, h) = geometry.view_box;
    let detailed = geometry.shapes.len() <= MAX_DETAILED;
    let links = detailed && geometry.shapes.iter().any(|s| may_open(&s.code));
    let role = if links { "group" } else { "img" };
    let mut svg = String::with_capacity(geometry.shapes.iter().map(|s| s.path.len() + 96).sum());
    let _ = write!(
        svg,
        r#"<svg viewBox="{x:.1} {y:.1} {w:.1} {h:.1}" xmlns="http://www.w3.org/2000/svg" role="{role}" aria-label="Carte des risques du territoire : {}">"#,
        view.label().to_lowercase()
    );
    let find = |code: &str| {
        assessed
            .binary_search_by(|a| a.commune.code.as_str().cmp(code))
            .ok()
            .and_then(|i| assessed.get(i))
    };
    for shape in &geometry.shapes {
        let name = escape(&shape.name);
        let (class, title) = match find(&shape.code) {
            Some(a) => {
                let (value, level) = view.of(rules, a);
                let score = value.map_or_else(|| "inconnu".to_owned(), |v| format!("{v}/100"));
                (
                    level.css_class(),
                    format!(
                        "{name} : {} ({score}), {} facteurs connus sur 4",
                        level.label(),
                        a.known()
                    ),
                )
            }
            None => (
                Level::Unknown.css_class(),
                format!("{name} : pas de données"),
            ),
        };
        let path = format!(
            r#"<path d="{}" class="{class}"><title>{title}</title></path>"#,
            shape.path
        );
        if detailed && may_open(&shape.code) {
            let _ = write!(
                svg,
                r#"<a href="/communes/{}/risques" aria-label="{title}">{path}</a>"#,
                shape.code
            );
        } else {
            svg.push_str(&path);
        }
    }
    svg.push_str("</svg>");
    svg
}
