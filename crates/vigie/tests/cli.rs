//! The `vigie` binary as a user runs it: outputs, exit codes, and the
//! messages given for bad input.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vigie_sensor::synth::traffic::{Attacks, Mix, write_capture};

/// 2026-11-22T09:00:00Z.
const T0: i64 = 1_795_338_000 * 1_000_000_000;

fn vigie(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A capture with the generated attacks in it.
fn capture(dir: &Path) -> PathBuf {
    let path = dir.join("mairie.pcap");
    let mix = Mix {
        packets: 30_000,
        start: T0,
        packets_per_second: 500,
        seed: 5,
        attacks: true,
    };
    write_capture(std::fs::File::create(&path).unwrap(), &mix).unwrap();
    path
}

#[test]
fn json_report_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = capture(dir.path());
    let out = vigie(&[
        "sensor",
        "--pcap",
        pcap.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: vigie_core::Report = serde_json::from_slice(&out.stdout).unwrap();
    report.validate().unwrap();
    assert!(report.packets >= 30_000);
    let scan = report
        .incidents
        .iter()
        .find(|i| i.rule == "scan.syn")
        .unwrap();
    assert_eq!(scan.source, Some(std::net::IpAddr::V4(Attacks::SCANNER)));
    assert_eq!(
        report.daily.iter().map(|d| d.count).sum::<u64>(),
        report.incidents.len() as u64
    );
}

#[test]
fn french_summary_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = capture(dir.path());
    let out = vigie(&["sensor", "--pcap", pcap.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    for expected in [
        "Paquets analysés",
        "Attaques qualifiées",
        "Balayage de ports",
        "Essais de mots de passe",
        "heure de Paris",
    ] {
        assert!(
            summary.contains(expected),
            "{expected:?} missing in:\n{summary}"
        );
    }
}

#[test]
fn a_truncated_capture_still_reports_what_came_before() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = capture(dir.path());
    let bytes = std::fs::read(&pcap).unwrap();
    // Cut in the middle of a record, far enough for the scan (first 20 %) to be in.
    let cut = bytes.len() * 3 / 5 + 7;
    std::fs::write(&pcap, &bytes[..cut]).unwrap();
    let out = vigie(&[
        "sensor",
        "--pcap",
        pcap.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(pcap.to_str().unwrap()),
        "names the file: {stderr}"
    );
    assert!(stderr.contains("at byte"), "names the offset: {stderr}");
    let report: vigie_core::Report = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report.packets > 10_000 && report.packets < 30_000,
        "{}",
        report.packets
    );
    assert!(report.incidents.iter().any(|i| i.rule == "scan.syn"));
}

#[test]
fn not_a_capture() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "compte rendu du conseil municipal").unwrap();
    let out = vigie(&["sensor", "--pcap", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("not a pcap or pcapng file") && stderr.contains("notes.txt"),
        "{stderr}"
    );
    let missing = vigie(&["sensor", "--pcap", "/nonexistent/capture.pcap"]);
    assert!(text(&missing.stderr).contains("/nonexistent/capture.pcap"));
}

#[test]
fn bad_options_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = capture(dir.path());
    let pcap = pcap.to_str().unwrap();
    let out = vigie(&["sensor", "--pcap", pcap, "--home-net", "192.168.1.0/33"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("192.168.1.0/33"),
        "{}",
        text(&out.stderr)
    );

    let config = dir.path().join("seuils.toml");
    std::fs::write(&config, "[scan]\nmin_port = 5\n").unwrap();
    let out = vigie(&[
        "sensor",
        "--pcap",
        pcap,
        "--config",
        config.to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("seuils.toml") && stderr.contains("min_port"),
        "{stderr}"
    );

    let key = dir.path().join("key");
    std::fs::write(&key, "not hex").unwrap();
    let out = vigie(&[
        "sensor",
        "--pcap",
        pcap,
        "--host-key-file",
        key.to_str().unwrap(),
    ]);
    assert!(
        text(&out.stderr).contains("64 hexadecimal digits"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_printed_config_is_the_default_and_loads_back() {
    let out = vigie(&["sensor", "--print-config"]);
    assert!(out.status.success());
    let printed = text(&out.stdout);
    let config = vigie_sensor::Config::from_toml(&printed, "printed").unwrap();
    assert_eq!(config, vigie_sensor::Config::default());
}

#[test]
fn a_user_config_changes_the_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = capture(dir.path());
    let config = dir.path().join("seuils.toml");
    // The generated scan probes 1,000 ports: above this it is no scan.
    std::fs::write(&config, "[scan]\nmin_ports = 2000\n").unwrap();
    let out = vigie(&[
        "sensor",
        "--pcap",
        pcap.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report: vigie_core::Report = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report
            .incidents
            .iter()
            .all(|i| i.category != vigie_core::Category::Scan)
    );
    assert!(report.incidents.iter().any(|i| i.rule == "brute_force.ssh"));
}

#[test]
fn a_fixed_host_key_gives_stable_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, format!("{}\n", "ab".repeat(32))).unwrap();
    let pcap = dir.path().join("dga.pcap");
    let mut writer = vigie_sensor::capture::PcapWriter::new(
        std::fs::File::create(&pcap).unwrap(),
        vigie_sensor::decode::LinkType::Ethernet,
    )
    .unwrap();
    let mut frames = vigie_sensor::synth::FrameBuilder::new();
    for (i, name) in [
        "xjwqkzpqvbltr",
        "qwrtzpsdfghkl",
        "mnbvcxzlkjhgf",
        "pqzrtxwvbnmks",
        "zxcvbnmqwrtps",
    ]
    .iter()
    .enumerate()
    {
        let query = vigie_sensor::synth::app::dns_query(i as u16, &format!("{name}.net"), 1);
        let frame = frames.udp(
            "192.168.1.30:5353".parse().unwrap(),
            "192.168.1.1:53".parse().unwrap(),
            &query,
        );
        writer.write(T0 + i as i64 * 1_000_000, frame).unwrap();
    }
    writer.finish().unwrap();
    let run = || {
        let out = vigie(&[
            "sensor",
            "--pcap",
            pcap.to_str().unwrap(),
            "--host-key-file",
            key.to_str().unwrap(),
            "--format",
            "json",
        ]);
        let report: vigie_core::Report = serde_json::from_slice(&out.stdout).unwrap();
        report.incidents[0].internal_host.clone().unwrap()
    };
    assert_eq!(run(), run());
}

/// `vigie user`, `vigie token` and `vigie sensors` end access from the
/// command line (issue 14): tokens listed by prefix and revoked, accounts
/// disabled and enabled, sensors revoked; bad input named in French.
#[test]
fn credentials_are_revoked_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("vigie.db").display());
    let password = dir.path().join("password");
    std::fs::write(&password, "une phrase de passe solide\n").unwrap();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--database", &database]);
        vigie(&all)
    };
    let password_arg = password.to_str().unwrap();
    let created = run(&[
        "user",
        "add",
        "--email",
        "maire@saint-etienne.fr",
        "--role",
        "commune",
        "--commune",
        "42218",
        "--password-file",
        password_arg,
    ]);
    assert!(created.status.success(), "{}", text(&created.stderr));

    let token = run(&[
        "token",
        "create",
        "--email",
        "maire@saint-etienne.fr",
        "--label",
        "sauvegarde",
        "--expires-days",
        "30",
    ]);
    assert!(token.status.success(), "{}", text(&token.stderr));
    let token = text(&token.stdout).trim().to_owned();
    assert!(token.starts_with("vgt_") && token.len() == 68, "{token}");
    let listed = text(&run(&["token", "list", "--email", "maire@saint-etienne.fr"]).stdout);
    assert!(
        listed.contains(&token[..12]) && listed.contains("actif") && listed.contains("sauvegarde"),
        "{listed}"
    );
    assert!(!listed.contains(&token[12..]), "the secret is never listed");

    let revoked = run(&["token", "revoke", &token[..12]]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    let listed = text(&run(&["token", "list", "--email", "maire@saint-etienne.fr"]).stdout);
    assert!(listed.contains("révoqué"), "{listed}");
    let again = run(&["token", "revoke", &token]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("aucun jeton actif"),
        "{}",
        text(&again.stderr)
    );
    let garbage = run(&["token", "revoke", "n'importe quoi"]);
    assert!(
        text(&garbage.stderr).contains("ni un jeton"),
        "{}",
        text(&garbage.stderr)
    );
    let lifetime = run(&[
        "token",
        "create",
        "--email",
        "maire@saint-etienne.fr",
        "--expires-days",
        "0",
    ]);
    assert!(
        text(&lifetime.stderr).contains("durée de validité"),
        "{}",
        text(&lifetime.stderr)
    );

    let disabled = run(&["user", "disable", "maire@saint-etienne.fr"]);
    assert!(
        text(&disabled.stdout).contains("désactivé"),
        "{}",
        text(&disabled.stderr)
    );
    let refused = run(&["token", "create", "--email", "maire@saint-etienne.fr"]);
    assert!(!refused.status.success());
    let enabled = run(&["user", "enable", "maire@saint-etienne.fr"]);
    assert!(
        text(&enabled.stdout).contains("réactivé"),
        "{}",
        text(&enabled.stderr)
    );
    let unknown = run(&["user", "disable", "personne@nulle-part.fr"]);
    assert!(
        text(&unknown.stderr).contains("aucun compte"),
        "{}",
        text(&unknown.stderr)
    );

    let sensor = run(&["sensors", "add", "--commune", "42218"]);
    let sensor_text = text(&sensor.stdout);
    let id = sensor_text.split_whitespace().nth(1).unwrap().to_owned();
    assert!(id.starts_with("cap-"), "{sensor_text}");
    let revoked = run(&["sensors", "revoke", &id]);
    assert!(
        text(&revoked.stdout).contains("révoqué"),
        "{}",
        text(&revoked.stderr)
    );
    let missing = run(&["sensors", "revoke", "cap-inconnu"]);
    assert!(!missing.status.success());
}

/// libpcap is loaded at run time by the live box only: the binary must not
/// link it, or every machine would need it to run the observatory or the
/// demo (and its development package to build them).
#[test]
fn the_binary_does_not_link_libpcap() {
    let exe = env!("CARGO_BIN_EXE_vigie");
    let out = match Command::new("ldd").arg(exe).output() {
        Ok(out) => out,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            println!("the_binary_does_not_link_libpcap: skipped, no ldd on this machine");
            return;
        }
        Err(error) => panic!("ldd {exe}: {error}"),
    };
    assert!(out.status.success(), "ldd {exe}: {}", text(&out.stderr));
    let listed = text(&out.stdout);
    assert!(listed.contains("libc.so"), "{listed}");
    assert!(
        !listed.lines().any(|line| line.contains("libpcap")),
        "{exe} links libpcap:\n{listed}"
    );
}

/// `vigie documents`: Vigie's templates written out, one adapted, and a
/// probe report rendered with the territory's branding and that template.
#[test]
fn a_territory_adapts_its_documents() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("modeles");
    let out = vigie(&["documents", "templates", templates.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let layout = std::fs::read_to_string(templates.join("vigie.typ")).unwrap();
    assert!(layout.contains("#let layout("));
    assert!(templates.join("rapport-sonde.typ").is_file());
    // An adapted template is not overwritten by a second run.
    std::fs::write(
        templates.join("rapport-sonde.typ"),
        std::fs::read_to_string(templates.join("rapport-sonde.typ"))
            .unwrap()
            .replace(
                "#text(fill: muted, data.dates)",
                "Rapport remis au maire. #text(fill: muted, data.dates)",
            ),
    )
    .unwrap();
    let out = vigie(&["documents", "templates", templates.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("existe déjà"),
        "{}",
        text(&out.stdout)
    );
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        "[branding]\nterritory_name = \"Syndicat mixte de test\"\ntemplates_dir = \"modeles\"\n",
    )
    .unwrap();
    let scan = dir.path().join("scan.json");
    std::fs::write(
        &scan,
        r#"{"schema":"vigie.probe/1","commune":"42218","started_at":"2026-03-02T08:00:00Z",
            "finished_at":"2026-03-02T09:00:00Z","lab":false,"interrupted":false,
            "scope":{"networks":["192.168.1.0/24"],"excluded":[],"intensity":"polite"},
            "hosts":[],"findings":[],"top":[]}"#,
    )
    .unwrap();
    let pdf = dir.path().join("rapport.pdf");
    let out = vigie(&[
        "documents",
        "probe-report",
        scan.to_str().unwrap(),
        "--output",
        pdf.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    if let Some(words) = vigie_docs::read_back::pdf_text(&std::fs::read(&pdf).unwrap()) {
        assert!(words.contains("Syndicat mixte de test"), "{words}");
        assert!(words.contains("Rapport remis au maire."), "{words}");
        assert!(words.contains("Aucune vulnérabilité trouvée"), "{words}");
    }
    // A broken template: the command fails and says where.
    std::fs::write(templates.join("rapport-sonde.typ"), "#let x = (\n").unwrap();
    let out = vigie(&[
        "documents",
        "probe-report",
        scan.to_str().unwrap(),
        "--output",
        pdf.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("modèle de document « rapport-sonde.typ », ligne"),
        "{}",
        text(&out.stderr)
    );
}

/// A territory's questionnaire file with a mistake stops `vigie serve` at
/// start, with the file, the question and the field named.
#[test]
fn a_malformed_questionnaire_stops_the_server_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("questionnaires");
    std::fs::create_dir(&own).unwrap();
    std::fs::write(
        own.join("couts.toml"),
        "version = \"2027.1\"\n[[costs]]\nid = \"disque\"\nlabel = \"Disque\"\ninvestment = [100]\nyearly = [0, 0]\nbuy = \"Un disque.\"\n",
    )
    .unwrap();
    let config = dir.path().join("vigie.toml");
    let database = format!("sqlite://{}", dir.path().join("vigie.db").display());
    std::fs::write(
        &config,
        format!("database = \"{database}\"\nlisten = \"127.0.0.1:0\"\nquestionnaires_dir = \"questionnaires\"\n"),
    )
    .unwrap();
    let out = vigie(&["serve", "--config", config.to_str().unwrap()]);
    assert!(!out.status.success());
    let error = text(&out.stderr);
    assert!(error.contains("questionnaires_dir"), "{error}");
    assert!(error.contains("couts.toml, ligne 5"), "{error}");
    // A questionnaire's field: the file, the question and the field.
    std::fs::remove_file(own.join("couts.toml")).unwrap();
    let services = vigie_server_questionnaire("securite-services.toml").replacen(
        "weight = 3",
        "weight = 7",
        1,
    );
    std::fs::write(own.join("securite-services.toml"), services).unwrap();
    let out = vigie(&["serve", "--config", config.to_str().unwrap()]);
    assert!(!out.status.success());
    let error = text(&out.stderr);
    assert!(
        error.contains("securite-services.toml, question « ")
            && error.contains("champ « weight » : 7"),
        "{error}"
    );
}

fn vigie_server_questionnaire(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../vigie-server/data/questionnaires")
            .join(name),
    )
    .unwrap()
}
