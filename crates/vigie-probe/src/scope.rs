//! The scope file: what the commune authorised the probe to look at, and
//! when. It is the probe's only gate: every address the scanner contacts
//! is an [`Allowed`], which only [`Scope::admit`] can make, and the
//! protocol modules only get `Target`s the scanner built from one.
//!
//! What it must not do: admit an address outside `networks`, an excluded
//! one, a public one without `allow_public = true`, or a loopback one
//! outside `--lab`; let a run start outside the agreement's period or, unless
//! `--lab`, outside working hours (see [`hours`]).

pub mod hours;
mod networks;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::ops::Range;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use ipnet::IpNet;
use serde::Deserialize;
use toml::Spanned;
use vigie_core::probe::ScopeSummary;

use crate::target::Target;
use networks::{Class, net_size, parse_net, public_refused};

/// A documented example of a scope file.
pub const EXAMPLE: &str = include_str!("../data/scope.example.toml");

/// The most addresses a scope may cover, all networks together: a /16.
/// A commune's LAN is a /24 or a few; more is a typing mistake.
pub const MAX_ADDRESSES: u128 = 65_536;
/// Agents a scope may name: each gives two accounts to try on every login
/// service, so a list longer than a town hall's staff would only lengthen
/// the run.
pub const MAX_AGENTS: usize = 100;

/// How hard the probe may push the network.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Intensity {
    /// Few connections at once, one host examined at a time, one account
    /// at a time in password trials.
    #[default]
    Polite,
    /// A bit more of everything (eight hosts, four accounts at a time),
    /// for a network the provider knows well.
    Normal,
}

impl Intensity {
    pub fn as_str(self) -> &'static str {
        match self {
            Intensity::Polite => "polite",
            Intensity::Normal => "normal",
        }
    }
}

/// Ports named by the scope file, replacing the built-in lists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortsOverride {
    pub tcp: Option<Vec<u16>>,
    pub udp: Option<Vec<u16>>,
}

/// The agreement's scan period, in Paris days, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// An address the scope admits. Only [`Scope::admit`] makes one, so a
/// function taking an `Allowed` cannot be handed an address out of scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Allowed(IpAddr);

impl Allowed {
    pub fn addr(self) -> IpAddr {
        self.0
    }

    pub fn tcp(self, port: u16) -> Target {
        Target::tcp(self.0, port)
    }

    pub fn udp(self, port: u16) -> Target {
        Target::udp(self.0, port)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    #[error("lecture impossible du fichier de périmètre {file} : {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}, ligne {line}, champ « {field} » : {problem}")]
    Invalid {
        file: String,
        line: usize,
        field: String,
        problem: String,
    },
    #[error(
        "nous sommes le {today} : la sonde ne fonctionne que pendant la période convenue, \
         du {} au {}", period.start, period.end
    )]
    OutsidePeriod { today: NaiveDate, period: Period },
    #[error(
        "il est {now} (heure de Paris) : la sonde ne fonctionne que les jours ouvrés, \
         de 8 h à 18 h (l'option --lab lève cette limite, pour des essais seulement)"
    )]
    OutsideHours { now: String },
    #[error(
        "le réseau {network} est l'adresse de bouclage de cette machine : \
         il n'est admis qu'avec --lab, pour des essais"
    )]
    LoopbackNeedsLab { network: String },
}

/// A loaded, checked scope.
#[derive(Clone, Debug)]
pub struct Scope {
    commune: Option<String>,
    name: Option<String>,
    postcode: Option<String>,
    agents: Vec<String>,
    networks: Vec<IpNet>,
    exclude: Vec<IpNet>,
    period: Period,
    intensity: Intensity,
    allow_public: bool,
    ports: PortsOverride,
    lab: bool,
}

impl Scope {
    /// Reads and checks a scope file; errors name the file, line and field.
    pub fn load(path: &Path) -> Result<Scope, ScopeError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScopeError::Read {
            file: file.clone(),
            source,
        })?;
        Scope::parse(&file, &text)
    }

    /// Checks the text of a scope file named `file` (for messages).
    pub fn parse(file: &str, text: &str) -> Result<Scope, ScopeError> {
        let raw = parse_raw(file, text)?;
        let at = Place { file, text };
        let networks = check_networks(&raw, &at)?;
        let mut exclude = Vec::new();
        for (index, entry) in raw.exclude.iter().enumerate() {
            let net = parse_net(entry.get_ref())
                .map_err(|p| at.fail(entry.span(), &format!("exclude[{index}]"), p))?;
            exclude.push(net);
        }
        let period = check_period(&raw.period, &at)?;
        let (agents_span, agents) = raw
            .agents
            .map(|a| (a.span(), a.into_inner()))
            .unwrap_or_default();
        if agents.len() > MAX_AGENTS {
            let problem = format!(
                "{} agents : {MAX_AGENTS} au plus (ceux qui ont un compte)",
                agents.len()
            );
            return Err(at.fail(agents_span, "agents", problem));
        }
        let (ports_span, ports) = raw
            .ports
            .map(|p| (p.span(), p.into_inner()))
            .unwrap_or_default();
        for (field, list) in [("ports.tcp", &ports.tcp), ("ports.udp", &ports.udp)] {
            if list.as_ref().is_some_and(|l| l.contains(&0)) {
                let problem = "le port 0 n'existe pas".to_owned();
                return Err(at.fail(ports_span.clone(), field, problem));
            }
        }
        Ok(Scope {
            commune: raw.commune,
            name: raw.name,
            postcode: raw.postcode,
            agents,
            networks,
            exclude,
            period,
            intensity: raw.intensity,
            allow_public: raw.allow_public,
            ports,
            lab: false,
        })
    }

    /// The same scope for a lab run (`--lab`): working hours are lifted and
    /// loopback networks admitted; the report says `lab: true`.
    pub fn for_lab(mut self) -> Scope {
        self.lab = true;
        self
    }

    /// The gate: whether the probe may send anything to `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.admit(ip).is_some()
    }

    /// `ip` as an [`Allowed`] address, if the scope admits it.
    pub fn admit(&self, ip: IpAddr) -> Option<Allowed> {
        let ip = ip.to_canonical();
        let inside = self.networks.iter().any(|net| net.contains(&ip));
        let excluded = self.exclude.iter().any(|net| net.contains(&ip));
        let class = Class::of(&IpNet::from(ip));
        let permitted = match class {
            Class::Loopback => self.lab,
            Class::Private => true,
            Class::Public => self.allow_public,
        };
        (inside && !excluded && permitted).then_some(Allowed(ip))
    }

    /// Every host address of the networks the scope admits, in order
    /// (network and broadcast addresses of IPv4 networks left out).
    pub fn addresses(&self) -> Vec<Allowed> {
        let mut all = BTreeSet::new();
        for net in &self.networks {
            all.extend(net.hosts().filter_map(|ip| self.admit(ip)));
        }
        all.into_iter().collect()
    }

    /// Whether a run may go on at `now`: inside the period, and on a
    /// working day between 8 h and 18 h in Paris unless `--lab`; loopback
    /// networks only with `--lab`.
    pub fn may_run(&self, now: DateTime<Utc>) -> Result<(), ScopeError> {
        let local = now.with_timezone(&chrono_tz::Europe::Paris);
        let today = local.date_naive();
        if today < self.period.start || today > self.period.end {
            return Err(ScopeError::OutsidePeriod {
                today,
                period: self.period,
            });
        }
        if self.lab {
            return Ok(());
        }
        if let Some(net) = self
            .networks
            .iter()
            .find(|n| Class::of(n) == Class::Loopback)
        {
            return Err(ScopeError::LoopbackNeedsLab {
                network: net.to_string(),
            });
        }
        if !hours::is_working_time(local) {
            return Err(ScopeError::OutsideHours {
                now: local.format("%A %d/%m/%Y %H:%M").to_string(),
            });
        }
        Ok(())
    }

    /// What the report says of the scope.
    pub fn summary(&self) -> ScopeSummary {
        ScopeSummary {
            networks: self.networks.iter().map(ToString::to_string).collect(),
            excluded: self.exclude.iter().map(ToString::to_string).collect(),
            intensity: self.intensity.as_str().to_owned(),
        }
    }

    /// The commune's INSEE code.
    pub fn commune(&self) -> Option<&str> {
        self.commune.as_deref()
    }

    /// The commune's name, for the password candidates.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub fn postcode(&self) -> Option<&str> {
        self.postcode.as_deref()
    }

    /// The agents' names from the identity sheet, for `prenom.nom` accounts.
    pub fn agents(&self) -> &[String] {
        &self.agents
    }

    pub fn period(&self) -> Period {
        self.period
    }

    pub fn intensity(&self) -> Intensity {
        self.intensity
    }

    pub fn ports(&self) -> &PortsOverride {
        &self.ports
    }

    pub fn is_lab(&self) -> bool {
        self.lab
    }
}

/// The file as written, before the checks serde cannot make.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScope {
    commune: Option<String>,
    name: Option<String>,
    postcode: Option<String>,
    #[serde(default)]
    agents: Option<Spanned<Vec<String>>>,
    networks: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    period: RawPeriod,
    #[serde(default)]
    intensity: Intensity,
    #[serde(default)]
    allow_public: bool,
    ports: Option<Spanned<PortsOverride>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeriod {
    start: Spanned<toml::Value>,
    end: Spanned<toml::Value>,
}

/// Where a problem is, for messages.
struct Place<'a> {
    file: &'a str,
    text: &'a str,
}

impl Place<'_> {
    fn fail(&self, span: Range<usize>, field: &str, problem: String) -> ScopeError {
        ScopeError::Invalid {
            file: self.file.to_owned(),
            line: line_of(self.text, span.start),
            field: field.to_owned(),
            problem,
        }
    }
}

/// The authorised networks: valid, private unless `allow_public`, at most
/// [`MAX_ADDRESSES`] in all.
fn check_networks(raw: &RawScope, at: &Place) -> Result<Vec<IpNet>, ScopeError> {
    let mut networks = Vec::new();
    let mut total: u128 = 0;
    for (index, entry) in raw.networks.iter().enumerate() {
        let field = format!("networks[{index}]");
        let net = parse_net(entry.get_ref()).map_err(|p| at.fail(entry.span(), &field, p))?;
        if Class::of(&net) == Class::Public && !raw.allow_public {
            return Err(at.fail(entry.span(), &field, public_refused(&net)));
        }
        total = total.saturating_add(net_size(&net));
        if total > MAX_ADDRESSES {
            let problem = format!(
                "les réseaux couvrent plus de {MAX_ADDRESSES} adresses (un /16) : \
                 découpez le périmètre en plusieurs campagnes"
            );
            return Err(at.fail(entry.span(), &field, problem));
        }
        networks.push(net);
    }
    if networks.is_empty() {
        return Err(at.fail(0..0, "networks", "aucun réseau autorisé".to_owned()));
    }
    Ok(networks)
}

fn check_period(raw: &RawPeriod, at: &Place) -> Result<Period, ScopeError> {
    let start = parse_date(&raw.start).map_err(|p| at.fail(raw.start.span(), "period.start", p))?;
    let end = parse_date(&raw.end).map_err(|p| at.fail(raw.end.span(), "period.end", p))?;
    if end < start {
        let problem = format!("la fin ({end}) précède le début ({start})");
        return Err(at.fail(raw.end.span(), "period.end", problem));
    }
    Ok(Period { start, end })
}

fn parse_raw(file: &str, text: &str) -> Result<RawScope, ScopeError> {
    let deserializer = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let field = error.path().to_string();
        let inner = error.into_inner();
        let line = inner.span().map_or(1, |span| line_of(text, span.start));
        ScopeError::Invalid {
            file: file.to_owned(),
            line,
            field: if field == "." { "-".to_owned() } else { field },
            problem: in_french(inner.message().trim()),
        }
    })
}

/// The TOML parser's and serde's messages, said in French for the person
/// who wrote the scope file. Syntax errors keep the parser's own words in
/// brackets: there are many, and the line is already given.
fn in_french(message: &str) -> String {
    let quoted = |text: &str| text.replace('`', "");
    if let Some(field) = message.strip_prefix("missing field ") {
        return format!("champ obligatoire absent : {}", quoted(field));
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        return match rest.split_once(", expected ") {
            Some((field, known)) => format!(
                "champ inconnu : {} (champs possibles : {})",
                quoted(field),
                alternatives(known)
            ),
            None => format!("champ inconnu : {}", quoted(rest)),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        return match rest.split_once(", expected ") {
            Some((value, known)) => format!(
                "valeur inconnue : {} (valeurs possibles : {})",
                quoted(value),
                alternatives(known)
            ),
            None => format!("valeur inconnue : {}", quoted(rest)),
        };
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        return match rest.split_once(", expected ") {
            Some((found, expected)) => format!(
                "type incorrect : {} ; attendu : {}",
                type_in_french(found),
                type_in_french(expected)
            ),
            None => format!("type incorrect : {rest}"),
        };
    }
    if let Some(key) = message.strip_prefix("duplicate key ") {
        return format!("clé définie deux fois : {}", quoted(key));
    }
    format!(
        "syntaxe TOML incorrecte ({})",
        message.split_whitespace().collect::<Vec<_>>().join(" ")
    )
}

/// serde's "one of `a`, `b`" or "`a` or `b`" as "a, b" or "a ou b".
fn alternatives(known: &str) -> String {
    known
        .replace('`', "")
        .trim_start_matches("one of ")
        .replace(" or ", " ou ")
}

/// serde's names of types ("a sequence", "string \"x\"", "boolean `true`").
fn type_in_french(text: &str) -> String {
    let (kind, value) = match text.split_once(' ') {
        Some((kind, value)) if !kind.starts_with('a') => (kind, Some(value)),
        _ => (text, None),
    };
    let kind = match kind.trim_start_matches("a ").trim_start_matches("an ") {
        "sequence" => "une liste",
        "string" => "un texte",
        "boolean" | "bool" => "un booléen",
        "integer" | "u8" | "u16" | "u32" | "u64" | "i64" => "un nombre entier",
        "floating point" | "float" | "f64" => "un nombre",
        "map" | "table" => "une table",
        "date" | "datetime" => "une date",
        other => other,
    };
    match value {
        Some(value) => format!("{kind} {}", value.replace('`', "")),
        None => kind.to_owned(),
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn parse_date(value: &Spanned<toml::Value>) -> Result<NaiveDate, String> {
    let text = match value.get_ref() {
        toml::Value::Datetime(datetime) => datetime.to_string(),
        toml::Value::String(text) => text.clone(),
        other => format!("{other}"),
    };
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("« {text} » n'est pas une date (AAAA-MM-JJ attendu)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_loads() {
        let scope = Scope::parse("scope.example.toml", EXAMPLE).unwrap();
        assert_eq!(scope.commune(), Some("44109"));
        assert_eq!(scope.addresses().len(), 253 - 2);
    }

    /// Every message of the parser the scope's author may meet is in
    /// French, and still names what is wrong.
    #[test]
    fn parser_messages_are_in_french() {
        let period = "period = { start = 2020-01-01, end = 2099-12-31 }\n";
        let problem = |text: &str| match Scope::parse("p.toml", text) {
            Err(ScopeError::Invalid { problem, .. }) => problem,
            other => panic!("{other:?}"),
        };
        let cases = [
            (
                format!("exclude = []\n{period}"),
                "champ obligatoire absent : networks",
            ),
            (
                format!("networks = [\"10.0.0.0/24\"]\nnetwork = 1\n{period}"),
                "champ inconnu : network",
            ),
            (
                format!("networks = [\"10.0.0.0/24\"]\nintensity = \"brutal\"\n{period}"),
                "valeur inconnue : brutal (valeurs possibles : polite ou normal)",
            ),
            (
                format!("networks = \"10.0.0.0/24\"\n{period}"),
                "type incorrect : un texte",
            ),
            (
                format!("networks = [\"10.0.0.0/24\"]\nallow_public = \"oui\"\n{period}"),
                "type incorrect : un texte",
            ),
            (
                "networks = [\"10.0.0.0/24\"\nperiod = {".to_owned(),
                "syntaxe TOML incorrecte (",
            ),
            (
                format!(
                    "networks = [\"10.0.0.0/24\"]\nagents = [{}]\n{period}",
                    vec!["\"Jean Martin\""; MAX_AGENTS + 1].join(", ")
                ),
                "101 agents : 100 au plus",
            ),
        ];
        for (text, expected) in cases {
            let problem = problem(&text);
            assert!(problem.contains(expected), "{problem:?} for {text:?}");
            for english in ["missing", "unknown", "invalid", "expected one of"] {
                assert!(
                    !problem.starts_with(english)
                        && !problem.contains(&format!(" {english} field")),
                    "{problem:?}"
                );
            }
        }
    }

    #[test]
    fn lines_of_offsets() {
        assert_eq!(line_of("a\nb\nc", 4), 3);
        assert_eq!(line_of("a", 99), 1);
    }
}
