//! The offers a territory proposes to its communes, as data
//! (`data/offers/*.toml`, format in that directory's README): what starts
//! an agreement, how long it runs, whether it renews, who may end it and
//! with what notice, its steps, who may sign it, the documents it
//! involves, what its end obliges, and its GDPR processing record. The
//! five built-in offers carry the rules of the seed agreements, each rule
//! citing its article in a comment of the file. A territory's
//! `offers_dir` replaces a built-in offer of the same id and adds its own.
//!
//! What it must never do: accept a file it has not checked whole (an
//! offer with a step after an unknown step, a renewal without a period, a
//! notice nobody may give), or panic on any text (fuzzed by
//! `offer_files`). It computes no date itself: that is `dates`.

mod catalogue;
mod error;
mod parse;
mod sections;
#[cfg(test)]
mod tests;

use serde::Serialize;

pub use catalogue::{BUILT_IN, Catalogue, MAX_OFFERS};
pub use error::OfferError;

/// The longest offer or step id.
pub const MAX_ID_CHARS: usize = 40;
/// The longest text of a field (a title, a purpose, a retention rule).
pub const MAX_TEXT_CHARS: usize = 500;
/// The most items of a list (purposes, data categories, steps…).
pub const MAX_ITEMS: usize = 20;
/// The longest duration, renewal period, notice or step offset, in
/// months: ten years, beyond any agreement of the seeds.
pub const MAX_MONTHS: u32 = 120;
/// The longest total duration with renewals, in months (50 years).
pub const MAX_TOTAL_MONTHS: u32 = 600;
/// The largest population bound (more than any French EPCI).
pub const MAX_POPULATION: u32 = 10_000_000;
/// An offer file's size bound, in bytes.
pub const MAX_FILE_BYTES: usize = 64 * 1024;

/// One offer, checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Offer {
    /// `sensor`, `cyber_path`…: lowercase ASCII letters, digits, `_`; the
    /// file's name without `.toml`. The API's `id`.
    pub id: String,
    /// French, as a list shows it: « Parcours 2 : cyber-sensibilisation
    /// enrichie ».
    pub title: String,
    /// French, with its article, as a sentence names it: « le parcours 2 ».
    pub short_name: String,
    /// French, one or two sentences: what the commune gets.
    pub summary: String,
    /// The agreement the rules come from, for the staff and the register.
    pub source: String,
    pub start: Start,
    pub duration: Duration,
    pub renewal: Renewal,
    /// `None`: the agreement provides no termination with notice.
    pub notice: Option<Notice>,
    /// In order; each window counted from the start or an earlier step.
    pub steps: Vec<Step>,
    pub eligibility: Eligibility,
    pub cost: Cost,
    /// The documents an agreement of this offer produces, in order.
    pub deliverables: Vec<DeliverableKind>,
    /// What the end of the agreement obliges, whatever its cause.
    pub end_actions: Vec<EndAction>,
    /// What signing it gives the commune access to in Vigie.
    pub grants: Vec<Grant>,
    pub processing: Processing,
}

/// What starts the agreement's first period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// The day the agreement is signed.
    Signature,
    /// A day the agreement sets.
    GivenDate,
    /// The day the sensor's installation is attested (its first report or
    /// the attestation signed).
    InstallationAttested,
    /// The day the signed agreement is notified to the commune.
    Notification,
}

/// How long the first period runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum Duration {
    /// Exactly `months` from the start.
    Fixed { months: u32 },
    /// From the start to 31 December of the same year.
    EndOfCalendarYear,
    /// `months` from the start at most: the agreement ends earlier on the
    /// day of `ends_with`.
    AtMost { months: u32, ends_with: Completion },
}

/// The event that ends an agreement before its term.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Completion {
    /// The « procès-verbal de fin de mission » signed.
    FinalMinutes,
    /// The restitution meeting held.
    Restitution,
}

/// What happens at the end of a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum Renewal {
    /// The agreement ends with its first period.
    None,
    /// Renewed by itself for `period_months` each time, unless a party
    /// refuses; never beyond `max_total_months` from the start (`None`:
    /// until the completion event or a termination).
    Tacit {
        period_months: u32,
        max_total_months: Option<u32>,
    },
}

/// Termination with notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// The notice, counted from the day the letter is received.
    pub months: u32,
    /// Who may give it.
    pub by: Vec<Party>,
    pub effect: NoticeEffect,
    /// Where the agreement says so (« article 6 »), for the messages.
    pub article: String,
}

/// When a termination takes effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeEffect {
    /// When the notice expires, whatever the day.
    AnyTime,
    /// At the end of the first period the notice expires in.
    PeriodEnd,
}

/// A party to the agreement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The mutualising body: the Département, the Métropole, the syndicat.
    Territory,
    /// The commune (or the EPCI) that signs.
    Commune,
}

impl Party {
    /// As a sentence names it.
    pub fn label(self) -> &'static str {
        match self {
            Party::Territory => "le territoire",
            Party::Commune => "la commune",
        }
    }
}

/// A step of the agreement, with its window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    pub id: String,
    /// French: « Réunion de suivi ».
    pub title: String,
    /// Counted from the start (`None`) or from this earlier step.
    pub after: Option<String>,
    /// The window, in months after its origin: `3`–`6`; equal for a day.
    pub from_months: u32,
    pub to_months: u32,
    /// The documents the step produces.
    pub deliverables: Vec<DeliverableKind>,
}

/// Who may sign: population bounds, strict (« moins de 3 500 »). No
/// bound at all: every commune and EPCI.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Eligibility {
    /// A commune signs if it has fewer inhabitants.
    pub commune_population_below: Option<u32>,
    /// An EPCI signs if it has fewer inhabitants.
    pub epci_population_below: Option<u32>,
}

impl Eligibility {
    /// No bound: everyone may sign.
    pub fn is_open(&self) -> bool {
        self.commune_population_below.is_none() && self.epci_population_below.is_none()
    }
}

/// What the commune pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cost {
    /// Nothing.
    Free,
    /// A contribution due after each phase's minutes (its amounts are the
    /// agreement's, not the offer's).
    ContributionPerPhase,
    /// The agreement does not say.
    Unspecified,
}

/// A document an agreement involves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliverableKind {
    /// The agreement itself, signed.
    Agreement,
    /// The attestation of the sensor's installation date.
    InstallationAttestation,
    /// « Procès-verbal d'achèvement de phase ».
    PhaseMinutes,
    /// « Procès-verbal de fin de mission ».
    FinalMinutes,
    /// The crisis kit's loan form, signed by the commune.
    LoanForm,
    /// The crisis kit's return form, signed at return.
    ReturnForm,
}

/// What the end of an agreement obliges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndAction {
    /// The sensor box taken back.
    UninstallSensor,
    /// The phishing campaigns' collected data deleted.
    PurgeCampaigns,
    /// The awareness devices and the network probe taken back.
    CollectDevices,
    /// The crisis kit's items returned.
    ReturnKitItems,
    /// The commune's data returned to it or destroyed, as it says.
    ReturnOrDestroyData,
}

/// What an agreement gives the commune that signs it access to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// The documentation kit (`/kit`): « Un kit documentaire sera fourni
    /// à la collectivité requérante » (seed 004).
    DocumentationKit,
}

/// The GDPR processing record (Regulation (EU) 2016/679, article 30) of
/// an offer, as its agreement describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Processing {
    /// The processing's name in the register.
    pub name: String,
    pub controller: String,
    pub processor: String,
    pub sub_processors: Vec<String>,
    pub purposes: Vec<String>,
    pub data: Vec<String>,
    pub people: Vec<String>,
    pub recipients: Vec<String>,
    pub retention: String,
    /// Where the agreement says so.
    pub article: String,
}

impl Offer {
    /// The step `id`.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|step| step.id == id)
    }

    /// The event that ends the agreement early, if any.
    pub fn completion(&self) -> Option<Completion> {
        match self.duration {
            Duration::AtMost { ends_with, .. } => Some(ends_with),
            Duration::Fixed { .. } | Duration::EndOfCalendarYear => None,
        }
    }
}

/// The words of the data files, one table per enum: parsing and the
/// README say the same.
pub(crate) trait Word: Sized + Copy + PartialEq + 'static {
    const ALL: &'static [(&'static str, Self)];

    fn word(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, value)| *value == self)
            .map_or("", |(word, _)| word)
    }
}

impl Word for Start {
    const ALL: &'static [(&'static str, Self)] = &[
        ("signature", Start::Signature),
        ("given_date", Start::GivenDate),
        ("installation_attested", Start::InstallationAttested),
        ("notification", Start::Notification),
    ];
}

impl Word for Completion {
    const ALL: &'static [(&'static str, Self)] = &[
        ("final_minutes", Completion::FinalMinutes),
        ("restitution", Completion::Restitution),
    ];
}

impl Word for NoticeEffect {
    const ALL: &'static [(&'static str, Self)] = &[
        ("any_time", NoticeEffect::AnyTime),
        ("period_end", NoticeEffect::PeriodEnd),
    ];
}

impl Word for Party {
    const ALL: &'static [(&'static str, Self)] =
        &[("territory", Party::Territory), ("commune", Party::Commune)];
}

impl Word for Cost {
    const ALL: &'static [(&'static str, Self)] = &[
        ("free", Cost::Free),
        ("contribution_per_phase", Cost::ContributionPerPhase),
        ("unspecified", Cost::Unspecified),
    ];
}

impl Word for DeliverableKind {
    const ALL: &'static [(&'static str, Self)] = &[
        ("agreement", DeliverableKind::Agreement),
        (
            "installation_attestation",
            DeliverableKind::InstallationAttestation,
        ),
        ("phase_minutes", DeliverableKind::PhaseMinutes),
        ("final_minutes", DeliverableKind::FinalMinutes),
        ("loan_form", DeliverableKind::LoanForm),
        ("return_form", DeliverableKind::ReturnForm),
    ];
}

impl Word for Grant {
    const ALL: &'static [(&'static str, Self)] = &[("documentation_kit", Grant::DocumentationKit)];
}

impl Word for EndAction {
    const ALL: &'static [(&'static str, Self)] = &[
        ("uninstall_sensor", EndAction::UninstallSensor),
        ("purge_campaigns", EndAction::PurgeCampaigns),
        ("collect_devices", EndAction::CollectDevices),
        ("return_kit_items", EndAction::ReturnKitItems),
        ("return_or_destroy_data", EndAction::ReturnOrDestroyData),
    ];
}

impl DeliverableKind {
    /// As a page names it.
    pub fn label(self) -> &'static str {
        match self {
            DeliverableKind::Agreement => "Convention",
            DeliverableKind::InstallationAttestation => "Attestation d'installation du boîtier",
            DeliverableKind::PhaseMinutes => "Procès-verbal d'achèvement de phase",
            DeliverableKind::FinalMinutes => "Procès-verbal de fin de mission",
            DeliverableKind::LoanForm => "Fiche de prêt du matériel",
            DeliverableKind::ReturnForm => "Fiche de restitution du matériel",
        }
    }

    /// The API's word (`"phase_minutes"`).
    pub fn id(self) -> &'static str {
        self.word()
    }

    /// From the API's word.
    pub fn parse(word: &str) -> Option<DeliverableKind> {
        from_word(word)
    }
}

impl EndAction {
    /// As a calendar says it.
    pub fn label(self) -> &'static str {
        match self {
            EndAction::UninstallSensor => "Désinstaller le boîtier",
            EndAction::PurgeCampaigns => "Supprimer les données des campagnes d'hameçonnage",
            EndAction::CollectDevices => "Récupérer la sonde réseau et les dispositifs prêtés",
            EndAction::ReturnKitItems => "Récupérer le matériel du kit de crise",
            EndAction::ReturnOrDestroyData => {
                "Restituer ou détruire les données de la commune, comme elle le demande"
            }
        }
    }

    /// The API's word (`"uninstall_sensor"`).
    pub fn id(self) -> &'static str {
        self.word()
    }

    /// From the API's word.
    pub fn parse(word: &str) -> Option<EndAction> {
        from_word(word)
    }
}

/// The value a data file's or the API's word names.
fn from_word<T: Word>(word: &str) -> Option<T> {
    T::ALL.iter().find(|(w, _)| *w == word).map(|(_, v)| *v)
}
