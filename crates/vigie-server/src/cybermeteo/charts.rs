//! Small SVG charts drawn by the server: readable without JavaScript, no
//! chart library. Heights use a square-root scale so that a day with 3
//! incidents still shows beside a storm of 300.

use std::fmt::Write as _;

use super::history::DayWeather;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 140.0;

/// One bar per day, coloured by its weather.
pub fn day_bars(days: &[DayWeather]) -> String {
    let max = days.iter().map(|d| d.score).max().unwrap_or(0).max(1) as f64;
    let step = WIDTH / days.len().max(1) as f64;
    let mut svg = format!(
        r##"<svg viewBox="0 0 {WIDTH} {}" role="img" aria-label="Score par jour"><line x1="0" y1="{HEIGHT}" x2="{WIDTH}" y2="{HEIGHT}" stroke="#9aa5b1"/>"##,
        HEIGHT + 16.0
    );
    for (i, day) in days.iter().enumerate() {
        let height = if day.score > 0 {
            (day.score as f64 / max).sqrt() * (HEIGHT - 4.0)
        } else {
            2.0
        };
        let x = i as f64 * step;
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{} : {} (score {}, {} entrantes, {} sortantes)</title></rect>"#,
            x + step * 0.1,
            HEIGHT - height,
            step * 0.8,
            height,
            day.level.color(),
            day.day.format("%d/%m/%Y"),
            day.level.label_fr(),
            day.score,
            day.inbound,
            day.outbound
        );
        if days.len() <= 10 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"#,
                x + step / 2.0,
                HEIGHT + 13.0,
                day.day.format("%d/%m")
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The day's incidents hour by hour (inbound above, outbound in red).
pub fn hourly(inbound: &[i64; 24], outbound: &[i64; 24]) -> String {
    let max = inbound
        .iter()
        .zip(outbound)
        .map(|(i, o)| i + o)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let step = WIDTH / 24.0;
    let mut svg = format!(
        r#"<svg viewBox="0 0 {WIDTH} {}" role="img" aria-label="Incidents par heure">"#,
        HEIGHT + 16.0
    );
    for hour in 0..24 {
        let (i, o) = (inbound[hour] as f64, outbound[hour] as f64);
        let total_h = ((i + o) / max).sqrt() * (HEIGHT - 4.0);
        let out_h = if i + o > 0.0 {
            total_h * o / (i + o)
        } else {
            0.0
        };
        let x = hour as f64 * step;
        let _ = write!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#5b8fd6"><title>{hour} h : {} entrantes, {} sortantes</title></rect><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#b3261e"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{hour}</text>"##,
            x + 2.0,
            HEIGHT - total_h,
            step - 4.0,
            total_h - out_h,
            inbound[hour],
            outbound[hour],
            x + 2.0,
            HEIGHT - out_h,
            step - 4.0,
            out_h,
            x + step / 2.0,
            HEIGHT + 13.0
        );
    }
    svg.push_str("</svg>");
    svg
}
