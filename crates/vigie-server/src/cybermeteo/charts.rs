//! Small SVG charts drawn by the server: readable without JavaScript, no
//! chart library. Linear scales with a labelled axis, so that heights
//! compare: the commune page draws its 8 and 90 days on one scale (2
//! attacks never look like 91). A day without data is drawn as such (a
//! dashed outline), never as an empty bar. Each chart carries a `<title>`
//! and a `<desc>` with its figures, for screen readers; the page adds a
//! table. The view boxes are narrow (400 units) so that labels stay
//! readable on a 390 px phone, where the chart is drawn about 350 px wide.

use std::fmt::Write as _;

use super::history::DayWeather;
use super::weather::{Level, Thresholds};
use crate::fr;

const WIDTH: f64 = 400.0;
const HEIGHT: f64 = 150.0;
/// Room for the axis labels on the left and the dates below.
const LEFT: f64 = 34.0;
const BOTTOM: f64 = 20.0;
const TOP: f64 = 14.0;
const FONT: f64 = 12.0;

/// A day of a chart as its text alternative shows it.
#[derive(Clone, Debug)]
pub struct DayRow {
    pub date: String,
    pub level: &'static str,
    pub inbound: String,
    pub outbound: String,
}

impl From<&DayWeather> for DayRow {
    fn from(day: &DayWeather) -> Self {
        let no_data = day.level == Level::NoData;
        let figure = |n: i64| {
            if no_data {
                "—".to_owned()
            } else {
                fr::number(n)
            }
        };
        DayRow {
            date: day.day.format("%d/%m/%Y").to_string(),
            level: day.level.label_fr(),
            inbound: figure(day.inbound),
            outbound: figure(day.outbound),
        }
    }
}

/// The top of the score axis for `days`: their highest score, at least
/// the rain threshold (a quiet month does not fill the chart), rounded up
/// to a round number.
pub fn scale_max(days: &[DayWeather], thresholds: Thresholds) -> i64 {
    let max = days
        .iter()
        .filter(|d| d.level != Level::NoData)
        .map(|d| d.score)
        .max()
        .unwrap_or(0)
        .max(thresholds.rain_min)
        .max(1);
    nice(max)
}

/// The smallest of 1, 2, 5 × 10ⁿ at least `n`.
fn nice(n: i64) -> i64 {
    let mut step = 1i64;
    loop {
        for m in [1, 2, 5] {
            let candidate = step.saturating_mul(m);
            if candidate >= n || candidate == i64::MAX {
                return candidate;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// One bar per day, coloured by its weather, on a score axis from 0 to
/// `max`; values written above the bars when there is room.
pub fn day_bars(days: &[DayWeather], max: i64, title: &str) -> String {
    let max = max.max(1) as f64;
    let plot_w = WIDTH - LEFT - 4.0;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let step = plot_w / days.len().max(1) as f64;
    let few = days.len() <= 10;
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-t {id}-d"><title id="{id}-t">{title}</title><desc id="{id}-d">{desc}</desc>"#,
        id = chart_id(title),
        desc = describe(days),
    );
    axis(&mut svg, max);
    for (i, day) in days.iter().enumerate() {
        let x = LEFT + i as f64 * step;
        let tip = format!(
            "{} : {}",
            day.day.format("%d/%m/%Y"),
            if day.level == Level::NoData {
                "pas de données".to_owned()
            } else {
                format!(
                    "{}, score {} ({} entrantes, {} sortantes)",
                    day.level.label_fr(),
                    fr::number(day.score),
                    fr::number(day.inbound),
                    fr::number(day.outbound)
                )
            }
        );
        if day.level == Level::NoData {
            let _ = write!(
                svg,
                r##"<rect class="nodata" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="#8a96a3" stroke-dasharray="3 2"><title>{tip}</title></rect>"##,
                x + step * 0.15,
                TOP + plot_h - 12.0,
                (step * 0.7).max(1.0),
                12.0
            );
        } else {
            let height = (day.score as f64 / max).min(1.0) * plot_h;
            let height = if day.score > 0 { height.max(2.0) } else { 1.0 };
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{tip}</title></rect>"#,
                x + step * 0.15,
                TOP + plot_h - height,
                (step * 0.7).max(1.0),
                height,
                day.level.color(),
            );
            if few {
                let _ = write!(
                    svg,
                    r#"<text x="{:.1}" y="{:.1}" font-size="{FONT}" text-anchor="middle">{}</text>"#,
                    x + step / 2.0,
                    TOP + plot_h - height - 3.0,
                    fr::number(day.score)
                );
            }
        }
        let label_every = if few { 1 } else { 15 };
        if (days.len() - 1 - i).is_multiple_of(label_every) {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" font-size="{FONT}" text-anchor="middle">{}</text>"#,
                (x + step / 2.0).clamp(LEFT + 14.0, WIDTH - 16.0),
                HEIGHT - 5.0,
                day.day.format("%d/%m")
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The day's incidents hour by hour (inbound in blue, outbound in red on
/// top), on its own axis.
pub fn hourly(inbound: &[i64; 24], outbound: &[i64; 24]) -> String {
    let totals: Vec<i64> = inbound.iter().zip(outbound).map(|(i, o)| i + o).collect();
    let max = nice(totals.iter().copied().max().unwrap_or(0).max(5)) as f64;
    let plot_w = WIDTH - LEFT - 4.0;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let step = plot_w / 24.0;
    let busy: Vec<String> = (0..24)
        .filter(|h| totals.get(*h).is_some_and(|t| *t > 0))
        .map(|h| {
            format!(
                "{h} h : {}",
                fr::number(totals.get(h).copied().unwrap_or(0))
            )
        })
        .collect();
    let desc = if busy.is_empty() {
        "Aucune attaque ce jour.".to_owned()
    } else {
        format!("Attaques par heure : {}.", busy.join(", "))
    };
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="heures-t heures-d"><title id="heures-t">Attaques heure par heure</title><desc id="heures-d">{desc}</desc>"#
    );
    axis(&mut svg, max);
    for hour in 0..24 {
        let (i, o) = (inbound[hour] as f64, outbound[hour] as f64);
        let total_h = ((i + o) / max).min(1.0) * plot_h;
        let out_h = if i + o > 0.0 {
            total_h * o / (i + o)
        } else {
            0.0
        };
        let x = LEFT + hour as f64 * step;
        let _ = write!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#3f73b8"><title>{hour} h : {} entrantes, {} sortantes</title></rect><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#b3261e"/>"##,
            x + 1.0,
            TOP + plot_h - total_h,
            step - 2.0,
            total_h - out_h,
            fr::number(inbound[hour]),
            fr::number(outbound[hour]),
            x + 1.0,
            TOP + plot_h - out_h,
            step - 2.0,
            out_h,
        );
        if hour % 3 == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" font-size="{FONT}" text-anchor="middle">{hour} h</text>"#,
                x + step / 2.0,
                HEIGHT - 5.0,
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The vertical axis: 0, half and the top, with grid lines.
fn axis(svg: &mut String, max: f64) {
    let plot_h = HEIGHT - BOTTOM - TOP;
    for fraction in [0.0, 0.5, 1.0] {
        let y = TOP + plot_h * (1.0 - fraction);
        let value = (max * fraction).round() as i64;
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="{}"/><text x="{:.1}" y="{:.1}" font-size="{FONT}" text-anchor="end">{}</text>"##,
            WIDTH - 4.0,
            if fraction == 0.0 {
                "#5b6776"
            } else {
                "#d8dee6"
            },
            LEFT - 4.0,
            y + 4.0,
            fr::number(value)
        );
    }
}

/// A short id from a chart's title, for `aria-labelledby`.
fn chart_id(title: &str) -> String {
    let digits: String = title.chars().filter(char::is_ascii_digit).collect();
    format!("graphe{digits}")
}

/// The figures of a day chart, in words.
fn describe(days: &[DayWeather]) -> String {
    let with_data: Vec<&DayWeather> = days.iter().filter(|d| d.level != Level::NoData).collect();
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return "Aucun jour.".to_owned();
    };
    let worst = with_data.iter().max_by_key(|d| d.score);
    let mut text = format!(
        "Du {} au {} : {} avec données",
        first.day.format("%d/%m/%Y"),
        last.day.format("%d/%m/%Y"),
        fr::plural(i64::try_from(with_data.len()).unwrap_or(0), "jour", "jours"),
    );
    if let Some(worst) = worst {
        let _ = write!(
            text,
            ", le pire le {} (score {}, {})",
            worst.day.format("%d/%m/%Y"),
            fr::number(worst.score),
            worst.level.label_fr()
        );
    }
    text.push('.');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn day(n: u32, score: i64, level: Level) -> DayWeather {
        DayWeather {
            day: NaiveDate::from_ymd_opt(2026, 3, n).unwrap_or_default(),
            score,
            inbound: score,
            outbound: 0,
            level,
            defended: 0,
        }
    }

    #[test]
    fn round_scale_tops() {
        let check = |n, expected| assert_eq!(nice(n), expected, "{n}");
        check(1, 1);
        check(3, 5);
        check(11, 20);
        check(91, 100);
        check(101, 200);
    }

    #[test]
    fn a_small_day_stays_small_on_a_shared_scale() {
        let days = [day(1, 2, Level::Cloud), day(2, 91, Level::Rain)];
        let max = scale_max(&days, Thresholds::default());
        assert_eq!(max, 100);
        let svg = day_bars(&days[..1], max, "Les 8 derniers jours");
        // Height of 2 on a 0–100 axis of 116 units: about 2.3, not the full height.
        assert!(svg.contains(r#"height="2.3""#), "{svg}");
        assert!(svg.contains(">100</text>") && svg.contains(">01/03</text>"));
    }

    #[test]
    fn a_day_without_data_is_drawn_as_such() {
        let svg = day_bars(&[day(1, 0, Level::NoData)], 20, "Les 8 derniers jours");
        assert!(svg.contains(r#"class="nodata""#) && svg.contains("pas de données"));
        assert!(svg.contains("<desc"));
    }
}
