//! Fuzzes the phishing scenarios' loader (issue 11): arbitrary text as
//! each of a scenario's four files (scenario.toml, mail.html, mail.txt and
//! landing.html, split on NUL bytes), through every check. Any text must
//! give a scenario or a French refusal, never a panic; a scenario accepted
//! renders for a hostile commune name and first name, its subject on one
//! line, and its awareness page too.

#![no_main]

use chrono::NaiveDate;
use vigie_server::phishing::scenarios::{MailVars, Reached, Scenario, Sources, awareness_page};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut files = text.splitn(4, '\0');
    let sources = Sources {
        toml: files.next().unwrap_or_default(),
        html: files.next().unwrap_or_default(),
        text: files.next().unwrap_or_default(),
        landing: files.next().unwrap_or_default(),
    };
    let Ok(scenario) = Scenario::parse("essai", "fuzz", &sources) else {
        return;
    };
    let Some(sent_on) = NaiveDate::from_ymd_opt(2026, 7, 14) else {
        return;
    };
    let vars = MailVars {
        commune: "Saint-Jean <b>\"&\"</b>\r\nBcc: x@example.fr",
        first_name: Some("<script>alert(1)</script>\n"),
        sent_on,
        link: "https://exercice.example.fr/l/0123",
        image: "https://exercice.example.fr/o/0123",
    };
    let mail = scenario.render_mail(&vars);
    assert!(!mail.subject.contains(['\r', '\n']), "{:?}", mail.subject);
    assert!(mail.text.contains(vars.link));
    let _ = scenario.landing_page(vars.commune, "/f/0123");
    let _ = scenario.highlighted_subject(&vars);
    let shown = scenario.highlighted_mail(&vars);
    assert!(!shown.contains(vars.link) && !shown.contains(vars.image));
    let _ = awareness_page(&scenario, &vars, "exercice.example.fr", Reached::Form);
});
