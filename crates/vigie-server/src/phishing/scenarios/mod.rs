//! Phishing scenarios as data (issue 11): each one a folder of
//! `data/scenarios/<id>/` (format in that directory's README) with its
//! `scenario.toml`, the e-mail's two bodies and the landing page, built
//! into the binary; a territory's `scenarios_dir` replaces a scenario of
//! the same id and adds its own. Every file is checked whole at start,
//! errors naming the file, the line and the field. This module renders a
//! scenario for one person: the e-mail to send, the landing page, and the
//! awareness page that shows the clues on the mail itself.
//!
//! What it must not do: send anything itself, store anything, or put into
//! a page or an e-mail a value it has not escaped for it (a first name is
//! text, never markup; a subject has no line break, so no header
//! injection). It never lets a landing page through that could send what
//! was typed in it, or load anything from another site.

mod awareness;
mod error;
mod fields;
mod html;
mod library;
mod template;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use serde::Deserialize;

pub use awareness::{Reached, awareness_page};
pub use error::ScenarioError;
pub use library::Library;
use template::{Markers, Placeholder, Template, Values, escape};

/// The longest scenario id (a folder name).
pub const MAX_ID_CHARS: usize = 40;
/// Size bounds, in bytes: `scenario.toml`, each body of the e-mail (some
/// mail services clip a message beyond about 100 kB), the landing page.
pub const MAX_TOML_BYTES: usize = 16 * 1024;
pub const MAX_MAIL_BYTES: usize = 64 * 1024;
pub const MAX_LANDING_BYTES: usize = 64 * 1024;
/// Clues a scenario may point out (the built-in ones have 3 to 5).
pub const MAX_CLUES: usize = 9;

/// One scenario, checked, ready to render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// The folder's name: lowercase ASCII letters, digits, `-`.
    pub id: String,
    /// French, for the staff's pages.
    pub title: String,
    /// Bumped when the content changes; a campaign records which it sent.
    pub version: u32,
    pub theme: Theme,
    /// 1 (obvious) to 3 (well made).
    pub difficulty: u8,
    /// The sender's display name, e.g. « Service Messagerie ».
    pub sender_name: String,
    /// The sender address's local part; the domain is the configuration's.
    pub sender_local_part: String,
    /// In order: `clues[i].id == i + 1`.
    pub clues: Vec<Clue>,
    subject: Template,
    html: Template,
    text: Template,
    landing: Template,
}

/// Something in the e-mail that gave the trap away.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clue {
    /// 1, 2, 3… as numbered on the awareness page.
    pub id: u32,
    /// Short, French: « L'adresse de l'expéditeur ».
    pub label: String,
    /// French, plain: why it is suspicious and what to check.
    pub explanation: String,
    /// The clue is the sender itself: the awareness page marks the « De »
    /// line with it.
    #[serde(default)]
    pub sender: bool,
}

/// What the message pretends to be about, for the staff's choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    Messagerie,
    Colis,
    Facture,
    Administration,
    Partage,
    Institution,
}

impl Theme {
    /// As a staff page says it.
    pub fn label(self) -> &'static str {
        match self {
            Theme::Messagerie => "messagerie",
            Theme::Colis => "colis",
            Theme::Facture => "facture",
            Theme::Administration => "démarche administrative",
            Theme::Partage => "document partagé",
            Theme::Institution => "institution",
        }
    }
}

/// What one e-mail is rendered for.
#[derive(Clone, Copy, Debug)]
pub struct MailVars<'a> {
    /// The commune's name, as people write it.
    pub commune: &'a str,
    /// The person's first name, when the target list gave one.
    pub first_name: Option<&'a str>,
    /// The sending day (written « 3 mars 2026 »).
    pub sent_on: NaiveDate,
    /// The tracking link (`{{lien}}`).
    pub link: &'a str,
    /// The tracking image's address (`{{image}}`).
    pub image: &'a str,
}

/// One e-mail, ready for the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedMail {
    /// One line: no CR, LF or other control character.
    pub subject: String,
    pub text: String,
    /// A whole HTML document.
    pub html: String,
}

/// The four files of a scenario, as text.
#[derive(Clone, Copy, Debug)]
pub struct Sources<'a> {
    pub toml: &'a str,
    pub html: &'a str,
    pub text: &'a str,
    pub landing: &'a str,
}

/// The tracking image in the mail shown on the awareness page: a
/// transparent pixel inline, so showing the mail records no opening.
const INERT_IMAGE: &str =
    "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";
/// The links of the mail shown on the awareness page go to the clues'
/// list, never to the tracking link again.
const INERT_LINK: &str = "#indices";

impl Scenario {
    /// Parses and checks one scenario; `dir` names its folder in errors
    /// (`data/scenarios/colis`, or the territory's path).
    pub fn parse(id: &str, dir: &str, sources: &Sources) -> Result<Scenario, ScenarioError> {
        library::parse(id, dir, sources)
    }

    /// The e-mail for one person: values escaped in the HTML body, as
    /// they are in the text body, and the subject on one line; no trace
    /// of the clue markers.
    pub fn render_mail(&self, vars: &MailVars) -> RenderedMail {
        let date = crate::fr::day_long(vars.sent_on);
        let first_name = given(vars.first_name);
        let raw = Values {
            commune: vars.commune,
            first_name,
            date: &date,
            link: vars.link,
            image: vars.image,
            action: "",
        };
        let subject = one_line(&self.subject.render(&raw, Markers::Drop));
        let text = self.text.render(&raw, Markers::Drop);
        let (commune, first_name, link, image) = (
            escape(vars.commune),
            first_name.map(escape),
            escape(vars.link),
            escape(vars.image),
        );
        let escaped = Values {
            commune: &commune,
            first_name: first_name.as_deref(),
            date: &date,
            link: &link,
            image: &image,
            action: "",
        };
        let body = self.html.render(&escaped, Markers::Drop);
        let html = format!(
            "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n</head>\n<body>\n{body}</body>\n</html>\n",
            escape(&subject)
        );
        RenderedMail {
            subject,
            text,
            html,
        }
    }

    /// The landing page, its form posting to `action`.
    pub fn landing_page(&self, commune: &str, action: &str) -> String {
        let (commune, action) = (escape(commune), escape(action));
        self.landing.render(
            &Values {
                commune: &commune,
                first_name: None,
                date: "",
                link: "",
                image: "",
                action: &action,
            },
            Markers::Drop,
        )
    }

    /// The mail's HTML body with each clue marked (`<mark class="clue">`
    /// and its number), for the awareness page. Its links lead to the
    /// page's list of clues and its image is inline: `vars.link` and
    /// `vars.image` are not used, so showing it records nothing.
    pub fn highlighted_mail(&self, vars: &MailVars) -> String {
        self.html
            .render(&self.shown_values(vars).values(), Markers::Highlight)
    }

    /// The subject with its clues marked, as HTML.
    pub fn highlighted_subject(&self, vars: &MailVars) -> String {
        let shown = self.shown_values(vars);
        one_line(
            &self
                .subject
                .render(&shown.values(), Markers::HighlightPlain),
        )
    }

    /// The sender's address at `domain`.
    pub fn address(&self, domain: &str) -> String {
        format!("{}@{domain}", self.sender_local_part)
    }

    fn shown_values(&self, vars: &MailVars) -> Shown {
        Shown {
            commune: escape(vars.commune),
            first_name: given(vars.first_name).map(escape),
            date: crate::fr::day_long(vars.sent_on),
        }
    }
}

/// The escaped values of the awareness page's copy of the mail.
struct Shown {
    commune: String,
    first_name: Option<String>,
    date: String,
}

impl Shown {
    fn values(&self) -> Values<'_> {
        Values {
            commune: &self.commune,
            first_name: self.first_name.as_deref(),
            date: &self.date,
            link: INERT_LINK,
            image: INERT_IMAGE,
            action: "",
        }
    }
}

/// A first name worth writing: not blank.
fn given(first_name: Option<&str>) -> Option<&str> {
    first_name.map(str::trim).filter(|name| !name.is_empty())
}

/// A header value on one line: every control character (CR and LF above
/// all: RFC 5322 §2.2, header injection) becomes a space.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Which placeholders each file may use.
const SUBJECT_NAMES: &[Placeholder] = &[
    Placeholder::Commune,
    Placeholder::FirstName,
    Placeholder::Date,
];
const HTML_NAMES: &[Placeholder] = &[
    Placeholder::Commune,
    Placeholder::FirstName,
    Placeholder::Date,
    Placeholder::Link,
    Placeholder::Image,
];
const TEXT_NAMES: &[Placeholder] = &[
    Placeholder::Commune,
    Placeholder::FirstName,
    Placeholder::Date,
    Placeholder::Link,
];
const LANDING_NAMES: &[Placeholder] = &[Placeholder::Commune, Placeholder::Action];
