//! The loader against the built-in scenarios, a small scenario of its own
//! (broken one rule at a time in `errors`), and a territory's folder on
//! disk.

mod errors;

use std::path::Path;

use chrono::NaiveDate;

use super::*;

const TOML: &str = r#"title = "Essai"
version = 1
theme = "messagerie"
difficulty = 2
sender_name = "Service Essai"
sender_local_part = "essai"
subject = "Bonjour {{prenom|à vous}} de {{commune}}, [[indice 2]]vite[[/indice]] <b>"

[[clues]]
id = 1
label = "L'expéditeur"
sender = true
explanation = "Regardez l'adresse."

[[clues]]
id = 2
label = "L'urgence"
explanation = """
Premier paragraphe.

Second paragraphe."""

[[clues]]
id = 3
label = "Le lien"
explanation = "Survolez-le."
"#;
const HTML: &str = "<p>Bonjour {{prenom|Madame}},</p>\n<p>[[indice 2]]Urgent[[/indice]] pour {{commune}} le {{date}}.</p>\n<p><a href=\"{{lien}}\">[[indice 3]]Cliquez ici[[/indice]]</a></p>\n<img src=\"{{image}}\" alt=\"\">\n";
const TEXT: &str = "Bonjour {{prenom|Madame}},\n[[indice 2]]Urgent[[/indice]] pour {{commune}} le {{date}} : {{lien}}\n";
const LANDING: &str = "<!DOCTYPE html>\n<title>{{commune}}</title>\n<form method=\"post\" action=\"{{action}}\">\n<input id=\"p\" type=\"password\" value=\"{{commune}}\">\n<button>OK</button>\n</form>\n";

const LINK: &str = "https://vigie.example.fr/p/l/0123456789abcdef";
const IMAGE: &str = "https://vigie.example.fr/p/o/0123456789abcdef.png";

fn vars<'a>(commune: &'a str, first_name: Option<&'a str>) -> MailVars<'a> {
    MailVars {
        commune,
        first_name,
        sent_on: NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(),
        link: LINK,
        image: IMAGE,
    }
}

fn essai() -> Scenario {
    parse([TOML, HTML, TEXT, LANDING]).unwrap()
}

fn parse(files: [&str; 4]) -> Result<Scenario, String> {
    let [toml, html, text, landing] = files;
    Scenario::parse(
        "essai",
        "data/scenarios/essai",
        &Sources {
            toml,
            html,
            text,
            landing,
        },
    )
    .map_err(|e| e.to_string())
}

/// Replaces `from` by `to` in file `index` (0 toml, 1 html, 2 text,
/// 3 landing) of the small scenario, and expects `error`.
fn check(index: usize, from: &str, to: &str, error: &str) {
    let mut files = [TOML, HTML, TEXT, LANDING].map(str::to_owned);
    assert!(files[index].contains(from), "{from}");
    files[index] = files[index].replacen(from, to, 1);
    let got = parse([&files[0], &files[1], &files[2], &files[3]]);
    assert_eq!(got, Err(error.to_owned()), "{from} -> {to}");
}

#[test]
fn the_builtin_scenarios_load_and_render() {
    let library = Library::builtin().unwrap();
    let ids: Vec<&str> = library.all().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "circulaire-prefecture",
            "colis-douane",
            "document-partage",
            "facture-impayee",
            "messagerie-expiration",
            "remboursement-impots",
        ]
    );
    for scenario in library.all() {
        let id = &scenario.id;
        assert!((3..=5).contains(&scenario.clues.len()), "{id}");
        assert_eq!(library.get(id), Some(scenario));
        let vars = vars("Saint-Just-Malmont", Some("Camille"));
        let mail = scenario.render_mail(&vars);
        for body in [&mail.subject, &mail.text, &mail.html] {
            assert!(!body.contains("[[") && !body.contains("{{"), "{id}: {body}");
            assert!(!body.contains("<mark"), "{id}");
        }
        assert!(mail.text.contains(LINK) && mail.html.contains(LINK), "{id}");
        assert!(mail.html.contains(IMAGE), "{id}");
        assert!(mail.html.starts_with("<!DOCTYPE html>"), "{id}");
        let landing = scenario.landing_page("Saint-Just-Malmont", "/p/f/0123");
        assert!(landing.contains("action=\"/p/f/0123\""), "{id}");
        assert!(!landing.contains("{{"), "{id}");
        // Only `<meta name="viewport">`: no field is named.
        assert_eq!(
            landing.matches("name=").count(),
            landing.matches("<meta name=").count(),
            "{id}"
        );
        let shown = scenario.highlighted_mail(&vars);
        for clue in scenario.clues.iter().filter(|c| !c.sender) {
            let number = format!("indice </span>{}</span>", clue.id);
            let in_subject = scenario.highlighted_subject(&vars).contains(&number);
            assert!(
                shown.contains(&number) || in_subject,
                "{id}: clue {}",
                clue.id
            );
        }
        let page = awareness_page(scenario, &vars, "exercice.example.fr", Reached::Form).unwrap();
        for clue in &scenario.clues {
            assert!(page.contains(&format!("id=\"indice-{}\"", clue.id)), "{id}");
        }
        assert!(!page.contains(LINK) && !page.contains(IMAGE), "{id}");
    }
}

#[test]
fn values_are_escaped_in_html_only() {
    let scenario = essai();
    let script = "<script>alert(1)</script>";
    let mail = scenario.render_mail(&vars("Saint-Jean & \"Co\"", Some(script)));
    assert!(!mail.html.contains("<script>"), "{}", mail.html);
    assert!(
        mail.html
            .contains("Bonjour &lt;script&gt;alert(1)&lt;/script&gt;,")
    );
    assert!(
        mail.html
            .contains("pour Saint-Jean &amp; &quot;Co&quot; le 3 mars 2026.")
    );
    assert!(mail.text.contains(&format!("Bonjour {script},")));
    assert!(
        mail.text
            .contains("pour Saint-Jean & \"Co\" le 3 mars 2026 : ")
    );
    let landing = scenario.landing_page("\"><script>x</script>", "/f?a=1&b=\"2\"");
    assert!(!landing.contains("<script>"), "{landing}");
    assert!(
        landing.contains("action=\"/f?a=1&amp;b=&quot;2&quot;\""),
        "{landing}"
    );
    assert!(landing.contains("value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""));
    let page = awareness_page(
        &scenario,
        &vars(script, Some(script)),
        "x.fr",
        Reached::Link,
    )
    .unwrap();
    assert!(!page.contains("<script>"));
}

#[test]
fn the_subject_stays_on_one_line() {
    let scenario = essai();
    let mail = scenario.render_mail(&vars("Aurec\r\nBcc: tous@example.fr", Some("Jean\nX")));
    assert_eq!(
        mail.subject,
        "Bonjour Jean X de Aurec  Bcc: tous@example.fr, vite <b>"
    );
    assert!(
        mail.html.contains(
            "<title>Bonjour Jean X de Aurec  Bcc: tous@example.fr, vite &lt;b&gt;</title>"
        )
    );
    // A blank first name takes the fallback.
    let mail = scenario.render_mail(&vars("Aurec", Some("  ")));
    assert!(mail.subject.starts_with("Bonjour à vous de Aurec"));
    assert!(mail.html.contains("<p>Bonjour Madame,</p>"));
}

#[test]
fn clue_markers_vanish_when_sent_and_show_on_the_awareness_page() {
    let scenario = essai();
    let vars = vars("Aurec", None);
    let mail = scenario.render_mail(&vars);
    assert!(
        mail.html
            .contains("<p>Urgent pour Aurec le 3 mars 2026.</p>")
    );
    assert!(mail.text.contains("\nUrgent pour Aurec"));
    assert!(
        mail.html
            .contains(&format!("<a href=\"{LINK}\">Cliquez ici</a>"))
    );
    let shown = scenario.highlighted_mail(&vars);
    assert!(shown.contains("<p><mark class=\"clue\"><span class=\"clue-no\"><span class=\"sr-only\">indice </span>2</span> Urgent</mark> pour Aurec"), "{shown}");
    // Its links and image record nothing.
    assert!(
        shown.contains("<a href=\"#indices\"><mark class=\"clue\">"),
        "{shown}"
    );
    assert!(!shown.contains(LINK) && !shown.contains(IMAGE), "{shown}");
    assert!(shown.contains("src=\"data:image/gif;base64,"));
    assert_eq!(
        scenario.highlighted_subject(&vars),
        "Bonjour à vous de Aurec, <mark class=\"clue\"><span class=\"clue-no\"><span class=\"sr-only\">indice </span>2</span> vite</mark> &lt;b&gt;"
    );
    let page = awareness_page(&scenario, &vars, "exercice.example.fr", Reached::Form).unwrap();
    assert!(page.contains("<span class=\"sr-only\">indice </span>1</span> Service Essai &lt;essai@exercice.example.fr&gt;</mark>"), "{page}");
    assert!(
        page.contains("<p>Premier paragraphe.</p>\n<p>Second paragraphe.</p>"),
        "{page}"
    );
    assert!(page.contains("ni envoyé ni enregistré"));
    let clicked = awareness_page(&scenario, &vars, "exercice.example.fr", Reached::Link).unwrap();
    assert!(!clicked.contains("ni envoyé ni enregistré"));
}

/// Writes the small scenario into `dir/id/`, its title changed.
fn write(dir: &Path, id: &str, title: &str) {
    let folder = dir.join(id);
    std::fs::create_dir_all(&folder).unwrap();
    let toml = TOML.replace("title = \"Essai\"", &format!("title = \"{title}\""));
    for (name, text) in [
        ("scenario.toml", toml.as_str()),
        ("mail.html", HTML),
        ("mail.txt", TEXT),
        ("landing.html", LANDING),
    ] {
        std::fs::write(folder.join(name), text).unwrap();
    }
}

#[test]
fn a_territory_replaces_one_scenario_and_adds_another() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "colis-douane", "Colis, version du territoire");
    write(dir.path(), "elections", "Élections : procuration à valider");
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join("README.md"), "notes").unwrap();
    let library = Library::load(Some(dir.path())).unwrap();
    assert_eq!(library.len(), 7);
    assert_eq!(
        library.get("colis-douane").unwrap().title,
        "Colis, version du territoire"
    );
    assert_eq!(
        library.get("elections").unwrap().sender_name,
        "Service Essai"
    );
    let titles: Vec<&str> = library.all().map(|s| s.title.as_str()).collect();
    // « Élections » sorts among the E, not after every other title.
    let at = titles
        .iter()
        .position(|t| t.starts_with("Élections"))
        .unwrap();
    assert!(titles[at + 1].starts_with("Facture"), "{titles:?}");
    assert_eq!(Library::load(None).unwrap(), Library::builtin().unwrap());
}

#[test]
fn a_territory_folder_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    write(dir.path(), "essai", "Essai");
    std::fs::remove_file(dir.path().join("essai/mail.txt")).unwrap();
    assert_eq!(
        Library::load(Some(dir.path())).unwrap_err().to_string(),
        format!(
            "{root}/essai : fichier mail.txt manquant (un scénario a scenario.toml, mail.html, mail.txt et landing.html)"
        )
    );
    std::fs::write(
        dir.path().join("essai/mail.txt"),
        "x".repeat(MAX_MAIL_BYTES + 1),
    )
    .unwrap();
    assert_eq!(
        Library::load(Some(dir.path())).unwrap_err().to_string(),
        format!("{root}/essai/mail.txt : plus de 65536 octets, la limite de ce fichier")
    );
    std::fs::write(dir.path().join("essai/mail.txt"), TEXT).unwrap();
    std::fs::write(
        dir.path().join("essai/scenario.toml"),
        TOML.replace("difficulty = 2", "difficulty = 0"),
    )
    .unwrap();
    assert_eq!(
        Library::load(Some(dir.path())).unwrap_err().to_string(),
        format!("{root}/essai/scenario.toml, ligne 4 : « difficulty » doit valoir 1, 2 ou 3")
    );
    std::fs::rename(dir.path().join("essai"), dir.path().join("Essai 2")).unwrap();
    assert!(
        Library::load(Some(dir.path()))
            .unwrap_err()
            .to_string()
            .contains("« Essai 2 » n'est pas un identifiant de scénario")
    );
    let missing = dir.path().join("absent");
    assert_eq!(
        Library::load(Some(&missing)).unwrap_err(),
        ScenarioError::NotADirectory(missing.display().to_string())
    );
}

/// A cheap, repeatable cousin of the fuzz target: every built-in file cut
/// short at many places, and with a byte of markup dropped in, gives a
/// scenario or an error, never a panic.
#[test]
fn damaged_files_never_panic() {
    let damage = [
        "<",
        "{{",
        "[[",
        "}}",
        "]]",
        "\"",
        "'",
        ">",
        "é",
        "\n",
        "[[/indice]]",
    ];
    for (id, sources) in &library::BUILTIN {
        let files = [sources.toml, sources.html, sources.text, sources.landing];
        for index in 0..files.len() {
            let cuts = files[index].char_indices().map(|(at, _)| at).step_by(23);
            for (n, at) in cuts.enumerate() {
                let mut damaged = files.map(str::to_owned);
                damaged[index].truncate(at);
                let _ = parse([&damaged[0], &damaged[1], &damaged[2], &damaged[3]]);
                damaged[index] = format!(
                    "{}{}{}",
                    &files[index][..at],
                    damage[n % damage.len()],
                    &files[index][at..]
                );
                if let Ok(scenario) = parse([&damaged[0], &damaged[1], &damaged[2], &damaged[3]]) {
                    let vars = vars("<b>", Some("\r\n"));
                    assert!(!scenario.render_mail(&vars).subject.contains('\n'), "{id}");
                    let _ = awareness_page(&scenario, &vars, "x.fr", Reached::Link).unwrap();
                }
            }
        }
    }
}
