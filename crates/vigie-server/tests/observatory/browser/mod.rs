//! The pages in a real browser: headless Chromium (Debian's `chromium`)
//! renders them as saved files, their stylesheet inlined and checking
//! scripts appended, and reports what they found: the width of the page
//! against the screen's, where the weather sentence ends, whether the
//! keyboard's focus shows, and axe-core's accessibility violations.
//!
//! Needs Chromium; CI installs it. Elsewhere the tests say why they skip,
//! but under CI a missing browser is a failure, not a skip.

mod agreements;
mod campaigns;
mod crisis;
mod defence_risk;
mod map;
mod roles;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::TestServer;

/// Chromium's binary, or `None` (the caller skips) outside CI.
fn chromium() -> Option<PathBuf> {
    let found = [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|path| path.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium (Debian package `chromium`)"
        );
        eprintln!("skipped: no Chromium on this machine (apt-get install chromium)");
    }
    found
}

/// What the measuring script found in a page, at one width.
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

/// Defines `vigieMeasure()`: the page's `Measure` as it is.
const MEASURE_FN: &str = r#"<script>
function vigieMeasure() {
  const doc = document.documentElement;
  const bottom = (sel) => { const e = document.querySelector(sel); return e ? e.getBoundingClientRect().bottom : null; };
  const first = document.querySelector("main") && document.querySelector("main").firstElementChild;
  const focusable = [...document.querySelectorAll("a[href], button, input, select, textarea, [tabindex]")]
    .filter((e) => e.tabIndex >= 0 && !e.disabled && e.getClientRects().length > 0);
  const link = focusable.find((e) => e.closest(".map svg") && e.tagName.toLowerCase() === "a");
  let focused = false;
  if (link) { link.focus(); focused = document.activeElement === link; link.blur(); }
  const tooWide = [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > doc.clientWidth + 1 && !e.closest(".scroll-x") && !e.closest("svg"))
    .slice(0, 8).map((e) => e.tagName.toLowerCase() + "." + e.className);
  return {
    scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth,
    sentenceBottom: bottom(".weather-now .sentence"), adviceBottom: bottom(".advice p"),
    viewportHeight: window.innerHeight,
    firstInMain: first ? String(first.className || first.tagName.toLowerCase()) : "",
    mapLinkFocusable: focused, tooWide,
  };
}
</script>"#;

/// The page the browser would get for `path` (a 200), its stylesheet
/// inlined so that the saved file renders the same without the session.
async fn fetched(client: &reqwest::Client, server: &TestServer, path: &str) -> String {
    let response = client.get(server.at(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    inline_css(client, server, response.text().await.unwrap()).await
}

/// `html` with the stylesheet's link replaced by the stylesheet itself.
async fn inline_css(client: &reqwest::Client, server: &TestServer, html: String) -> String {
    let css = client
        .get(server.at("/static/vigie.css"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    html.replace(
        r#"<link rel="stylesheet" href="/static/vigie.css">"#,
        &format!("<style>{css}</style>"),
    )
}

/// The widths every page is checked at: a desktop's, and a phone's.
const WIDTHS: [u32; 2] = [1400, 390];

/// Saves `html` (the page of `path`) with the checking scripts appended
/// (the file has no Content-Security-Policy), opens it in Chromium at
/// each of [`WIDTHS`], and returns what they found, width by width.
///
/// One browser for both widths: a frame holds the page twice, side by
/// side, in iframes of 1400 × 844 and 390 × 844, each the page's viewport
/// (media queries included; headless Chromium's own window is at least
/// 500 px wide); each posts its findings to the frame, and `--dump-dom`
/// returns the frame once they have. With `VIGIE_BROWSER_SHOTS` set, a
/// screenshot is left with the page for a look.
fn check_widths(browser_bin: &Path, shots: &Path, html: &str, path: &str) -> Vec<(u32, Checked)> {
    let page_name = path
        .trim_start_matches('/')
        .replace(['/', '?', '=', '&'], "_");
    let page = shots.join(format!("{page_name}.html"));
    let script = CHECK.concat();
    let html = if html.contains("</body>") {
        html.replace("</body>", &format!("{script}</body>"))
    } else {
        format!("{html}{script}")
    };
    std::fs::write(&page, html).unwrap();
    let frames: String = WIDTHS
        .iter()
        .map(|width| {
            format!(
                r#"<iframe src="{page_name}.html" width="{width}" height="844" style="border:0"></iframe>"#
            )
        })
        .collect();
    let frame = shots.join(format!("{page_name}-frame.html"));
    std::fs::write(
        &frame,
        format!(
            r#"<!doctype html><html><body style="margin:0;display:flex;align-items:flex-start">{frames}<script>
window.addEventListener("message", (e) => {{
  const from = [...document.querySelectorAll("iframe")].find((f) => f.contentWindow === e.source);
  const p = document.createElement("pre"); p.className = "vigie-checked"; p.dataset.width = from ? from.width : "";
  p.textContent = e.data; document.body.appendChild(p);
}});
</script></body></html>"#
        ),
    )
    .unwrap();
    let window = WIDTHS.iter().sum::<u32>() + 20;
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
            .arg(format!("--window-size={window},1000"))
            .arg("--virtual-time-budget=5000")
            .args(extra)
            .arg(format!("file://{}", frame.display()))
            .output()
            .unwrap()
    };
    if std::env::var_os("VIGIE_BROWSER_SHOTS").is_some() {
        let shot = shots.join(format!("{page_name}.png"));
        run(&[format!("--screenshot={}", shot.display())]);
    }
    let output = run(&["--dump-dom".to_owned()]);
    let dom = String::from_utf8(output.stdout).unwrap();
    WIDTHS
        .iter()
        .map(|width| {
            let marker = format!(r#"<pre class="vigie-checked" data-width="{width}">"#);
            let start = dom.find(&marker).unwrap_or_else(|| {
                let stderr = String::from_utf8_lossy(&output.stderr);
                let lines: Vec<&str> = stderr.lines().collect();
                let tail = lines[lines.len().saturating_sub(15)..].join("\n");
                panic!(
                    "{path} at {width}px: the checks did not run ({}):\n{tail}",
                    output.status
                )
            });
            let json = &dom[start + marker.len()..];
            let json = &json[..json.find("</pre>").unwrap()];
            let json = json
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
            let checked = serde_json::from_str(&json)
                .unwrap_or_else(|e| panic!("{path} at {width}px: {e}: {json}"));
            (*width, checked)
        })
        .collect()
}

/// Where the pages, their screenshots and findings go, with axe-core
/// which the checks load beside the page: `VIGIE_BROWSER_SHOTS` to keep
/// them for a look, else a temporary folder of the test's own, deleted
/// with it (two suites running at once on a machine must not share
/// Chromium's profiles: a profile in use stops the second browser).
struct Shots {
    path: PathBuf,
    _temporary: Option<tempfile::TempDir>,
}

impl std::ops::Deref for Shots {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}

fn shots_dir() -> Shots {
    let shots = match std::env::var_os("VIGIE_BROWSER_SHOTS") {
        Some(path) => {
            std::fs::create_dir_all(&path).unwrap();
            Shots {
                path: PathBuf::from(path),
                _temporary: None,
            }
        }
        None => {
            let dir = tempfile::Builder::new()
                .prefix("vigie-browser-")
                .tempdir()
                .unwrap();
            Shots {
                path: dir.path().to_owned(),
                _temporary: Some(dir),
            }
        }
    };
    std::fs::write(shots.join("axe.min.js"), AXE).unwrap();
    shots
}

/// axe-core, vendored (see `data/README.md`): the accessibility rules the
/// pages are checked against.
const AXE: &str = include_str!("../data/axe.min.js");

/// Runs axe-core in the page: `vigieAxe()` resolves to its serious and
/// critical violations (rule, impact, help and the first targets of each).
const AXE_FN: &str = r#"<script src="axe.min.js"></script>
<script>
function vigieAxe() {
  if (typeof axe === "undefined") {
    return Promise.resolve([{ id: "axe-missing", impact: "critical", help: "axe.min.js did not load", targets: [] }]);
  }
  return axe.run(document, { resultTypes: ["violations"] }).then((results) =>
    results.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
        targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) })),
    (error) => [{ id: "axe-error", impact: "critical", help: String(error), targets: [] }]);
}
</script>"#;

/// One rule axe-core found broken on a page.
#[derive(Debug, serde::Deserialize)]
struct Violation {
    id: String,
    impact: String,
    help: String,
    targets: Vec<String>,
}

/// Whether the keyboard's focus shows: `vigieFocus()` gives each
/// focusable element the focus in turn (the map's communes aside: their
/// outline is the commune's stroke) and lists those with neither an
/// outline nor a shadow while focused.
const FOCUS_FN: &str = r##"<script>
function vigieFocus() {
  const unseen = [];
  const focusable = [...document.querySelectorAll("a[href], button, input, select, textarea, summary, [tabindex]")]
    .filter((e) => e.tabIndex >= 0 && !e.disabled && e.type !== "hidden" && e.getClientRects().length > 0 && !e.closest(".map svg"));
  for (const e of focusable.slice(0, 80)) {
    e.focus();
    if (document.activeElement !== e) continue;
    const s = getComputedStyle(e);
    const ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none";
    if (!ring) unseen.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + " « " + (e.textContent || e.value || "").trim().slice(0, 40) + " »");
    e.blur();
  }
  return unseen;
}
</script>"##;

/// The scripts appended to a page: once it has loaded, they measure it,
/// give the focus to each element in turn, run axe-core, and post all
/// they found, as JSON, to the frame around the page.
const CHECK: [&str; 4] = [
    MEASURE_FN,
    FOCUS_FN,
    AXE_FN,
    r#"<script>
window.addEventListener("load", () => {
  const measure = vigieMeasure();
  const unfocused = vigieFocus();
  window.scrollTo(0, 0);
  vigieAxe().then((violations) => parent.postMessage(JSON.stringify({ measure, unfocused, violations }), "*"));
});
</script>"#,
];

/// What the checks found on a page at one width.
#[derive(Debug, serde::Deserialize)]
struct Checked {
    measure: Measure,
    /// Focusable elements whose focus does not show.
    unfocused: Vec<String>,
    /// axe-core's serious and critical violations.
    violations: Vec<Violation>,
}

impl Checked {
    /// What is wrong, each prefixed with `at` (who, page, width): sideways
    /// scrolling, a focus that does not show, an axe-core violation.
    fn failures(&self, at: &str) -> Vec<String> {
        let mut failures = Vec::new();
        let m = &self.measure;
        if m.scroll_width > m.client_width {
            failures.push(format!(
                "{at}: scrolls sideways ({} > {} px): {:?}",
                m.scroll_width, m.client_width, m.too_wide
            ));
        }
        if !self.unfocused.is_empty() {
            failures.push(format!(
                "{at}: the focus does not show on {}",
                self.unfocused.join(", ")
            ));
        }
        for v in &self.violations {
            failures.push(format!(
                "{at}: {} ({}) {}: {}",
                v.id,
                v.impact,
                v.help,
                v.targets.join(" | ")
            ));
        }
        failures
    }
}

/// Checks each page (who sees it, its HTML, its path) at every width, and
/// fails with every problem found on all of them.
fn assert_pages(browser_bin: &Path, shots: &Path, pages: &[(&str, String, String)]) {
    let failures: Vec<String> = pages
        .iter()
        .flat_map(|(who, html, path)| {
            check_widths(browser_bin, shots, html, path)
                .into_iter()
                .flat_map(move |(width, checked)| {
                    checked.failures(&format!("{who} {path} at {width}px"))
                })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} problems on {} pages:\n{}",
        failures.len(),
        pages.len(),
        failures.join("\n")
    );
}
