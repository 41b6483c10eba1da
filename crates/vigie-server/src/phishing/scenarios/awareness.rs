//! The awareness page a person sees after following a scenario's link or
//! sending its form: « c'était un exercice », the clues pointed out on the
//! mail itself, and what to do next time. Public (the person has no
//! account), kind, in plain French, usable on a phone and with a keyboard.
//!
//! What it must not do: blame, show anything the person typed (nothing
//! was sent), or record anything: the mail it shows loads no tracking
//! image and its links stay on the page.

use askama::Template;

use super::{MailVars, Scenario};
use crate::AppError;
use crate::web::Chrome;

/// How the person reached the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reached {
    /// By following the e-mail's link.
    Link,
    /// By sending the landing page's form.
    Form,
}

#[derive(Template)]
#[template(path = "phishing/awareness.html")]
struct AwarenessPage<'a> {
    chrome: Chrome,
    commune: &'a str,
    submitted: bool,
    sender_name: &'a str,
    sender_address: String,
    /// The clue the sender line shows, if one does.
    sender_clue: Option<u32>,
    /// HTML, escaped by the scenario.
    subject: String,
    date: String,
    /// HTML, escaped by the scenario.
    body: String,
    clues: Vec<ShownClue<'a>>,
}

struct ShownClue<'a> {
    id: u32,
    label: &'a str,
    /// The explanation's paragraphs (split on blank lines).
    paragraphs: Vec<&'a str>,
}

/// The awareness page for `scenario` as sent with `vars`, the sender's
/// address at `sender_domain`.
pub fn awareness_page(
    scenario: &Scenario,
    vars: &MailVars,
    sender_domain: &str,
    reached: Reached,
) -> Result<String, AppError> {
    let page = AwarenessPage {
        chrome: Chrome::new("C'était un exercice", None),
        commune: vars.commune,
        submitted: reached == Reached::Form,
        sender_name: &scenario.sender_name,
        sender_address: scenario.address(sender_domain),
        sender_clue: scenario
            .clues
            .iter()
            .find(|clue| clue.sender)
            .map(|clue| clue.id),
        subject: scenario.highlighted_subject(vars),
        date: crate::fr::day_long(vars.sent_on),
        body: scenario.highlighted_mail(vars),
        clues: scenario
            .clues
            .iter()
            .map(|clue| ShownClue {
                id: clue.id,
                label: &clue.label,
                paragraphs: clue
                    .explanation
                    .split("\n\n")
                    .map(str::trim)
                    .filter(|paragraph| !paragraph.is_empty())
                    .collect(),
            })
            .collect(),
    };
    page.render()
        .map_err(|e| AppError::Internal(format!("awareness template: {e}")))
}
