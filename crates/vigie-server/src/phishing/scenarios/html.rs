//! The rules a scenario's HTML must follow, checked on the file as written
//! (placeholders still in it) by a small tag scanner: enough to read tag
//! names and attributes, not a full HTML parser.
//!
//! The landing page must send nothing anywhere (no `name` on a field, so a
//! submitted password never leaves the browser; no script, no event
//! handler; the form posts to `{{action}}` only) and load nothing from
//! elsewhere (a third party would learn of the visit). The mail's HTML is
//! the body's content only, shown again inside the awareness page: no
//! script, style sheet or form, links only to `{{lien}}`.
//!
//! What it must not do: panic or loop on any text (it is fuzzed).

use super::error::{ScenarioError, line_of};

/// Elements the landing page may not hold.
const LANDING_FORBIDDEN: &[&str] = &[
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "link", "base", "portal",
];
/// Elements the mail's HTML may not hold: those, plus what belongs to a
/// whole document (the server writes `<html>`, `<head>` and `<body>`) or
/// would act on the awareness page it is shown in.
const MAIL_FORBIDDEN: &[&str] = &[
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "link", "base", "portal",
    "style", "meta", "title", "html", "head", "body", "form", "input", "select", "textarea",
    "button", "svg", "math",
];
/// Attributes whose value is an address to load or to go to.
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "srcset",
    "action",
    "formaction",
    "poster",
    "background",
    "xlink:href",
    "ping",
    "cite",
    "longdesc",
    "data",
    "manifest",
    "icon",
    "lowsrc",
    "dynsrc",
    "codebase",
    "archive",
];
/// Form fields: a `name` on one of them would make the browser send what
/// was typed in it.
const FIELDS: &[&str] = &["input", "select", "textarea", "button"];

/// One start tag (end tags carry nothing to check).
struct Tag<'a> {
    line: usize,
    name: String,
    attributes: Attributes<'a>,
}

impl Tag<'_> {
    fn attribute(&self, name: &str) -> Option<Option<&str>> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| *value)
    }
}

/// Checks the landing page (`file` names it in errors).
pub(super) fn check_landing(file: &str, text: &str) -> Result<(), ScenarioError> {
    check_text(file, text, true)?;
    let mut forms = 0;
    for tag in tags(file, text)? {
        let fail = |message: String| ScenarioError::content(file, Some(tag.line), message);
        check_common(&tag, LANDING_FORBIDDEN).map_err(fail)?;
        if tag.name == "meta" && tag.attribute("http-equiv").is_some() {
            return Err(fail(
                "<meta http-equiv> refusé : la page ne doit ni rediriger ni rien charger"
                    .to_owned(),
            ));
        }
        if FIELDS.contains(&tag.name.as_str()) && tag.attribute("name").is_some() {
            return Err(fail(format!(
                "attribut « name » sur <{}> : le navigateur enverrait ce qui y est saisi ; retirez-le (le serveur ne doit rien recevoir)",
                tag.name
            )));
        }
        for (attribute, value) in &tag.attributes {
            let value = value.unwrap_or_default();
            let fine = match attribute.as_str() {
                "action" => tag.name == "form" && value == "{{action}}",
                "formaction" => false,
                a if URL_ATTRIBUTES.contains(&a) => local(value),
                _ => true,
            };
            if !fine {
                return Err(fail(format!(
                    "<{} {attribute}=\"{value}\"> : le formulaire part vers « {{{{action}}}} », les liens vers « # », les images en « data: » ; rien d'autre",
                    tag.name
                )));
            }
        }
        if tag.name == "form" {
            forms += 1;
            let method = tag.attribute("method").flatten().unwrap_or_default();
            if tag.attribute("action").flatten() != Some("{{action}}")
                || !method.eq_ignore_ascii_case("post")
            {
                return Err(fail(
                    "<form> doit avoir action=\"{{action}}\" et method=\"post\"".to_owned(),
                ));
            }
        }
    }
    if forms == 0 {
        return Err(ScenarioError::content(
            file,
            None,
            "aucun <form> : la page doit proposer un formulaire (action=\"{{action}}\", method=\"post\")",
        ));
    }
    Ok(())
}

/// Checks the mail's HTML (`file` names it in errors).
pub(super) fn check_mail(file: &str, text: &str) -> Result<(), ScenarioError> {
    check_text(file, text, false)?;
    for tag in tags(file, text)? {
        let fail = |message: String| ScenarioError::content(file, Some(tag.line), message);
        check_common(&tag, MAIL_FORBIDDEN).map_err(fail)?;
        for (attribute, value) in &tag.attributes {
            let value = value.unwrap_or_default();
            if URL_ATTRIBUTES.contains(&attribute.as_str())
                && !(local(value)
                    || value == "{{lien}}"
                    || value == "{{image}}"
                    || value.starts_with("mailto:"))
            {
                return Err(fail(format!(
                    "<{} {attribute}=\"{value}\"> : les liens vont vers « {{{{lien}}}} », l'image de suivi est « {{{{image}}}} », les autres images en « data: » ; rien d'autre (le message ne doit rien charger d'ailleurs)",
                    tag.name
                )));
            }
        }
    }
    Ok(())
}

/// What both pages refuse on any tag: a forbidden element, an event
/// handler (a script by another name), a clue marker inside a tag.
fn check_common(tag: &Tag, forbidden: &[&str]) -> Result<(), String> {
    if forbidden.contains(&tag.name.as_str()) {
        return Err(format!("élément <{}> refusé dans ce fichier", tag.name));
    }
    if let Some((attribute, _)) = tag.attributes.iter().find(|(a, _)| a.starts_with("on")) {
        return Err(format!(
            "attribut « {attribute} » sur <{}> : pas de script dans un scénario",
            tag.name
        ));
    }
    Ok(())
}

/// An address that stays on the page: empty, an anchor, inline data.
fn local(value: &str) -> bool {
    let value = value.trim();
    value.is_empty() || value.starts_with('#') || value.starts_with("data:")
}

/// Rules on the text as a whole: CSS may load only inline data; the
/// landing page names no web address at all.
fn check_text(file: &str, text: &str, landing: bool) -> Result<(), ScenarioError> {
    let lower = text.to_ascii_lowercase();
    let fail = |offset: usize, message: String| {
        Err(ScenarioError::content(
            file,
            Some(line_of(text, offset)),
            message,
        ))
    };
    for word in ["@import", "image-set("] {
        if let Some(at) = lower.find(word) {
            return fail(
                at,
                format!("« {word} » refusé : rien ne se charge d'ailleurs"),
            );
        }
    }
    for (at, _) in lower.match_indices("url(") {
        let target = lower
            .get(at + 4..)
            .unwrap_or_default()
            .trim_start_matches([' ', '"', '\'']);
        if !(target.starts_with("data:") || target.starts_with('#')) {
            return fail(
                at,
                "« url( » vers une adresse : seules les données en ligne (« data: ») sont permises"
                    .to_owned(),
            );
        }
    }
    if landing
        && let Some(at) = ["http://", "https://"]
            .into_iter()
            .filter_map(|scheme| lower.find(scheme))
            .min()
    {
        return fail(
            at,
            "adresse web dans la page : elle ne doit rien charger ni envoyer ailleurs (un tiers apprendrait la visite)"
                .to_owned(),
        );
    }
    Ok(())
}

/// The start tags of `text`, comments and `<!doctype>` skipped; a `<` not
/// followed by a letter or `/` is text.
fn tags<'a>(file: &str, text: &'a str) -> Result<Vec<Tag<'a>>, ScenarioError> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(start) = text
        .get(at..)
        .and_then(|rest| rest.find('<'))
        .map(|i| i + at)
    {
        let line = line_of(text, start);
        let (length, tag) = read_tag(text.get(start..).unwrap_or_default(), line)
            .map_err(|why| ScenarioError::content(file, Some(line), why))?;
        found.extend(tag);
        // At least one byte: the scan always moves on.
        at = start + length.max(1);
    }
    Ok(found)
}

/// A tag's attributes, names lowercased, values as written.
type Attributes<'a> = Vec<(String, Option<&'a str>)>;

/// What starts at the `<` that begins `rest` (on `line`): how many bytes
/// it spans, and the start tag if it is one (a comment, a doctype, an end
/// tag or a lone `<` are none).
fn read_tag(rest: &str, line: usize) -> Result<(usize, Option<Tag<'_>>), &'static str> {
    if rest.starts_with("<!--") {
        let end = rest
            .find("-->")
            .ok_or("commentaire « <!-- » jamais fermé")?;
        return Ok((end + 3, None));
    }
    let after = rest.get(1..).unwrap_or_default();
    if after.starts_with('!') {
        return Ok((rest.find('>').map_or(rest.len(), |end| end + 1), None));
    }
    let closing = after.starts_with('/');
    let body = if closing {
        after.get(1..).unwrap_or_default()
    } else {
        after
    };
    if !body.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Ok((1, None));
    }
    let len = tag_end(body).ok_or("balise jamais fermée par « > »")?;
    let inside = body.get(..len).unwrap_or_default();
    if inside.contains("[[") {
        return Err(
            "marqueur d'indice à l'intérieur d'une balise : marquez le texte, pas l'attribut",
        );
    }
    let length = rest.len() - body.len() + len + 1;
    if closing {
        return Ok((length, None));
    }
    let name_len = inside
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == ':'))
        .unwrap_or(inside.len());
    let name = inside
        .get(..name_len)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let attributes = attributes(inside.get(name_len..).unwrap_or_default());
    Ok((
        length,
        Some(Tag {
            line,
            name,
            attributes,
        }),
    ))
}

/// The byte offset of the `>` that ends a tag, outside quoted values.
fn tag_end(body: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in body.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// `a="x" b='y' c=z d`, names lowercased.
fn attributes(mut rest: &str) -> Attributes<'_> {
    let mut found = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return found;
        }
        let name_len = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len())
            .max(1);
        let name = rest
            .get(..name_len)
            .unwrap_or_default()
            .to_ascii_lowercase();
        rest = rest.get(name_len..).unwrap_or_default().trim_start();
        let Some(after) = rest.strip_prefix('=') else {
            found.push((name, None));
            continue;
        };
        let after = after.trim_start();
        let (value, next) = match after.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let inner = after.get(1..).unwrap_or_default();
                let end = inner.find(q).unwrap_or(inner.len());
                (
                    inner.get(..end).unwrap_or_default(),
                    inner.get(end + 1..).unwrap_or_default(),
                )
            }
            _ => {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                (
                    after.get(..end).unwrap_or_default(),
                    after.get(end..).unwrap_or_default(),
                )
            }
        };
        found.push((name, Some(value)));
        rest = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: &str = "<form method=\"post\" action=\"{{action}}\"><input id=\"p\" type=\"password\"><button>OK</button></form>";

    fn landing(text: &str) -> Result<(), String> {
        check_landing("landing.html", text).map_err(|e| e.to_string())
    }

    fn mail(text: &str) -> Result<(), String> {
        check_mail("mail.html", text).map_err(|e| e.to_string())
    }

    #[test]
    fn a_quiet_form_passes() {
        assert_eq!(
            landing(&format!(
                "<!doctype html>\n<!-- x > y -->\n<style>a > b {{ color: red }}</style>{FORM}"
            )),
            Ok(())
        );
    }

    #[test]
    fn a_named_field_is_refused_with_its_line() {
        let page = format!(
            "{FORM}\n<form method=post action=\"{{{{action}}}}\">\n<input type=\"text\"\n  NAME='login'></form>"
        );
        assert_eq!(
            landing(&page),
            Err("landing.html, ligne 3 : attribut « name » sur <input> : le navigateur enverrait ce qui y est saisi ; retirez-le (le serveur ne doit rien recevoir)".to_owned())
        );
        // A value that merely contains the word is fine.
        assert_eq!(
            landing(&format!("<input placeholder=\"name=x\">{FORM}")),
            Ok(())
        );
    }

    #[test]
    fn nothing_leaves_the_landing_page() {
        for (page, says) in [
            ("<script src=\"a.js\"></script>", "élément <script>"),
            ("<script>fetch('/'+p.value)</script>", "élément <script>"),
            ("<body onload=\"x()\">", "« onload »"),
            ("<img src=\"https://pixel.example/a.gif\">", "adresse web"),
            ("<img src=\"//pixel.example/a.gif\">", "<img src="),
            ("<style>@import 'x.css';</style>", "@import"),
            (
                "<p style=\"background:image-set('/x.png' 1x)\">",
                "image-set(",
            ),
            ("<div style=\"background:url(/x.png)\">", "url("),
            (
                "<form method=\"post\" action=\"/ailleurs\"></form>",
                "<form action=",
            ),
            ("<form action=\"{{action}}\"></form>", "method=\"post\""),
            ("<button formaction=\"/x\">", "formaction"),
            ("<meta http-equiv=\"refresh\" content=\"0\">", "http-equiv"),
            ("<a href=\"/aide\">", "<a href="),
        ] {
            let error = landing(&format!("{FORM}\n{page}")).unwrap_err();
            assert!(
                error.starts_with("landing.html, ligne 2 : "),
                "{page}: {error}"
            );
            assert!(error.contains(says), "{page}: {error}");
        }
        assert!(landing("<p>rien</p>").unwrap_err().contains("aucun <form>"));
    }

    #[test]
    fn the_mail_links_only_to_the_trap() {
        assert_eq!(
            mail(
                "<p style=\"color:#333\"><a href=\"{{lien}}\">x</a> < y</p><img src=\"{{image}}\" alt=\"\">"
            ),
            Ok(())
        );
        for (html, says) in [
            ("<a href=\"https://exemple.fr\">", "<a href="),
            ("<img src=\"https://exemple.fr/logo.png\">", "<img src="),
            ("<style>p{}</style>", "élément <style>"),
            ("<a href=\"{{lien}}\" onclick=\"x\">", "onclick"),
            ("<a title=\"[[indice 1]]\">", "à l'intérieur d'une balise"),
            ("<p style=\"background:url('https://x')\">", "url("),
            ("<!-- jamais fermé", "commentaire"),
            ("<p class=\"x\"", "jamais fermée"),
        ] {
            let error = mail(&format!("<p>a</p>\n{html}")).unwrap_err();
            assert!(
                error.starts_with("mail.html, ligne 2 : "),
                "{html}: {error}"
            );
            assert!(error.contains(says), "{html}: {error}");
        }
        // An address written as text is the classic clue: allowed.
        assert_eq!(mail("<p>https://messagerie.exemple.fr</p>"), Ok(()));
    }
}
