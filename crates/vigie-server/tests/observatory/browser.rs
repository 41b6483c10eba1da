//! The map in a real browser: headless Chromium (Debian's `chromium`)
//! renders the signed-in map page and the screenshot must show the Loire
//! drawn, with the storm of the commune that reported one.
//!
//! Needs Chromium; CI installs it. Elsewhere the test says why it skips,
//! but under CI a missing browser is a failure, not a skip.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{Duration, Utc};
use common::{TestServer, enrolled_sensor, incident, post_report, sign_in_as};
use vigie_server::accounts::Role;

fn chromium() -> Option<PathBuf> {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|path| path.exists())
}

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
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium (Debian package `chromium`)"
        );
        eprintln!("skipped: no Chromium on this machine (apt-get install chromium)");
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
    let html = admin
        .get(server.at(&format!("/?jour={day}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The page as the browser gets it, its stylesheet inlined so that the
    // file renders the same without the session cookie.
    let css = admin
        .get(server.at("/static/vigie.css"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let html = html.replace(
        r#"<link rel="stylesheet" href="/static/vigie.css">"#,
        &format!("<style>{css}</style>"),
    );
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

/// What the probe script injected into a page measured, at one width.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Measure {
    scroll_width: f64,
    client_width: f64,
    /// Bottom of `.sentence` (the weather in words), if on the page.
    sentence_bottom: Option<f64>,
    /// Bottom of the advice's first paragraph, if on the page.
    advice_bottom: Option<f64>,
    viewport_height: f64,
    /// The class of `main`'s first element.
    first_in_main: String,
    /// The map's first commune link is in the Tab order and takes focus.
    map_link_focusable: bool,
    /// Elements wider than the screen (tag.class), for the failure message.
    too_wide: Vec<String>,
}

/// Measures the page the browser would get for `path`, in Chromium at
/// `width` × 844: the document's width, where the weather sentence and the
/// advice end, what comes first, whether the map's communes take the
/// keyboard focus. The page is saved with its stylesheet inlined and a
/// measuring script appended (the file has no Content-Security-Policy);
/// `--dump-dom` returns the DOM once the script has run.
async fn measure(
    browser_bin: &Path,
    client: &reqwest::Client,
    server: &TestServer,
    path: &str,
    width: u32,
    shots: &Path,
) -> Measure {
    let json = run_in_page(browser_bin, client, server, path, width, shots, MEASURE).await;
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{path}: {e}: {json}"))
}

/// The script `measure` appends to a page: it posts its measure, as JSON,
/// to the frame around the page.
const MEASURE: Probe = Probe {
    name: "mesure",
    script: r#"<script>
window.addEventListener("load", () => {
  const doc = document.documentElement;
  const bottom = (sel) => { const e = document.querySelector(sel); return e ? e.getBoundingClientRect().bottom : null; };
  const first = document.querySelector("main") && document.querySelector("main").firstElementChild;
  const focusable = [...document.querySelectorAll("a[href], button, input, select, textarea, [tabindex]")]
    .filter((e) => e.tabIndex >= 0 && !e.disabled && e.getClientRects().length > 0);
  const link = focusable.find((e) => e.closest(".map svg") && e.tagName.toLowerCase() === "a");
  let focused = false;
  if (link) { link.focus(); focused = document.activeElement === link; }
  const tooWide = [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > doc.clientWidth + 1 && !e.closest(".scroll-x") && !e.closest("svg"))
    .slice(0, 8).map((e) => e.tagName.toLowerCase() + "." + e.className);
  const out = {};
  out.textContent = JSON.stringify({
    scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth,
    sentenceBottom: bottom(".weather-now .sentence"), adviceBottom: bottom(".advice p"),
    viewportHeight: window.innerHeight,
    firstInMain: first ? String(first.className || first.tagName.toLowerCase()) : "",
    mapLinkFocusable: focused, tooWide,
  });
  parent.postMessage(out.textContent, "*");
});
</script>"#,
};

/// A script appended to a page, and the name its files are saved under.
struct Probe {
    name: &'static str,
    /// `<script>` elements that end by posting one string to `parent`.
    script: &'static str,
}

/// Saves the page the browser would get for `path` with its stylesheet
/// inlined and `probe` appended (the file has no Content-Security-Policy),
/// opens it in Chromium in a frame of `width` × 844, and returns what the
/// probe posted: `--dump-dom` returns the DOM once the script has run.
async fn run_in_page(
    browser_bin: &Path,
    client: &reqwest::Client,
    server: &TestServer,
    path: &str,
    width: u32,
    shots: &Path,
    probe: Probe,
) -> String {
    let response = client.get(server.at(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let html = response.text().await.unwrap();
    let css = client
        .get(server.at("/static/vigie.css"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let html = html.replace(
        r#"<link rel="stylesheet" href="/static/vigie.css">"#,
        &format!("<style>{css}</style>"),
    );

    let page_name = format!(
        "{}-{width}-{}",
        path.trim_start_matches('/')
            .replace(['/', '?', '=', '&'], "_"),
        probe.name
    );
    let page = shots.join(format!("{page_name}.html"));
    std::fs::write(
        &page,
        html.replace("</body>", &format!("{}</body>", probe.script)),
    )
    .unwrap();
    // Headless Chromium's window is at least 500 px wide: the page is
    // measured in an iframe of the phone's size, which is its viewport
    // (media queries included); it posts its measure to this frame.
    let frame = shots.join(format!("{page_name}-frame.html"));
    std::fs::write(
        &frame,
        format!(
            r#"<!doctype html><html><body style="margin:0"><iframe src="{page_name}.html" width="{width}" height="844" style="border:0;display:block"></iframe><script>
window.addEventListener("message", (e) => {{ const p = document.createElement("pre"); p.id = "vigie-measure"; p.textContent = e.data; document.body.appendChild(p); }});
</script></body></html>"#
        ),
    )
    .unwrap();
    let run = |extra: &[String]| {
        Command::new(browser_bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
            ])
            .arg(format!(
                "--user-data-dir={}",
                shots.join(format!("profile-{page_name}")).display()
            ))
            .arg(format!("--window-size={},1000", width.max(500)))
            .arg("--virtual-time-budget=5000")
            .args(extra)
            .arg(format!("file://{}", frame.display()))
            .stderr(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let shot = shots.join(format!("{page_name}.png"));
    if probe.name == MEASURE.name {
        run(&[format!("--screenshot={}", shot.display())]);
    }
    let dom = String::from_utf8(run(&["--dump-dom".to_owned()]).stdout).unwrap();
    let start = dom
        .find(r#"<pre id="vigie-measure">"#)
        .unwrap_or_else(|| panic!("{path} at {width}px: the {} did not run", probe.name));
    let json = &dom[start + r#"<pre id="vigie-measure">"#.len()..];
    let json = &json[..json.find("</pre>").unwrap()];
    json.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The built-in territory and ten days of Saint-Étienne's box, today with
/// a storm and an outbound incident.
async fn seeded_server() -> TestServer {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let today = vigie_core::local_day(Utc::now());
    let token = enrolled_sensor(&server, "42218").await;
    for (seq, back) in (1..).zip((0..10).rev()) {
        let day = today - Duration::days(back);
        let at = format!("{day}T09:30:00Z");
        let mut incidents = vec![incident("brute_force", "inbound", &at); 3 + 4 * back as usize];
        if back == 0 {
            incidents.extend(vec![incident("brute_force", "inbound", &at); 88]);
            let mut out = incident("reputation", "outbound", &at);
            out["internal_host"] = serde_json::json!("h:3f2a9c0172be");
            incidents.push(out);
        }
        assert_eq!(
            post_report(&server, &token, seq, &at, &at, incidents).await,
            200
        );
    }
    server
}

/// Issue 13: every role's pages at 1400 px and on a 390 px phone: no
/// horizontal scrolling; on a mayor's home the outbound alert comes first
/// and the weather in words and the advice show without scrolling; the
/// keyboard reaches the map's communes.
#[tokio::test]
async fn issue_13_every_page_fits_a_phone_and_a_mayor_reads_their_day() {
    let Some(browser_bin) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium (Debian package `chromium`)"
        );
        eprintln!("skipped: no Chromium on this machine (apt-get install chromium)");
        return;
    };
    let server = seeded_server().await;
    let shots = shots_dir();
    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let (operator, _) = sign_in_as(&server, "ops@loire.fr", Role::Operator, None).await;
    let (mayor, _) = sign_in_as(
        &server,
        "maire@saint-etienne.fr",
        Role::Commune,
        Some("42218"),
    )
    .await;
    let (training, module) = training_pages(&server).await;
    let pages: [(&str, &reqwest::Client, &[&str]); 4] = [
        (
            "admin",
            &admin,
            &[
                "/",
                "/communes/42218",
                "/tableau-de-bord",
                "/capteurs",
                "/journal",
                "/comptes",
                "/listes",
                "/territoire",
                "/formation",
                "/kit",
            ],
        ),
        (
            "operator",
            &operator,
            &["/", "/capteurs", "/tableau-de-bord"],
        ),
        (
            "commune",
            &mayor,
            &[
                "/",
                "/carte",
                "/capteurs",
                "/compte",
                "/communes/42218/formation",
                "/kit",
            ],
        ),
        ("agent", &server.browser(), &[&training, &module]),
    ];
    for (role, client, paths) in pages {
        for path in paths {
            for width in [1400, 390] {
                let m = measure(&browser_bin, client, &server, path, width, &shots).await;
                eprintln!("{role} {path} {width}px: {m:?}");
                assert!(
                    m.scroll_width <= m.client_width,
                    "{role} {path} at {width}px scrolls sideways, too wide: {:?}",
                    m.too_wide
                );
                let map_page =
                    (role == "commune" && *path == "/carte") || (role != "commune" && *path == "/");
                if map_page {
                    assert!(m.map_link_focusable, "{role} {path}: Tab reaches a commune");
                }
                if role == "commune" && *path == "/" {
                    assert_eq!(m.first_in_main, "alert", "the outbound alert first");
                    let sentence = m.sentence_bottom.unwrap();
                    let advice = m.advice_bottom.unwrap();
                    assert!(
                        sentence <= m.viewport_height && advice <= m.viewport_height,
                        "{width}px: the weather in words and the advice without scrolling: {m:?}"
                    );
                }
            }
        }
    }
    eprintln!("screenshots in {}", shots.display());
}

/// Issue 11: Saint-Étienne's training link, as its agents open it: the
/// list of modules and one module with its quiz.
async fn training_pages(server: &TestServer) -> (String, String) {
    let code = vigie_server::territory::CommuneCode::parse("42218").unwrap();
    let now = Utc::now().timestamp_millis();
    let (_, token) = vigie_server::elearning::create_link(&server.db, &code, None, now)
        .await
        .unwrap();
    (
        format!("/formation/{token}"),
        format!("/formation/{token}/hameconnage"),
    )
}

/// Where the pages, their screenshots and measures are left for a look
/// (`VIGIE_BROWSER_SHOTS`, or a folder in the temporary directory).
fn shots_dir() -> PathBuf {
    let shots = std::env::var_os("VIGIE_BROWSER_SHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("vigie-browser-shots"));
    std::fs::create_dir_all(&shots).unwrap();
    shots
}

/// axe-core, vendored (see `data/README.md`): the accessibility rules the
/// pages are checked against.
const AXE: &str = include_str!("data/axe.min.js");

/// The script that runs axe-core in the page once loaded and posts its
/// serious and critical violations: rule, impact, help and the first
/// targets of each.
const AXE_RUN: Probe = Probe {
    name: "axe",
    script: r#"<script src="axe.min.js"></script>
<script>
window.addEventListener("load", () => {
  const post = (found) => parent.postMessage(JSON.stringify(found), "*");
  axe.run(document, { resultTypes: ["violations"] }).then((results) => post(
    results.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
        targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }))
  ), (error) => post([{ id: "axe-error", impact: "critical", help: String(error), targets: [] }]));
});
</script>"#,
};

/// One rule axe-core found broken on a page.
#[derive(Debug, serde::Deserialize)]
struct Violation {
    id: String,
    impact: String,
    help: String,
    targets: Vec<String>,
}

/// Issue 13 (RGAA): axe-core, run in each role's main pages at 1400 px
/// and on a 390 px phone, finds no serious nor critical violation
/// (contrast, labels, landmarks, alternatives for the charts and the map).
#[tokio::test]
async fn issue_13_axe_finds_no_serious_accessibility_violation() {
    let Some(browser_bin) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium (Debian package `chromium`)"
        );
        eprintln!("skipped: no Chromium on this machine (apt-get install chromium)");
        return;
    };
    let server = seeded_server().await;
    let shots = shots_dir();
    std::fs::write(shots.join("axe.min.js"), AXE).unwrap();
    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let (operator, _) = sign_in_as(&server, "ops@loire.fr", Role::Operator, None).await;
    let (mayor, _) = sign_in_as(
        &server,
        "maire@saint-etienne.fr",
        Role::Commune,
        Some("42218"),
    )
    .await;
    let mayor_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind("maire@saint-etienne.fr")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    let book = vigie_server::audits::Book::built_in().unwrap();
    let now = Utc::now().timestamp_millis();
    let audit = vigie_server::audits::create(&server.db, "42218", &book, mayor_id, now)
        .await
        .unwrap();
    let overview = format!("/audits/{audit}");
    let questions = format!("/audits/{audit}/questions?page=0");
    let (training, module) = training_pages(&server).await;
    let agent = server.browser();
    let pages: [(&str, &reqwest::Client, Vec<&str>); 4] = [
        (
            "admin",
            &admin,
            vec![
                "/",
                "/communes/42218",
                "/tableau-de-bord",
                "/capteurs",
                &overview,
                "/formation",
                "/kit",
            ],
        ),
        ("operator", &operator, vec!["/", "/tableau-de-bord"]),
        (
            "commune",
            &mayor,
            vec![
                "/",
                "/carte",
                "/capteurs",
                &overview,
                &questions,
                "/communes/42218/formation",
                "/kit",
            ],
        ),
        ("agent", &agent, vec![&training, &module]),
    ];
    let mut failures = Vec::new();
    for (role, client, paths) in pages {
        for path in paths {
            for width in [1400, 390] {
                let json =
                    run_in_page(&browser_bin, client, &server, path, width, &shots, AXE_RUN).await;
                let found: Vec<Violation> = serde_json::from_str(&json)
                    .unwrap_or_else(|e| panic!("{role} {path}: {e}: {json}"));
                for v in found {
                    failures.push(format!(
                        "{role} {path} at {width}px: {} ({}) {}: {}",
                        v.id,
                        v.impact,
                        v.help,
                        v.targets.join(" | ")
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "axe-core found {} serious or critical violations:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
