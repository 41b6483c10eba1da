//! The two kinds of marks in a scenario's texts, parsed once at load into
//! pieces that then render without any failure: placeholders
//! (`{{commune}}`, `{{prenom|Madame, Monsieur}}`, `{{date}}`, `{{lien}}`,
//! `{{image}}`, `{{action}}`) and clue markers
//! (`[[indice N]]…[[/indice]]`).
//!
//! What it must not do: let a value reach an HTML body unescaped, or let a
//! clue marker reach a sent e-mail.

use super::error::{ScenarioError, line_of};

/// The longest text between `{{` and `}}` (the first name's fallback
/// included).
const MAX_PLACEHOLDER_CHARS: usize = 120;
/// The longest text between `[[` and `]]`.
const MAX_MARKER_CHARS: usize = 16;

/// What a placeholder stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Placeholder {
    Commune,
    FirstName,
    Date,
    Link,
    Image,
    Action,
}

impl Placeholder {
    const ALL: [Placeholder; 6] = [
        Placeholder::Commune,
        Placeholder::FirstName,
        Placeholder::Date,
        Placeholder::Link,
        Placeholder::Image,
        Placeholder::Action,
    ];

    /// As the files write it.
    pub(super) fn word(self) -> &'static str {
        match self {
            Placeholder::Commune => "commune",
            Placeholder::FirstName => "prenom",
            Placeholder::Date => "date",
            Placeholder::Link => "lien",
            Placeholder::Image => "image",
            Placeholder::Action => "action",
        }
    }

    fn shown(self) -> String {
        match self {
            Placeholder::FirstName => "{{prenom|…}}".to_owned(),
            other => format!("{{{{{}}}}}", other.word()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// A placeholder; for the first name, its fallback text (written by
    /// the scenario's author, so already in the file's own syntax).
    Var(Placeholder, String),
    /// A clue's number, and the line it is marked on (for errors).
    ClueStart(u32, usize),
    ClueEnd,
}

/// A text with its marks, ready to render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Template {
    pieces: Vec<Piece>,
}

/// The values a template is rendered with, already escaped for the
/// output (HTML or not) by the caller.
pub(super) struct Values<'a> {
    pub commune: &'a str,
    /// `None`: the fallback written in the file.
    pub first_name: Option<&'a str>,
    pub date: &'a str,
    pub link: &'a str,
    pub image: &'a str,
    pub action: &'a str,
}

/// What becomes of clue markers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Markers {
    /// Dropped: the e-mail sent carries no trace of them.
    Drop,
    /// Turned into `<mark>` with the clue's number: the awareness page.
    Highlight,
    /// The same for a plain-text template (the subject): its own text and
    /// the first name's fallback are escaped as well.
    HighlightPlain,
}

impl Template {
    /// Parses `text` (the content of `file`); `allowed` are the
    /// placeholders this file may use, `markers` whether it may hold clue
    /// markers.
    pub(super) fn parse(
        file: &str,
        text: &str,
        allowed: &[Placeholder],
        markers: bool,
    ) -> Result<Template, ScenarioError> {
        let mut pieces = Vec::new();
        let mut rest = text;
        // The clue open at this point, and the line it was opened on.
        let mut open: Option<(u32, usize)> = None;
        loop {
            let next = [rest.find("{{"), rest.find("[[")]
                .into_iter()
                .flatten()
                .min();
            let Some(start) = next else {
                push_text(&mut pieces, rest);
                break;
            };
            push_text(&mut pieces, rest.get(..start).unwrap_or_default());
            let line = line_of(text, text.len() - rest.len() + start);
            let fail = |message: String| ScenarioError::content(file, Some(line), message);
            let mark = rest.get(start..).unwrap_or_default();
            let (inner, after) = enclosed(mark).map_err(fail)?;
            rest = after;
            let piece = if mark.starts_with("{{") {
                placeholder(inner, allowed)
            } else if markers {
                clue(inner, line, &mut open)
            } else {
                Err(format!(
                    "marqueur « [[{inner}]] » : les indices se marquent dans l'objet, mail.html et mail.txt seulement"
                ))
            };
            pieces.push(piece.map_err(fail)?);
        }
        if let Some((id, at)) = open {
            return Err(ScenarioError::content(
                file,
                Some(at),
                format!("« [[indice {id}]] » jamais fermé par « [[/indice]] »"),
            ));
        }
        Ok(Template { pieces })
    }

    /// Whether `name` appears at least once.
    pub(super) fn uses(&self, name: Placeholder) -> bool {
        self.pieces
            .iter()
            .any(|piece| matches!(piece, Piece::Var(n, _) if *n == name))
    }

    /// The clue numbers marked, with the line of each mark, in order.
    pub(super) fn clues(&self) -> impl Iterator<Item = (u32, usize)> + '_ {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::ClueStart(id, line) => Some((*id, *line)),
            _ => None,
        })
    }

    pub(super) fn render(&self, values: &Values, markers: Markers) -> String {
        let mut out = String::new();
        let own = |text: &str| match markers {
            Markers::HighlightPlain => escape(text),
            _ => text.to_owned(),
        };
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(&own(text)),
                Piece::Var(name, fallback) => match name {
                    Placeholder::Commune => out.push_str(values.commune),
                    Placeholder::FirstName => match values.first_name {
                        Some(first_name) => out.push_str(first_name),
                        None => out.push_str(&own(fallback)),
                    },
                    Placeholder::Date => out.push_str(values.date),
                    Placeholder::Link => out.push_str(values.link),
                    Placeholder::Image => out.push_str(values.image),
                    Placeholder::Action => out.push_str(values.action),
                },
                Piece::ClueStart(id, _) if markers != Markers::Drop => {
                    out.push_str(&format!(
                        "<mark class=\"clue\"><span class=\"clue-no\"><span class=\"sr-only\">indice </span>{id}</span> "
                    ));
                }
                Piece::ClueEnd if markers != Markers::Drop => out.push_str("</mark>"),
                Piece::ClueStart(..) | Piece::ClueEnd => {}
            }
        }
        out
    }
}

fn push_text(pieces: &mut Vec<Piece>, text: &str) {
    if !text.is_empty() {
        pieces.push(Piece::Text(text.to_owned()));
    }
}

/// `commune`, `prenom|Madame, Monsieur`…
fn placeholder(inner: &str, allowed: &[Placeholder]) -> Result<Piece, String> {
    let (word, fallback) = match inner.split_once('|') {
        Some((word, fallback)) => (word, Some(fallback)),
        None => (inner, None),
    };
    let known = || {
        allowed
            .iter()
            .map(|name| name.shown())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(name) = Placeholder::ALL
        .into_iter()
        .find(|name| name.word() == word)
    else {
        return Err(format!(
            "repère inconnu « {{{{{inner}}}}} » (connus dans ce fichier : {})",
            known()
        ));
    };
    if !allowed.contains(&name) {
        return Err(format!(
            "« {{{{{word}}}}} » n'a pas sa place dans ce fichier (connus ici : {})",
            known()
        ));
    }
    match (name, fallback) {
        (Placeholder::FirstName, Some(fallback)) => Ok(Piece::Var(name, fallback.to_owned())),
        (Placeholder::FirstName, None) => Err(
            "« {{prenom}} » demande un texte pour qui n'a pas de prénom connu : « {{prenom|Madame, Monsieur}} »"
                .to_owned(),
        ),
        (_, Some(_)) => Err(format!(
            "« {{{{{inner}}}}} » : seul « prenom » prend un texte de repli après « | »"
        )),
        (_, None) => Ok(Piece::Var(name, String::new())),
    }
}

/// `mark` starts with `{{` or `[[`: what is between it and the `}}` or
/// `]]` that closes it on the same line, and what follows.
fn enclosed(mark: &str) -> Result<(&str, &str), String> {
    let (open, close, max) = if mark.starts_with("{{") {
        ("{{", "}}", MAX_PLACEHOLDER_CHARS)
    } else {
        ("[[", "]]", MAX_MARKER_CHARS)
    };
    let after_open = mark.get(2..).unwrap_or_default();
    let Some(end) = after_open.find(close) else {
        return Err(format!("« {open} » sans « {close} » qui le ferme"));
    };
    let inner = after_open.get(..end).unwrap_or_default();
    if inner.contains('\n') || inner.chars().count() > max {
        return Err(format!(
            "« {open} » sans « {close} » sur la même ligne, dans les {max} caractères"
        ));
    }
    Ok((inner, after_open.get(end + 2..).unwrap_or_default()))
}

/// A clue marker at `line`, `open` the clue open before it if any.
fn clue(inner: &str, line: usize, open: &mut Option<(u32, usize)>) -> Result<Piece, String> {
    match (marker(inner)?, *open) {
        (Some(id), Some((other, at))) => Err(format!(
            "« [[indice {id}]] » ouvert avant la fin de « [[indice {other}]] » (ligne {at}) : les marqueurs ne s'imbriquent pas"
        )),
        (Some(id), None) => {
            *open = Some((id, line));
            Ok(Piece::ClueStart(id, line))
        }
        (None, Some(_)) => {
            *open = None;
            Ok(Piece::ClueEnd)
        }
        (None, None) => Err("« [[/indice]] » sans « [[indice N]] » ouvert".to_owned()),
    }
}

/// `indice 3` (`Some(3)`) or `/indice` (`None`).
fn marker(inner: &str) -> Result<Option<u32>, String> {
    if inner == "/indice" {
        return Ok(None);
    }
    inner
        .strip_prefix("indice ")
        .filter(|n| !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
        .map(Some)
        .ok_or_else(|| {
            format!(
                "marqueur inconnu « [[{inner}]] » (attendu « [[indice N]] » ou « [[/indice]] »)"
            )
        })
}

/// Escapes what HTML text and quoted attribute values need.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Placeholder; 5] = [
        Placeholder::Commune,
        Placeholder::FirstName,
        Placeholder::Date,
        Placeholder::Link,
        Placeholder::Image,
    ];

    fn values() -> Values<'static> {
        Values {
            commune: "Aurec",
            first_name: None,
            date: "3 mars 2026",
            link: "L",
            image: "I",
            action: "A",
        }
    }

    /// Parses `text` and renders it both ways, or gives the error.
    fn check(text: &str, expected: Result<(&str, &str), &str>) {
        let got = Template::parse("f", text, &ALL, true)
            .map(|t| {
                (
                    t.render(&values(), Markers::Drop),
                    t.render(&values(), Markers::Highlight),
                )
            })
            .map_err(|e| e.to_string());
        let expected = expected
            .map(|(sent, shown)| (sent.to_owned(), shown.to_owned()))
            .map_err(str::to_owned);
        assert_eq!(got, expected, "{text}");
    }

    #[test]
    fn placeholders_and_markers() {
        let mark = "<mark class=\"clue\"><span class=\"clue-no\"><span class=\"sr-only\">indice </span>2</span> ";
        check("sans rien", Ok(("sans rien", "sans rien")));
        check(
            "Bonjour {{prenom|Madame, Monsieur}}, {{commune}} le {{date}}",
            Ok((
                "Bonjour Madame, Monsieur, Aurec le 3 mars 2026",
                "Bonjour Madame, Monsieur, Aurec le 3 mars 2026",
            )),
        );
        check(
            "a [[indice 2]]vite[[/indice]] b",
            Ok(("a vite b", &format!("a {mark}vite</mark> b"))),
        );
        check(
            "{ { pas un repère } } [ [",
            Ok(("{ { pas un repère } } [ [", "{ { pas un repère } } [ [")),
        );
    }

    #[test]
    fn errors_name_the_line_and_the_mark() {
        check(
            "a\n{{nom}}",
            Err(
                "f, ligne 2 : repère inconnu « {{nom}} » (connus dans ce fichier : {{commune}}, {{prenom|…}}, {{date}}, {{lien}}, {{image}})",
            ),
        );
        check(
            "{{action}}",
            Err(
                "f, ligne 1 : « {{action}} » n'a pas sa place dans ce fichier (connus ici : {{commune}}, {{prenom|…}}, {{date}}, {{lien}}, {{image}})",
            ),
        );
        check(
            "\n\n{{commune",
            Err("f, ligne 3 : « {{ » sans « }} » qui le ferme"),
        );
        check(
            "{{prenom}}",
            Err(
                "f, ligne 1 : « {{prenom}} » demande un texte pour qui n'a pas de prénom connu : « {{prenom|Madame, Monsieur}} »",
            ),
        );
        check(
            "{{date|hier}}",
            Err(
                "f, ligne 1 : « {{date|hier}} » : seul « prenom » prend un texte de repli après « | »",
            ),
        );
        check(
            "[[indice 1]] x\n[[indice 2]]",
            Err(
                "f, ligne 2 : « [[indice 2]] » ouvert avant la fin de « [[indice 1]] » (ligne 1) : les marqueurs ne s'imbriquent pas",
            ),
        );
        check(
            "x[[/indice]]",
            Err("f, ligne 1 : « [[/indice]] » sans « [[indice N]] » ouvert"),
        );
        check(
            "\n[[indice 1]] x",
            Err("f, ligne 2 : « [[indice 1]] » jamais fermé par « [[/indice]] »"),
        );
        check(
            "[[indice un]]",
            Err(
                "f, ligne 1 : marqueur inconnu « [[indice un]] » (attendu « [[indice N]] » ou « [[/indice]] »)",
            ),
        );
        let no_markers =
            Template::parse("f", "[[indice 1]]", &ALL, false).map_err(|e| e.to_string());
        assert!(no_markers.is_err_and(|e| e.contains("se marquent dans l'objet")),);
    }

    #[test]
    fn escape_makes_markup_inert() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
