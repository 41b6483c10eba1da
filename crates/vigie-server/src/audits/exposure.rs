//! What the commune's network showed, for ranking its shortcomings: the
//! probe's last scan (a weak password, a remote access open to the
//! Internet, SMB1…) and the sensor's last 90 days (password guessing on
//! SSH or remote desktop, a town-hall machine contacting a malicious
//! host). Each signal comes with the sentence the dossier prints, so a
//! mayor sees why a shortcoming ranks first. This is what neither
//! MonAideCyber nor a compliance tool knows.

use std::collections::BTreeMap;

use vigie_core::Severity;

use super::questionnaire::Exposure;
use crate::{AppError, Db, fr};

/// A probe scan older than this says nothing of today's network.
const PROBE_MAX_AGE_DAYS: i64 = 365;
/// The sensor's days looked at.
const SENSOR_DAYS: i64 = 90;
/// A phishing exercise older than this says little of today's habits.
const CAMPAIGN_MAX_AGE_DAYS: i64 = 365;
/// From this share of clicks (percent of the mails sent), the awareness
/// shortcomings rank higher: about one person in ten, the level a trained
/// team stays under.
const CLICK_RATE_SIGNAL: f64 = 10.0;

/// Exposures seen, each with why.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Signals {
    reasons: BTreeMap<Exposure, Vec<String>>,
}

impl Signals {
    /// One signal (tests).
    pub fn with(exposure: Exposure, why: &str) -> Signals {
        let mut signals = Signals::default();
        signals.add(exposure, why.to_owned());
        signals
    }

    fn add(&mut self, exposure: Exposure, why: String) {
        self.reasons.entry(exposure).or_default().push(why);
    }

    /// Why this exposure is real on this network, or `None`.
    pub fn reason(&self, exposure: Exposure) -> Option<String> {
        self.reasons.get(&exposure).map(|why| why.join(" "))
    }

    /// What the probe and the sensor saw on `commune`'s network.
    pub async fn of(db: &Db, commune: &str, now_ms: i64) -> Result<Signals, AppError> {
        let mut signals = Signals::default();
        probe(db, commune, now_ms, &mut signals).await?;
        sensor(db, commune, now_ms, &mut signals).await?;
        campaigns(db, commune, now_ms, &mut signals).await?;
        Ok(signals)
    }
}

/// The kinds of probe finding that make each exposure real.
fn probe_exposure(id: &str) -> Option<Exposure> {
    let remote = [
        "rdp.exposed",
        "rdp.no_nla",
        "vnc.exposed",
        "vnc.no_auth",
        "telnet.cleartext",
        "web.remote_portal",
    ];
    // A readable list of accounts (issue 16) is half of every login.
    let accounts = [
        "snmp.default_community",
        "snmp.windows_users",
        "ftp.home_directories",
    ];
    if id.starts_with("password.") || id.ends_with(".no_auth") || accounts.contains(&id) {
        Some(Exposure::Passwords)
    } else if remote.contains(&id)
        || ["cve.fortios", "cve.citrix", "cve.ivanti"]
            .iter()
            .any(|prefix| id.starts_with(prefix))
    {
        Some(Exposure::RemoteAccess)
    } else if ["smb.v1", "smb.ms17_010_exposure", "os.windows_eol"].contains(&id) {
        Some(Exposure::Ransomware)
    } else if ["mail.cleartext", "smtp.cleartext_auth"].contains(&id) {
        Some(Exposure::Email)
    } else {
        None
    }
}

async fn probe(db: &Db, commune: &str, now_ms: i64, signals: &mut Signals) -> Result<(), AppError> {
    let since = now_ms - PROBE_MAX_AGE_DAYS * 86_400_000;
    let Some(scan) = crate::probes::last_scan(db, commune).await? else {
        return Ok(());
    };
    if scan.finished_at < since {
        return Ok(());
    }
    let report = crate::probes::document(db, scan.id).await?;
    let when = fr::date(scan.finished_at);
    let mut by_exposure: BTreeMap<Exposure, Vec<&str>> = BTreeMap::new();
    for finding in &report.findings {
        if let Some(exposure) = probe_exposure(&finding.id) {
            by_exposure
                .entry(exposure)
                .or_default()
                .push(&finding.title);
        }
    }
    for (exposure, titles) in by_exposure {
        let mut distinct: Vec<&str> = titles.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let listed = distinct
            .iter()
            .take(2)
            .copied()
            .collect::<Vec<_>>()
            .join(" ; ");
        signals.add(
            exposure,
            format!(
                "La sonde réseau du {when} l'a constaté sur le réseau de la mairie : {}.",
                lowercase_first(&listed)
            ),
        );
    }
    let serious = report
        .findings
        .iter()
        .filter(|f| matches!(f.severity, Severity::Critical | Severity::High))
        .count();
    if serious > 0 {
        signals.add(
            Exposure::ExposedServices,
            format!(
                "La sonde réseau du {when} a trouvé {} critiques ou élevées.",
                fr::plural(
                    i64::try_from(serious).unwrap_or(i64::MAX),
                    "vulnérabilité",
                    "vulnérabilités"
                )
            ),
        );
    }
    Ok(())
}

/// The commune's last phishing exercise with mails sent, within a year:
/// a high click rate, or a password typed on the fake page, makes the
/// awareness shortcomings real (issue 10, from issue 11's campaigns).
async fn campaigns(
    db: &Db,
    commune: &str,
    now_ms: i64,
    signals: &mut Signals,
) -> Result<(), AppError> {
    let since = now_ms - CAMPAIGN_MAX_AGE_DAYS * 86_400_000;
    for campaign in crate::phishing::store::list(db, Some(commune)).await? {
        if campaign.created_at < since {
            break;
        }
        let total = crate::phishing::store::summary(db, &campaign).await?.total;
        if total.sent == 0 {
            continue;
        }
        let rate = total.rate(total.clicked);
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        if rate >= CLICK_RATE_SIGNAL || total.submitted > 0 {
            let typed = if total.submitted > 0 {
                format!(
                    ", et {} un mot de passe sur la fausse page",
                    fr::plural(
                        n(total.submitted),
                        "personne a saisi",
                        "personnes ont saisi"
                    )
                )
            } else {
                String::new()
            };
            signals.add(
                Exposure::Phishing,
                format!(
                    "Lors de l'exercice d'hameçonnage commencé le {}, {} sur {} ont cliqué sur le lien piégé ({}){typed}.",
                    fr::day_long(campaign.start),
                    fr::number(n(total.clicked)),
                    fr::plural(n(total.sent), "personne", "personnes"),
                    fr::percent(rate),
                ),
            );
        }
        // Only the last exercise speaks for today.
        break;
    }
    Ok(())
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What the sensor's incidents add up to over the days looked at.
#[derive(sqlx::FromRow)]
struct SensorSums {
    /// Password guesses on SSH, remote desktop or VNC.
    remote: Option<i64>,
    /// Password guesses on any service.
    guesses: Option<i64>,
    /// Password guesses on the mail ports.
    mail: Option<i64>,
    /// Web intrusion attempts.
    web: Option<i64>,
    /// Outbound alerts, and the last one's time (Unix ms).
    outbound: Option<i64>,
    last_outbound: Option<i64>,
}

async fn sensor(
    db: &Db,
    commune: &str,
    now_ms: i64,
    signals: &mut Signals,
) -> Result<(), AppError> {
    let first_day = vigie_core::local_day(
        chrono::DateTime::from_timestamp_millis(now_ms - SENSOR_DAYS * 86_400_000)
            .unwrap_or_default(),
    )
    .to_string();
    let SensorSums {
        remote,
        guesses,
        mail,
        web,
        outbound,
        last_outbound,
    } = sqlx::query_as(
        "SELECT \
           CAST(SUM(CASE WHEN category = 'brute_force' AND (target_port IN (22, 3389, 5900) \
                OR service IN ('ssh', 'rdp', 'vnc')) THEN events ELSE 0 END) AS BIGINT) AS remote, \
           CAST(SUM(CASE WHEN category = 'brute_force' THEN events ELSE 0 END) AS BIGINT) AS guesses, \
           CAST(SUM(CASE WHEN category = 'brute_force' AND target_port IN (25, 110, 143, 465, 587, 993, 995) \
                THEN events ELSE 0 END) AS BIGINT) AS mail, \
           CAST(SUM(CASE WHEN category = 'web_exploit' THEN events ELSE 0 END) AS BIGINT) AS web, \
           CAST(SUM(CASE WHEN direction = 'outbound' THEN 1 ELSE 0 END) AS BIGINT) AS outbound, \
           MAX(CASE WHEN direction = 'outbound' THEN last_seen END) AS last_outbound \
         FROM incidents WHERE commune = $1 AND day >= $2",
    )
    .bind(commune)
    .bind(&first_day)
    .fetch_one(db.read())
    .await?;
    let days = "ces 90 derniers jours";
    let count = |n: i64, one: &str, many: &str| fr::plural(n, one, many);
    if let Some(n) = remote.filter(|n| *n > 0) {
        signals.add(
            Exposure::RemoteAccess,
            format!(
                "Le capteur a vu {} sur l'accès à distance (SSH ou bureau à distance) {days}.",
                count(n, "essai de mot de passe", "essais de mots de passe")
            ),
        );
    }
    if let Some(n) = guesses.filter(|n| *n > 0) {
        signals.add(
            Exposure::Passwords,
            format!(
                "Le capteur a vu {} contre les services de la mairie {days}.",
                count(n, "essai de mot de passe", "essais de mots de passe")
            ),
        );
    }
    if let Some(n) = mail.filter(|n| *n > 0) {
        signals.add(
            Exposure::Email,
            format!(
                "Le capteur a vu {} sur la messagerie {days}.",
                count(n, "essai de mot de passe", "essais de mots de passe")
            ),
        );
    }
    if let Some(n) = web.filter(|n| *n > 0) {
        signals.add(
            Exposure::ExposedServices,
            format!(
                "Le capteur a vu {} contre les services visibles d'Internet {days}.",
                count(n, "tentative d'intrusion web", "tentatives d'intrusion web")
            ),
        );
    }
    if let (Some(n), Some(last)) = (outbound.filter(|n| *n > 0), last_outbound) {
        signals.add(
            Exposure::Ransomware,
            format!(
                "Le capteur a vu une machine de la mairie contacter une adresse malveillante ({}, la dernière le {}).",
                count(n, "alerte", "alertes"),
                fr::date(last)
            ),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_findings_map_to_exposures() {
        assert_eq!(probe_exposure("password.ssh"), Some(Exposure::Passwords));
        assert_eq!(probe_exposure("redis.no_auth"), Some(Exposure::Passwords));
        assert_eq!(
            probe_exposure("snmp.windows_users"),
            Some(Exposure::Passwords)
        );
        assert_eq!(probe_exposure("rdp.exposed"), Some(Exposure::RemoteAccess));
        assert_eq!(
            probe_exposure("cve.fortios_sslvpn_heap"),
            Some(Exposure::RemoteAccess)
        );
        assert_eq!(probe_exposure("smb.v1"), Some(Exposure::Ransomware));
        assert_eq!(probe_exposure("tls.expired"), None);
    }
}
