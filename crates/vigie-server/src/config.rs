//! The observatory's configuration file (`vigie serve --config vigie.toml`):
//! one serde struct, a doc line per field, the defaults in `Default` (and
//! the same values in the example, `data/vigie.example.toml`, which a test
//! parses back). The binary merges its command-line flags over it, then
//! turns it into [`ServerSettings`] with [`Config::settings`].
//!
//! What it must not do: accept a key it does not know (a typo would
//! silently keep a default), or hold a secret itself (the SMTP password
//! stays in its own file, read when the relay is built).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::phishing::scenarios::ScenarioError;
use crate::state::{ConnectionLimits, ServerSettings};

/// The commented example `vigie serve --print-config` prints.
pub const EXAMPLE: &str = include_str!("../data/vigie.example.toml");

/// Everything `vigie.toml` may hold. The keys are a contract scripts rely
/// on (docs/api.md): rename none.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The observatory's address as people reach it; every link sent
    /// (e-mails, documents) starts with it.
    pub public_url: String,
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// `sqlite://FILE` or `postgres://USER@HOST/DB`.
    pub database: String,
    /// Mark cookies `Secure` (always so with `tls_cert`).
    pub secure_cookies: bool,
    /// HTTPS certificate (PEM); empty: plain HTTP.
    pub tls_cert: PathBuf,
    /// Its private key (PEM); empty: plain HTTP.
    pub tls_key: PathBuf,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// Host names a list may be fetched from at an internal address.
    pub allow_list_hosts: Vec<String>,
    /// Connections open at once, all clients together.
    pub max_connections: usize,
    /// Connections open at once from one client (0: no cap).
    pub max_connections_per_client: usize,
    /// A sensor silent for this long raises an alert (minutes).
    pub silent_after_minutes: u32,
    /// The relay e-mails leave through; none: they stay queued.
    pub smtp: Option<Smtp>,
    /// What documents carry of the territory.
    pub branding: Branding,
    /// How long records are kept.
    pub retention: Retention,
    /// A directory whose files replace the pre-audit's built-in
    /// questionnaires and cost table of the same name; empty: the built-in
    /// ones. Relative to the config file.
    pub questionnaires_dir: PathBuf,
    /// A directory of phishing scenarios, one folder each: a folder named
    /// like a built-in scenario replaces it, any other adds one; empty:
    /// the built-in ones. Relative to the config file.
    pub scenarios_dir: PathBuf,
    /// A directory of offers (`*.toml`, issue 12): a file named like a
    /// built-in offer replaces it, any other adds one; empty: the
    /// built-in ones. Relative to the config file.
    pub offers_dir: PathBuf,
    /// A file replacing the risk map's built-in rule (`data/risk.toml`,
    /// issue 15: weights, thresholds, points); empty: the built-in one.
    /// Relative to the config file.
    pub risk_file: PathBuf,
    /// Serve the territory's public, anonymised page (`/public/territoire`
    /// and its CSV, issue 15): figures by EPCI, groups of fewer than five
    /// communes with data withheld. Off: 404.
    pub public_territory: bool,
    /// Phishing-awareness campaigns (`[campaigns]`).
    pub campaigns: crate::phishing::CampaignSettings,
    /// The programme's reminders (`[agreements]`, issue 12).
    pub agreements: crate::agreements::AgreementSettings,
    /// The territory list (`[defence]`, issue 16).
    pub defence: crate::defence::DefenceSettings,
}

/// The SMTP relay (`[smtp]`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Smtp {
    /// The relay's host name (also the name its certificate must carry).
    pub host: String,
    /// Its port: 587 for STARTTLS, 465 for TLS, 25 for none.
    pub port: u16,
    /// How the connection is protected.
    pub security: SmtpSecurity,
    /// The account to authenticate as; empty: no authentication.
    pub username: String,
    /// A file whose first line is the password; empty: none.
    pub password_file: PathBuf,
    /// The sender, `Name <address>`.
    pub from: String,
}

/// `smtp.security`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on this machine).
    None,
    /// Plain connection upgraded with STARTTLS, required (RFC 3207).
    Starttls,
    /// TLS from the first byte (RFC 8314). lettre opens this socket
    /// itself, Nagle's algorithm on: some 25 messages a second at most
    /// (`outbox/session.rs`), where STARTTLS sends hundreds.
    Tls,
}

/// Document branding (`[branding]`), given to the document engine.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Branding {
    /// The territory's name, at the head of documents.
    pub territory_name: String,
    /// Logo file (PNG or SVG); empty: none. Relative to the config file.
    pub logo: PathBuf,
    /// Who signs documents, and as what.
    pub signatory_name: String,
    pub signatory_title: String,
    /// Colours, `#rrggbb`.
    pub primary_color: String,
    pub accent_color: String,
    /// A directory whose files replace the built-in document templates of
    /// the same name (`vigie documents templates DIR` writes them out to
    /// start from); empty: the built-in ones. Relative to the config file.
    pub templates_dir: PathBuf,
}

/// Retention periods in days, 0 = kept forever (`[retention]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// Audit journal entries.
    pub audit_days: u32,
    /// Incident detail (the daily counts behind the weather are kept).
    pub incidents_days: u32,
    /// E-mails sent or failed, in the outbox.
    pub mail_days: u32,
}

impl Default for Config {
    fn default() -> Self {
        let connections = ConnectionLimits::default();
        Config {
            public_url: "http://127.0.0.1:8080".to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: "sqlite://vigie.db".to_owned(),
            secure_cookies: false,
            tls_cert: PathBuf::new(),
            tls_key: PathBuf::new(),
            trusted_proxies: Vec::new(),
            allow_list_hosts: Vec::new(),
            max_connections: connections.max_connections,
            max_connections_per_client: connections.per_client,
            silent_after_minutes: 60,
            smtp: None,
            branding: Branding::default(),
            retention: Retention::default(),
            questionnaires_dir: PathBuf::new(),
            scenarios_dir: PathBuf::new(),
            offers_dir: PathBuf::new(),
            risk_file: PathBuf::new(),
            public_territory: false,
            campaigns: crate::phishing::CampaignSettings::default(),
            agreements: crate::agreements::AgreementSettings::default(),
            defence: crate::defence::DefenceSettings::default(),
        }
    }
}

impl Default for Smtp {
    fn default() -> Self {
        Smtp {
            host: "127.0.0.1".to_owned(),
            port: 587,
            security: SmtpSecurity::Starttls,
            username: String::new(),
            password_file: PathBuf::new(),
            from: "Observatoire <noreply@example.fr>".to_owned(),
        }
    }
}

impl Default for Branding {
    fn default() -> Self {
        Branding {
            territory_name: "Territoire de démonstration".to_owned(),
            logo: PathBuf::new(),
            signatory_name: String::new(),
            signatory_title: String::new(),
            primary_color: "#1f4e79".to_owned(),
            accent_color: "#c0392b".to_owned(),
            templates_dir: PathBuf::new(),
        }
    }
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            audit_days: 730,
            incidents_days: 400,
            mail_days: 90,
        }
    }
}

/// A configuration refused, in French, naming the file and where.
#[derive(Debug, thiserror::Error)]
#[error("{file}{at} : {message}")]
pub struct ConfigError {
    file: String,
    /// ", ligne N" when known.
    at: String,
    message: String,
}

impl ConfigError {
    fn new(file: &Path, line: Option<usize>, message: String) -> Self {
        ConfigError {
            file: file.display().to_string(),
            at: line.map(|n| format!(", ligne {n}")).unwrap_or_default(),
            message,
        }
    }
}

impl Config {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(path, None, format!("lecture impossible ({e})")))?;
        let mut config = Config::parse(path, &text)?;
        // A relative logo or templates directory is found beside the
        // configuration file.
        if let Some(dir) = path.parent() {
            for file in [
                &mut config.branding.logo,
                &mut config.branding.templates_dir,
                &mut config.questionnaires_dir,
                &mut config.scenarios_dir,
                &mut config.offers_dir,
                &mut config.risk_file,
            ] {
                if !file.as_os_str().is_empty() && file.is_relative() {
                    *file = dir.join(&*file);
                }
            }
            if let Some(dkim) = &mut config.campaigns.dkim
                && dkim.private_key_file.is_relative()
            {
                dkim.private_key_file = dir.join(&dkim.private_key_file);
            }
        }
        config.check(path, &text)?;
        Ok(config)
    }

    /// Parses `text` (the content of `path`, named in errors); checks
    /// only what needs no file system.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|span| line_of(text, span.start));
            ConfigError::new(path, line, french(&e, text))
        })?;
        config.check_values(path, text)?;
        Ok(config)
    }

    fn check_values(&self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let refuse = |key: &str, why: String| {
            let line = find_key(text, key);
            Err(ConfigError::new(path, line, format!("« {key} » : {why}")))
        };
        let url = self.public_url.trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(' ') {
            return refuse(
                "public_url",
                format!(
                    "« {} » n'est pas une adresse http:// ou https://",
                    self.public_url
                ),
            );
        }
        for (key, colour) in [
            ("primary_color", &self.branding.primary_color),
            ("accent_color", &self.branding.accent_color),
        ] {
            let hex = colour.strip_prefix('#').unwrap_or("");
            if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return refuse(key, format!("« {colour} » n'est pas une couleur #rrggbb"));
            }
        }
        if self.tls_cert.as_os_str().is_empty() != self.tls_key.as_os_str().is_empty() {
            return refuse(
                "tls_cert",
                "tls_cert et tls_key vont ensemble : les deux ou aucun".to_owned(),
            );
        }
        if self.silent_after_minutes == 0 {
            return refuse("silent_after_minutes", "doit valoir au moins 1".to_owned());
        }
        if let Err(why) = self.agreements.check() {
            return refuse("reminder_days", why);
        }
        if let Err(why) = self.defence.check() {
            return refuse("[defence]", why);
        }
        if let Some(smtp) = &self.smtp {
            if smtp.host.trim().is_empty() {
                return refuse("host", "le relais SMTP n'a pas de nom d'hôte".to_owned());
            }
            if smtp.from.parse::<lettre::message::Mailbox>().is_err() {
                return refuse(
                    "from",
                    format!(
                        "« {} » n'est pas une adresse d'expéditeur valide",
                        smtp.from
                    ),
                );
            }
            if !smtp.username.is_empty() && smtp.password_file.as_os_str().is_empty() {
                return refuse(
                    "password_file",
                    "un nom d'utilisateur SMTP demande un fichier de mot de passe".to_owned(),
                );
            }
        }
        Ok(())
    }

    /// What needs the file system: the logo and the password file exist,
    /// the logo is an image, the templates directory is one.
    fn check(&self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let logo = &self.branding.logo;
        if !logo.as_os_str().is_empty() && !logo.is_file() {
            return Err(ConfigError::new(
                path,
                find_key(text, "logo"),
                format!("« logo » : le fichier {} est introuvable", logo.display()),
            ));
        }
        if let Err(error) = self.questionnaires() {
            return Err(ConfigError::new(
                path,
                find_key(text, "questionnaires_dir"),
                format!("« questionnaires_dir » : {error}"),
            ));
        }
        if let Err(error) = self.scenarios() {
            return Err(ConfigError::new(
                path,
                find_key(text, "scenarios_dir"),
                format!("« scenarios_dir » : {error}"),
            ));
        }
        if let Err(error) = self.offers() {
            return Err(ConfigError::new(
                path,
                find_key(text, "offers_dir"),
                format!("« offers_dir » : {error}"),
            ));
        }
        if let Err(error) = self.risk() {
            return Err(ConfigError::new(
                path,
                find_key(text, "risk_file"),
                format!("« risk_file » : {error}"),
            ));
        }
        if let Err(error) = self.documents() {
            let key = match error {
                vigie_docs::DocError::Logo(..) => "logo",
                _ => "templates_dir",
            };
            return Err(ConfigError::new(
                path,
                find_key(text, key),
                format!("« {key} » : {error}"),
            ));
        }
        if let Some(smtp) = &self.smtp
            && !smtp.password_file.as_os_str().is_empty()
            && !smtp.password_file.is_file()
        {
            return Err(ConfigError::new(
                path,
                find_key(text, "password_file"),
                format!(
                    "« password_file » : le fichier {} est introuvable",
                    smtp.password_file.display()
                ),
            ));
        }
        Ok(())
    }

    /// The pre-audit's questionnaires: the territory's files, else the
    /// built-in ones; the error names the file, the question, the field.
    pub fn questionnaires(&self) -> Result<crate::audits::Book, String> {
        let dir = &self.questionnaires_dir;
        crate::audits::Book::load((!dir.as_os_str().is_empty()).then_some(dir.as_path()))
    }

    /// The phishing scenarios: the built-in ones and the territory's; the
    /// error names the file, the line and the field.
    pub fn scenarios(&self) -> Result<crate::phishing::scenarios::Library, ScenarioError> {
        let dir = &self.scenarios_dir;
        crate::phishing::scenarios::Library::load(
            (!dir.as_os_str().is_empty()).then_some(dir.as_path()),
        )
    }

    /// The offers agreements are made of: the built-in ones and the
    /// territory's; the error names the file, the line and the field.
    pub fn offers(&self) -> Result<crate::agreements::Catalogue, crate::agreements::OfferError> {
        let dir = &self.offers_dir;
        crate::agreements::Catalogue::load((!dir.as_os_str().is_empty()).then_some(dir.as_path()))
    }

    /// The risk map's rule: the territory's file, else the built-in one;
    /// the error names the file, the line and the field.
    pub fn risk(&self) -> Result<crate::risk::Rules, crate::risk::RiskError> {
        let file = &self.risk_file;
        crate::risk::Rules::load((!file.as_os_str().is_empty()).then_some(file.as_path()))
    }

    /// The document engine with the territory's branding and templates.
    pub fn documents(&self) -> Result<vigie_docs::Engine, vigie_docs::DocError> {
        let branding = &self.branding;
        let logo = if branding.logo.as_os_str().is_empty() {
            None
        } else {
            Some(vigie_docs::Logo::read(&branding.logo)?)
        };
        let templates_dir = (!branding.templates_dir.as_os_str().is_empty())
            .then(|| branding.templates_dir.clone());
        vigie_docs::Engine::new(
            vigie_docs::Branding {
                territory_name: branding.territory_name.clone(),
                signatory_name: branding.signatory_name.clone(),
                signatory_title: branding.signatory_title.clone(),
                primary_color: branding.primary_color.clone(),
                accent_color: branding.accent_color.clone(),
                logo,
            },
            templates_dir,
        )
    }

    /// The settings the server runs with.
    pub fn settings(&self) -> ServerSettings {
        let defaults = ServerSettings::default();
        // `load` checked the branding; a logo removed since falls back to
        // Vigie's own, said in the log.
        let documents = self.documents().unwrap_or_else(|error| {
            tracing::warn!(%error, "document branding unusable: Vigie's own is used");
            vigie_docs::Engine::built_in()
        });
        let questionnaires = self.questionnaires().unwrap_or_else(|error| {
            tracing::warn!(%error, "questionnaires unusable: the built-in ones are used");
            crate::audits::Book::built_in().unwrap_or_default()
        });
        let scenarios = self.scenarios().unwrap_or_else(|error| {
            tracing::warn!(%error, "scenarios unusable: the built-in ones are used");
            crate::phishing::scenarios::Library::builtin().unwrap_or_default()
        });
        let offers = self.offers().unwrap_or_else(|error| {
            tracing::warn!(%error, "offers unusable: the built-in ones are used");
            crate::agreements::Catalogue::built_in().unwrap_or_default()
        });
        let risk = self.risk().unwrap_or_else(|error| {
            tracing::warn!(%error, "risk rule unusable: the built-in one is used");
            crate::risk::Rules::built_in().unwrap_or_default()
        });
        ServerSettings {
            risk: std::sync::Arc::new(risk),
            documents,
            questionnaires: std::sync::Arc::new(questionnaires),
            scenarios: std::sync::Arc::new(scenarios),
            offers: std::sync::Arc::new(offers),
            secure_cookies: self.secure_cookies || !self.tls_cert.as_os_str().is_empty(),
            silent_after_secs: i64::from(self.silent_after_minutes) * 60,
            trusted_proxies: self.trusted_proxies.clone(),
            list_fetch_allowed_hosts: self.allow_list_hosts.clone(),
            connections: ConnectionLimits {
                max_connections: self.max_connections,
                per_client: self.max_connections_per_client,
                ..defaults.connections.clone()
            },
            public_url: self.public_url.trim_end_matches('/').to_owned(),
            smtp: self.smtp.clone(),
            retention: self.retention,
            campaigns: self.campaigns.clone(),
            agreements: self.agreements.clone(),
            defence: self.defence.clone(),
            public_territory: self.public_territory,
            ..defaults
        }
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |before| before.matches('\n').count())
        + 1
}

/// The line where `key` is set in `text` (for checks made after parsing,
/// which have no position).
fn find_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            line.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|index| index + 1)
}

/// The parser's message in French, naming the key.
fn french(error: &toml::de::Error, text: &str) -> String {
    let message = error.message();
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((key, _)) = rest.split_once('`')
    {
        return format!("clé inconnue « {key} »");
    }
    if let Some(rest) = message.strip_prefix("unknown variant `")
        && let Some((value, _)) = rest.split_once('`')
    {
        return format!("valeur inconnue « {value} » (voir vigie serve --print-config)");
    }
    let line = error
        .span()
        .and_then(|span| text.get(..span.start))
        .map(|before| before.rsplit('\n').next().unwrap_or(before));
    let key = error
        .span()
        .and_then(|span| text.get(span.start..))
        .map(|from| line.unwrap_or("").to_owned() + from.lines().next().unwrap_or(""))
        .map(|whole| whole.trim().to_owned())
        .unwrap_or_default();
    if key.is_empty() {
        format!("fichier invalide ({message})")
    } else {
        format!("« {key} » refusé ({message})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(Path::new("vigie.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn the_example_is_the_defaults() {
        assert_eq!(parse(EXAMPLE), Ok(Config::default()));
    }

    #[test]
    fn the_example_smtp_section_is_the_smtp_defaults() {
        // Uncomments the `[smtp]` section only (up to the next section).
        let mut in_smtp = false;
        let uncommented: String = EXAMPLE
            .lines()
            .map(|line| {
                let rest = line.strip_prefix("# ");
                if line.starts_with('[') || rest.is_some_and(|r| r.starts_with('[')) {
                    in_smtp = rest.is_some_and(|r| r.starts_with("[smtp]"));
                }
                match rest {
                    Some(rest) if in_smtp && (rest.starts_with('[') || rest.contains(" = ")) => {
                        rest
                    }
                    _ => line,
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let config = parse(&uncommented).unwrap_or_default();
        assert_eq!(config.smtp, Some(Smtp::default()));
    }

    #[test]
    fn the_contract_keys() {
        let config = parse(
            r#"public_url = "https://observatoire.example.fr"
[smtp]
host = "127.0.0.1"
port = 587
security = "starttls"      # "none" | "starttls" | "tls"
username = ""              # empty: no authentication
password_file = ""
from = "Observatoire <noreply@example.fr>"
"#,
        )
        .unwrap_or_default();
        assert_eq!(config.public_url, "https://observatoire.example.fr");
        assert_eq!(config.smtp, Some(Smtp::default()));
    }

    #[test]
    fn unknown_keys_name_file_line_and_key() {
        let error = parse("public_url = \"https://a.fr\"\n\n[smtp]\nhots = \"x\"\n");
        assert_eq!(
            error,
            Err("vigie.toml, ligne 4 : clé inconnue « hots »".to_owned())
        );
        let error = parse("[retention]\naudit_days = -3\n");
        let message = error.err().unwrap_or_default();
        assert!(message.starts_with("vigie.toml, ligne 2 : "), "{message}");
        assert!(message.contains("audit_days"), "{message}");
        let error = parse("[smtp]\nsecurity = \"ssl\"\n")
            .err()
            .unwrap_or_default();
        assert!(
            error.contains("ligne 2") && error.contains("ssl"),
            "{error}"
        );
    }

    #[test]
    fn reminder_days_are_checked() {
        assert!(EXAMPLE.contains("\nreminder_days = [30, 7]\n"));
        let config = parse("[agreements]\nreminder_days = [15, 1]\n").unwrap_or_default();
        assert_eq!(config.settings().agreements.reminder_days, vec![15, 1]);
        let error = parse("[agreements]\n\nreminder_days = [7, 400]\n")
            .err()
            .unwrap_or_default();
        assert_eq!(
            error,
            "vigie.toml, ligne 3 : « reminder_days » : 400 : de 0 à 366 jours"
        );
    }

    #[test]
    fn values_are_checked() {
        let error = parse("[branding]\nprimary_color = \"bleu\"\n")
            .err()
            .unwrap_or_default();
        assert!(error.contains("primary_color"), "{error}");
        let error = parse("public_url = \"observatoire\"\n")
            .err()
            .unwrap_or_default();
        assert!(error.contains("public_url"), "{error}");
        let error = parse("tls_cert = \"a.pem\"\n").err().unwrap_or_default();
        assert!(error.contains("tls_key"), "{error}");
    }

    #[test]
    fn the_branding_files_are_checked_beside_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigie.toml");
        let load = |text: &str| {
            std::fs::write(&path, text).unwrap();
            Config::load(&path).map_err(|e| e.to_string())
        };
        let error = load("[branding]\nlogo = \"logo.gif\"\n").unwrap_err();
        assert!(
            error.contains("ligne 2") && error.contains("logo.gif"),
            "{error}"
        );
        std::fs::write(dir.path().join("logo.gif"), b"GIF89a").unwrap();
        let error = load("[branding]\nlogo = \"logo.gif\"\n").unwrap_err();
        assert!(error.contains("ni PNG, ni JPEG, ni SVG"), "{error}");
        let error = load("[branding]\n\ntemplates_dir = \"modeles\"\n").unwrap_err();
        assert!(
            error.contains("ligne 3") && error.contains("« templates_dir »"),
            "{error}"
        );
        std::fs::create_dir(dir.path().join("modeles")).unwrap();
        let config =
            load("[branding]\nterritory_name = \"Loire\"\ntemplates_dir = \"modeles\"\n").unwrap();
        assert_eq!(config.branding.templates_dir, dir.path().join("modeles"));
        assert_eq!(
            config.settings().documents.branding().territory_name,
            "Loire"
        );
    }

    #[test]
    fn the_scenarios_dir_is_checked_beside_the_config() {
        assert!(EXAMPLE.contains("\nscenarios_dir = \"\"\n"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigie.toml");
        std::fs::write(
            &path,
            "public_url = \"https://a.fr\"\nscenarios_dir = \"scenarios\"\n",
        )
        .unwrap();
        let error = Config::load(&path).unwrap_err().to_string();
        let scenarios = dir.path().join("scenarios");
        assert_eq!(
            error,
            format!(
                "{}, ligne 2 : « scenarios_dir » : {} n'est pas un dossier lisible",
                path.display(),
                scenarios.display()
            )
        );
        std::fs::create_dir_all(scenarios.join("essai")).unwrap();
        std::fs::write(scenarios.join("essai/scenario.toml"), "").unwrap();
        let error = Config::load(&path).unwrap_err().to_string();
        assert!(
            error.contains(&format!(
                "{}/essai : fichier mail.html manquant",
                scenarios.display()
            )),
            "{error}"
        );
        std::fs::remove_dir_all(scenarios.join("essai")).unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(config.scenarios_dir, scenarios);
        assert_eq!(config.settings().scenarios.len(), 6);
    }

    #[test]
    fn the_risk_file_is_checked_beside_the_config() {
        assert!(EXAMPLE.contains("\nrisk_file = \"\"\n"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigie.toml");
        std::fs::write(&path, "risk_file = \"risque.toml\"\n").unwrap();
        let rule = dir.path().join("risque.toml");
        let built_in = include_str!("../data/risk.toml");
        std::fs::write(&rule, built_in.replace("high = 50", "high = 90")).unwrap();
        let error = Config::load(&path).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!(
                "{}, ligne 1 : « risk_file » : {}, ligne ",
                path.display(),
                rule.display()
            )),
            "{error}"
        );
        assert!(
            error.ends_with(
                "champ « levels » : les seuils doivent croître : moderate < high < critical"
            ),
            "{error}"
        );
        std::fs::write(&rule, built_in.replace("pressure = 25", "pressure = 40")).unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(config.settings().risk.weights[0], 40);
    }

    #[test]
    fn the_public_territory_page_is_off_unless_asked() {
        assert!(EXAMPLE.contains("\npublic_territory = false\n"));
        assert!(!Config::default().settings().public_territory);
        let config = parse("public_territory = true\n").unwrap_or_default();
        assert!(config.settings().public_territory);
        let error = parse("public_territory = \"oui\"\n")
            .err()
            .unwrap_or_default();
        assert!(
            error.starts_with("vigie.toml, ligne 1 : ") && error.contains("public_territory"),
            "{error}"
        );
    }

    #[test]
    fn the_offers_dir_is_checked_beside_the_config() {
        assert!(EXAMPLE.contains("\noffers_dir = \"\"\n"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigie.toml");
        std::fs::write(
            &path,
            "public_url = \"https://a.fr\"\noffers_dir = \"offres\"\n",
        )
        .unwrap();
        let offers = dir.path().join("offres");
        let error = Config::load(&path).unwrap_err().to_string();
        assert_eq!(
            error,
            format!(
                "{}, ligne 2 : « offers_dir » : {} n'est pas un dossier lisible",
                path.display(),
                offers.display()
            )
        );
        std::fs::create_dir(&offers).unwrap();
        let kit = include_str!("../data/offers/crisis_kit.toml");
        std::fs::write(
            offers.join("crisis_kit.toml"),
            kit.replace("months = 3\n", "months = 300\n"),
        )
        .unwrap();
        let error = Config::load(&path).unwrap_err().to_string();
        assert!(
            error.contains(&format!(
                "« offers_dir » : {}, ligne ",
                offers.join("crisis_kit.toml").display()
            )) && error.ends_with("champ « months » : 300 : de 0 à 120 mois"),
            "{error}"
        );
        std::fs::write(
            offers.join("crisis_kit.toml"),
            kit.replace("max_total_months = 96", "max_total_months = 60"),
        )
        .unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(config.offers_dir, offers);
        let settings = config.settings();
        assert_eq!(settings.offers.len(), 5);
        assert_eq!(
            settings.offers.get("crisis_kit").map(|o| o.renewal),
            Some(crate::agreements::offers::Renewal::Tacit {
                period_months: 12,
                max_total_months: Some(60)
            })
        );
    }
}
