//! The map in a real browser: the signed-in map page's screenshot must
//! show the Loire drawn, with the storm of the commune that reported one.

use std::path::Path;
use std::process::Command;

use chrono::{Duration, Utc};
use vigie_server::accounts::Role;

use super::{chromium, fetched};
use crate::common::{TestServer, enrolled_sensor, incident, post_report, sign_in_as};

/// Counts the screenshot's pixels close to `rgb`.
fn pixels_of(png_path: &Path, rgb: [u8; 3]) -> usize {
    let decoder = png::Decoder::new(std::fs::File::open(png_path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let channels = info.color_type.samples();
    buffer[..info.buffer_size()]
        .chunks(channels)
        .filter(|px| px.len() >= 3 && px[..3].iter().zip(rgb).all(|(a, b)| a.abs_diff(b) <= 6))
        .count()
}

#[tokio::test]
async fn the_map_is_drawn_in_a_browser() {
    let Some(browser_bin) = chromium() else {
        return;
    };
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let day = vigie_core::local_day(Utc::now()) - Duration::days(1);
    let token = enrolled_sensor(&server, "42218").await;
    let at = format!("{day}T12:00:00Z");
    let storm = vec![incident("scan", "inbound", &at); 150];
    assert_eq!(post_report(&server, &token, 1, &at, &at, storm).await, 200);
    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    // The page as the browser gets it, its stylesheet inlined so that the
    // file renders the same without the session cookie.
    let html = fetched(&admin, &server, &format!("/?jour={day}")).await;
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("carte.html");
    std::fs::write(&page, html).unwrap();
    let shot = dir.path().join("carte.png");
    let status = Command::new(browser_bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg("--window-size=1000,1400")
        // Under a loaded machine the screenshot was once taken before the
        // map was fully painted: every compositor stage first, and the
        // page idle.
        .arg("--run-all-compositor-stages-before-draw")
        .arg("--virtual-time-budget=5000")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(
        status.success() && shot.exists(),
        "chromium took no screenshot"
    );
    let no_data = pixels_of(&shot, [0xe4, 0xe7, 0xeb]);
    let storm = pixels_of(&shot, [0x7a, 0x2a, 0x8c]);
    eprintln!("screenshot: {no_data} no-data pixels, {storm} storm pixels");
    assert!(
        no_data > 100_000,
        "the territory is drawn: {no_data} grey pixels"
    );
    assert!(
        storm > 200,
        "Saint-Étienne's storm is drawn: {storm} purple pixels"
    );
}
