//! The territory the dossiers bench prints: a first round for every
//! commune, filled with answers from a seeded generator, and a typical
//! probe scan for some of them.

use anyhow::Context;
use vigie_core::probe::ProbeReport;
use vigie_server::accounts::{self, Role};
use vigie_server::audits::questionnaire::Field;
use vigie_server::audits::store::{self, Update};
use vigie_server::audits::{self, Audit, Book};
use vigie_server::territory::{self, Commune};
use vigie_server::{AppState, probes};

use super::DossiersArgs;

const ADMIN: &str = "mesures@vigie.fr";
const PASSWORD: &str = "une phrase pour le banc des dossiers";

/// One commune's round, ready to be printed.
pub struct Round {
    pub commune: Commune,
    pub audit: Audit,
    pub answers: usize,
    pub probed: bool,
}

/// A first round for every commune, filled in; a probe scan for one in
/// `probed_every`.
pub async fn prepare(state: &AppState, args: &DossiersArgs) -> anyhow::Result<Vec<Round>> {
    let db = &state.db;
    let book = Book::built_in().map_err(anyhow::Error::msg)?;
    let user = accounts::add_user(db, ADMIN, Role::Admin, None, PASSWORD).await?;
    let by = format!("user:{user}");
    let now = vigie_server::db::now_ms();
    let mut rounds = Vec::new();
    for (index, commune) in territory::communes(db).await?.into_iter().enumerate() {
        let code = commune.code.to_string();
        let id = audits::create(db, &code, &book, user, now).await?;
        let mut random = Random::new(args.seed ^ (index as u64).wrapping_mul(0x9e37_79b9));
        let updates = answers(&book, &commune, &mut random)?;
        store::save(db, &id, &updates, &by, now).await?;
        let probed = args.probed_every > 0 && index % args.probed_every == 0;
        if probed {
            probes::store(db, &typical_scan(&code, index as u64)?, Some(user), now).await?;
        }
        let audit = store::get(db, &id).await?.context("round just created")?;
        rounds.push(Round {
            commune,
            audit,
            answers: updates.len(),
            probed,
        });
    }
    Ok(rounds)
}

/// An answer to every question of `book`, checked as the API would: the
/// commune's maturity (drawn once) makes the best answer more or less
/// likely, so the scores spread; a few « je ne sais pas », « non
/// applicable » and comments.
pub(crate) fn answers(
    book: &Book,
    commune: &Commune,
    random: &mut Random,
) -> anyhow::Result<Vec<Update>> {
    let maturity = random.below(100);
    let mut updates = Vec::new();
    for (_, question) in book.questions() {
        let answer = if question.is_scored() {
            let offered = question.answers();
            let graded: Vec<_> = offered.iter().filter(|a| a.value.is_some()).collect();
            let roll = random.below(100);
            if roll < 4 && offered.iter().any(|a| a.id == "na") {
                "na".to_owned()
            } else if roll < 12 && question.unknown {
                "unknown".to_owned()
            } else if random.below(100) < maturity {
                graded.first().map(|a| a.id.clone()).unwrap_or_default()
            } else {
                graded[random.below(graded.len() as u64) as usize]
                    .id
                    .clone()
            }
        } else {
            match question.field {
                Some(Field::Number) => {
                    let min = question.min.unwrap_or(0);
                    let max = question.max.unwrap_or(min + 100);
                    // Small numbers, as in a small commune, within range.
                    let span = (max - min + 1).clamp(1, 25) as u64;
                    (min + random.below(span) as i64).to_string()
                }
                Some(Field::YesNo) => ["yes", "no"][random.below(2) as usize].to_owned(),
                Some(Field::Choice) => question.options
                    [random.below(question.options.len() as u64) as usize]
                    .id
                    .clone(),
                Some(Field::Text) | None => format!(
                    "Réponse de la mairie de {} : texte libre, quelques lignes sur « {} ».",
                    commune.name, question.theme
                ),
            }
        };
        book.check_answer(question, &answer)
            .map_err(anyhow::Error::msg)?;
        let comment = (random.below(100) < 15).then(|| {
            "Précisé en réunion avec le prestataire ; à revoir au prochain suivi.".to_owned()
        });
        updates.push(Update {
            question: question.id.clone(),
            answer,
            comment,
        });
    }
    Ok(updates)
}

/// A typical scan of a town hall's network: a box, a secretary's PC, a
/// small server; `variant` is in the evidence texts, and one not a
/// multiple of 3 leaves out some findings, so the scans differ.
pub fn typical_scan(commune: &str, variant: u64) -> anyhow::Result<ProbeReport> {
    const CHECKS: [(&str, &str, f32, &str, u16); 9] = [
        (
            "smb.v1",
            "Partage de fichiers en SMBv1 (WannaCry)",
            9.8,
            "192.168.1.10",
            445,
        ),
        (
            "password.ssh",
            "Mot de passe trivial sur un accès SSH",
            8.8,
            "192.168.1.20",
            22,
        ),
        (
            "rdp.exposed",
            "Bureau à distance ouvert sur Internet",
            8.1,
            "192.168.1.10",
            3389,
        ),
        (
            "ftp.anonymous",
            "Serveur FTP ouvert à tous",
            7.5,
            "192.168.1.20",
            21,
        ),
        (
            "snmp.public",
            "Équipement administrable avec la communauté public",
            7.5,
            "192.168.1.1",
            161,
        ),
        (
            "telnet.clear",
            "Telnet : mots de passe en clair",
            6.5,
            "192.168.1.1",
            23,
        ),
        (
            "tls.self_signed",
            "Certificat auto-signé",
            5.3,
            "192.168.1.1",
            443,
        ),
        (
            "http.admin_clear",
            "Page d'administration en HTTP non chiffré",
            4.3,
            "192.168.1.1",
            80,
        ),
        (
            "tls.v1_0",
            "Ancien chiffrement TLS 1.0 accepté",
            3.7,
            "192.168.1.1",
            443,
        ),
    ];
    let findings: Vec<serde_json::Value> = CHECKS
        .iter()
        .enumerate()
        .filter(|(index, _)| variant.is_multiple_of(3) || !(variant + *index as u64).is_multiple_of(3))
        .map(|(_, (id, title, cvss, host, port))| {
            serde_json::json!({
                "id": id, "host": host, "port": port, "transport": if *port == 161 { "udp" } else { "tcp" },
                "cvss": cvss, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "severity": vigie_core::probe::severity_of(*cvss), "cves": if *id == "smb.v1" { vec!["CVE-2017-0144"] } else { vec![] },
                "title": title, "impact": format!("Ce que {id} permet à un attaquant contre la mairie."),
                "recommendation": format!("Ce que le prestataire doit faire pour {id}."),
                "evidence": format!("Constat {id} : réponse observée sur le port {port} (scan {variant})."),
            })
        })
        .collect();
    let service = |port: u16, name: &str, product: Option<&str>| {
        serde_json::json!({"port": port, "transport": if port == 161 { "udp" } else { "tcp" }, "name": name,
            "product": product, "version": null, "tls": port == 443, "banner": null})
    };
    let mut report: ProbeReport = serde_json::from_value(serde_json::json!({
        "schema": vigie_core::probe::PROBE_SCHEMA, "commune": commune,
        "started_at": "2026-11-30T08:00:00Z", "finished_at": "2026-11-30T09:40:00Z",
        "lab": false, "interrupted": false,
        "scope": { "networks": ["192.168.1.0/24"], "excluded": ["192.168.1.254"], "intensity": "polite" },
        "hosts": [
            {"address": "192.168.1.1", "names": ["box"], "os": null, "services": [
                service(23, "telnet", None), service(80, "http", Some("lighttpd")),
                service(161, "snmp", None), service(443, "https", Some("lighttpd"))]},
            {"address": "192.168.1.10", "names": ["SECRETARIAT"], "os": "Windows 10", "services": [
                service(445, "smb", Some("Microsoft SMB")), service(3389, "rdp", None)]},
            {"address": "192.168.1.20", "names": ["SERVEUR"], "os": "Debian 12", "services": [
                service(21, "ftp", Some("vsftpd")), service(22, "ssh", Some("OpenSSH"))]},
        ],
        "findings": findings, "top": [],
    }))?;
    report.top = vigie_probe::rank::top(&report.findings);
    report.validate().map_err(anyhow::Error::msg)?;
    Ok(report)
}

/// SplitMix64: a few lines, the same sequence for the same seed on every
/// machine (the answers must not depend on a crate's version).
pub(crate) struct Random(u64);

impl Random {
    pub(crate) fn new(seed: u64) -> Random {
        Random(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// In `0..n` (`n` ≥ 1).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}
