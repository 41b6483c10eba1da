//! The territory map as SVG, drawn by the server from the communes'
//! contours: each commune filled with its weather's colour, its symbol on
//! top, a tooltip with name and score, and a link to its page for those
//! who may see it. Readable without JavaScript.

use std::fmt::Write as _;

use super::weather::{CommuneWeather, Level};
use crate::territory::MapGeometry;

/// Above this many communes the symbols are left out (the colours say it,
/// and the page stays light for a whole region or country).
const MAX_SYMBOLS: usize = 2000;

/// Draws `geometry` coloured by `weather`; `may_open(code)` says whether
/// the commune's name links to its page.
pub fn render(
    geometry: &MapGeometry,
    weather: &[CommuneWeather],
    may_open: impl Fn(&str) -> bool,
) -> String {
    let (x, y, w, h) = geometry.view_box;
    let mut svg = String::with_capacity(geometry.shapes.iter().map(|s| s.path.len() + 160).sum());
    let _ = write!(
        svg,
        r#"<svg viewBox="{x:.1} {y:.1} {w:.1} {h:.1}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Carte de la cybermétéo du territoire">"#
    );
    let find = |code: &str| {
        weather
            .binary_search_by(|c| c.commune.as_str().cmp(code))
            .ok()
            .and_then(|i| weather.get(i))
    };
    for shape in &geometry.shapes {
        let (level, score) = find(&shape.code).map_or((Level::NoData, 0), |c| (c.level, c.score));
        let title = match level {
            Level::NoData => format!("{} : pas de données", escape(&shape.name)),
            _ => format!(
                "{} : {} (score {score})",
                escape(&shape.name),
                level.label_fr()
            ),
        };
        let path = format!(
            r#"<path d="{}" fill="{}" data-code="{}"><title>{title}</title></path>"#,
            shape.path,
            level.color(),
            shape.code
        );
        if may_open(&shape.code) {
            let _ = write!(svg, r#"<a href="/communes/{}">{path}</a>"#, shape.code);
        } else {
            svg.push_str(&path);
        }
    }
    if geometry.shapes.len() <= MAX_SYMBOLS {
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

/// Commune names go into SVG text: escape what XML needs.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
