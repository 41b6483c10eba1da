//! The territory map as SVG, drawn by the server from the communes'
//! contours: each commune filled with its weather's colour, its symbol on
//! top, a tooltip with name and score, and a link to its page for those
//! who may see it. Readable without JavaScript.

use std::fmt::Write as _;

use super::weather::{CommuneWeather, Level};
use crate::territory::MapGeometry;

/// Above this many communes the symbols and the per-commune links are left
/// out: the colours say it all, and a whole region or country stays light
/// (a click opens the commune through `vigie.js`; the territory page lists
/// every commune with a link, for reading without JavaScript).
const MAX_DETAILED: usize = 2000;

/// Draws `geometry` coloured by `weather`; `may_open(code)` says whether
/// the commune links to its page.
pub fn render(
    geometry: &MapGeometry,
    weather: &[CommuneWeather],
    may_open: impl Fn(&str) -> bool,
    own: Option<&str>,
) -> String {
    let (x, y, w, h) = geometry.view_box;
    let detailed = geometry.shapes.len() <= MAX_DETAILED;
    let mut svg = String::with_capacity(geometry.shapes.iter().map(|s| s.path.len() + 64).sum());
    // With links inside, the map is a group of links the keyboard and
    // screen readers go through; an image's content would be hidden from
    // them (axe-core's nested-interactive rule).
    let links = detailed && geometry.shapes.iter().any(|s| may_open(&s.code));
    let role = if links { "group" } else { "img" };
    let _ = write!(
        svg,
        r#"<svg viewBox="{x:.1} {y:.1} {w:.1} {h:.1}" xmlns="http://www.w3.org/2000/svg" role="{role}" aria-label="Carte de la cybermétéo du territoire">"#
    );
    // The levels' colours are in vigie.css (`.map .s` ...): an inline
    // <style> would need 'unsafe-inline' in the Content-Security-Policy.
    let find = |code: &str| {
        weather
            .binary_search_by(|c| c.commune.as_str().cmp(code))
            .ok()
            .and_then(|i| weather.get(i))
    };
    for shape in &geometry.shapes {
        let (level, score) = find(&shape.code).map_or((Level::NoData, 0), |c| (c.level, c.score));
        let name = escape(&shape.name);
        // Grey already says "no data" (the legend tells): the name suffices.
        let title = match level {
            Level::NoData => format!("{name} : pas de données"),
            _ => format!(
                "{name} : {} (score {})",
                level.label_fr(),
                crate::fr::number(score)
            ),
        };
        let own_class = if own == Some(shape.code.as_str()) {
            " own"
        } else {
            ""
        };
        let path = format!(
            r#"<path d="{}" class="{}{own_class}" id="c{}"><title>{title}</title></path>"#,
            shape.path,
            class(level),
            shape.code
        );
        if detailed && may_open(&shape.code) {
            // A link, so that the keyboard (Tab) and screen readers reach
            // the commune: its name is the link's accessible name.
            let _ = write!(
                svg,
                r#"<a href="/communes/{}" aria-label="{title}">{path}</a>"#,
                shape.code
            );
        } else {
            svg.push_str(&path);
        }
    }
    if detailed {
        let size = (w / 60.0).max(4.0);
        let _ = write!(
            svg,
            r#"<g font-size="{size:.1}" text-anchor="middle" pointer-events="none">"#
        );
        for shape in &geometry.shapes {
            let level = find(&shape.code).map_or(Level::NoData, |c| c.level);
            if level != Level::NoData {
                let _ = write!(
                    svg,
                    r#"<text x="{:.1}" y="{:.1}" dominant-baseline="middle">{}</text>"#,
                    shape.label_x,
                    shape.label_y,
                    level.symbol()
                );
            }
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg
}

/// A one-letter CSS class per level keeps a country-wide map small.
fn class(level: Level) -> &'static str {
    level.css_class()
}

/// Commune names go into SVG text: escape what XML needs.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
