//! The README's first command, as a newcomer runs it: `vigie demo` fills a
//! territory through the real engine and API, serves it, and the printed
//! account signs in and sees the map.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_demo_serves_a_filled_territory() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args([
            "demo",
            "--communes",
            "3",
            "--days",
            "4",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut admin_password = None;
    for line in stdout.lines() {
        let line = line.unwrap();
        if line.trim_start().starts_with("admin@demo.vigie.fr") {
            admin_password = line.split_whitespace().nth(1).map(str::to_owned);
        }
        if line.starts_with("Ctrl-C") {
            break;
        }
    }
    let password = admin_password.expect("the demo prints the admin's password");
    let base = format!("http://127.0.0.1:{port}");
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    // The server may take a moment to bind after printing.
    let mut signed_in = false;
    for _ in 0..50 {
        if let Ok(response) = browser
            .post(format!("{base}/connexion"))
            .form(&[("email", "admin@demo.vigie.fr"), ("password", &password)])
            .send()
            .await
        {
            signed_in = response.status().is_success();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(signed_in, "the printed account signs in");
    let weather: Vec<serde_json::Value> = browser
        .get(format!("{base}/api/v1/weather"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(weather.len(), 320);
    let with_data = weather.iter().filter(|w| w["level"] != "no_data").count();
    assert_eq!(with_data, 3, "three equipped communes have weather today");
    let map = browser
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(map.contains("<svg") && map.matches("<path ").count() >= 300);
    let days: Vec<serde_json::Value> = browser
        .get(format!("{base}/api/v1/communes/42218/days"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(days.iter().all(|d| d["day"].is_string()));
    // Issue 11: quizzes answered through Saint-Étienne's training link.
    let modules: Vec<serde_json::Value> = browser
        .get(format!("{base}/api/v1/communes/42218/elearning"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(modules.len(), 6);
    let done: i64 = modules
        .iter()
        .map(|m| m["completions"].as_i64().unwrap())
        .sum();
    assert!(done > 0, "{modules:?}");
    campaigns_are_there(&browser, &base).await;
}

/// Issue 11: Saint-Étienne's finished campaign, purged with its figures
/// kept, and Firminy's running one, each with people's openings, clicks
/// and submissions and the mail scanners' fetches set aside.
async fn campaigns_are_there(browser: &reqwest::Client, base: &str) {
    let get = |path: String| {
        let request = browser.get(format!("{base}{path}"));
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.text().await.unwrap()
        }
    };
    let list = get("/campagnes".to_owned()).await;
    let mut ids: Vec<&str> = list
        .split("href=\"/campagnes/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|id| id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 2, "{list}");
    let mut figures = Vec::new();
    for id in ids {
        let json: serde_json::Value =
            serde_json::from_str(&get(format!("/api/v1/campaigns/{id}")).await).unwrap();
        figures.push(json);
    }
    let of = |status: &str| {
        figures
            .iter()
            .find(|f| f["status"] == status)
            .unwrap_or_else(|| panic!("a {status} campaign: {figures:?}"))
    };
    let number = |f: &serde_json::Value, key: &str| f[key].as_u64().unwrap();
    for (f, commune) in [(of("purged"), "42218"), (of("running"), "42095")] {
        assert_eq!(f["commune"], commune, "{f}");
        assert!(number(f, "targets") > 10, "{f}");
        assert_eq!(number(f, "sent"), number(f, "targets"), "{f}");
        assert!(number(f, "opened") >= number(f, "clicked"), "{f}");
        assert!(number(f, "clicked") >= number(f, "submitted"), "{f}");
        assert!(number(f, "submitted") > 0, "{f}");
        assert!(number(f, "clicked") < number(f, "sent"), "{f}");
        assert!(number(f, "scanner_clicks") > 0, "{f}");
    }
    assert!(of("purged")["purged_at"].is_string());
    assert!(of("running")["purged_at"].is_null());
    let page = get("/communes/42218".to_owned()).await;
    assert!(page.contains("est terminée"), "{page}");
}
