//! Reading one module file: TOML into the module's fields with their
//! positions (`toml::Spanned`), then every rule of the format (the data
//! README), with errors in French naming the file, the line and the field.
//!
//! What it must never do: panic on any text (the fuzz harness feeds it
//! any), or let through a quiz whose right answer is not one of its
//! choices.

use std::collections::BTreeSet;

use serde::Deserialize;
use toml::Spanned;

use super::module::{
    CHOICES, MAX_ID_CHARS, MAX_TEXT_CHARS, MINUTES, Module, QUESTIONS, Question, Section,
};

impl Module {
    /// One file, checked on its own; `name` is how errors call it.
    pub fn parse(name: &str, text: &str) -> Result<Module, String> {
        let at = |span: std::ops::Range<usize>| line_of(text, span.start);
        let raw: RawModule = toml::from_str(text).map_err(|e| match e.span() {
            Some(span) => format!("{name}, ligne {} : {}", at(span), french(e.message())),
            None => format!("{name} : {}", french(e.message())),
        })?;
        let fail = |span: std::ops::Range<usize>, field: &str, why: &str| -> String {
            format!("{name}, ligne {}, champ « {field} » : {why}", at(span))
        };
        let stem = name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(name)
            .trim_end_matches(".toml");
        let id = raw.id.get_ref();
        if id.is_empty()
            || id.chars().count() > MAX_ID_CHARS
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(fail(
                raw.id.span(),
                "id",
                "lettres minuscules sans accent, chiffres et « - » seulement (40 au plus)",
            ));
        }
        if id != stem {
            return Err(fail(
                raw.id.span(),
                "id",
                &format!("« {id} » au lieu de « {stem} », le nom du fichier"),
            ));
        }
        for (field, value) in [
            ("version", &raw.version),
            ("title", &raw.title),
            ("summary", &raw.summary),
        ] {
            text_field(value, field).map_err(|why| fail(value.span(), field, &why))?;
        }
        let minutes = *raw.minutes.get_ref();
        if !MINUTES.contains(&minutes) {
            return Err(fail(
                raw.minutes.span(),
                "minutes",
                &format!("{minutes} : de 1 à 30 minutes"),
            ));
        }
        if raw.sections.get_ref().is_empty() {
            return Err(fail(raw.sections.span(), "sections", "au moins une partie"));
        }
        let mut sections = Vec::new();
        for section in raw.sections.get_ref() {
            text_field(&section.title, "title")
                .map_err(|why| fail(section.title.span(), "title", &why))?;
            if section.paragraphs.is_empty() && section.list.is_empty() {
                return Err(fail(
                    section.title.span(),
                    "paragraphs",
                    "une partie a au moins un paragraphe ou une liste",
                ));
            }
            for (field, items) in [("paragraphs", &section.paragraphs), ("list", &section.list)] {
                for item in items {
                    text_field(item, field).map_err(|why| fail(item.span(), field, &why))?;
                }
            }
            sections.push(Section {
                title: section.title.get_ref().trim().to_owned(),
                paragraphs: plain(&section.paragraphs),
                list: plain(&section.list),
            });
        }
        let count = raw.quiz.get_ref().len();
        if !QUESTIONS.contains(&count) {
            return Err(fail(
                raw.quiz.span(),
                "quiz",
                &format!("{count} questions : de 4 à 6"),
            ));
        }
        let quiz = raw
            .quiz
            .get_ref()
            .iter()
            .map(|question| check_question(question).map_err(|(span, f, why)| fail(span, f, &why)))
            .collect::<Result<Vec<_>, _>>()?;
        for source in &raw.sources {
            text_field(source, "sources").map_err(|why| fail(source.span(), "sources", &why))?;
        }
        Ok(Module {
            id: id.clone(),
            version: raw.version.get_ref().trim().to_owned(),
            title: raw.title.get_ref().trim().to_owned(),
            minutes: u32::try_from(minutes).unwrap_or(1),
            summary: raw.summary.get_ref().trim().to_owned(),
            sections,
            quiz,
            sources: plain(&raw.sources),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModule {
    id: Spanned<String>,
    version: Spanned<String>,
    title: Spanned<String>,
    minutes: Spanned<i64>,
    summary: Spanned<String>,
    #[serde(default)]
    sources: Vec<Spanned<String>>,
    sections: Spanned<Vec<RawSection>>,
    quiz: Spanned<Vec<RawQuestion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    title: Spanned<String>,
    #[serde(default)]
    paragraphs: Vec<Spanned<String>>,
    #[serde(default)]
    list: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    question: Spanned<String>,
    choices: Spanned<Vec<String>>,
    answer: Spanned<i64>,
    explanation: Spanned<String>,
}

type FieldError = (std::ops::Range<usize>, &'static str, String);

fn check_question(raw: &RawQuestion) -> Result<Question, FieldError> {
    text_field(&raw.question, "question").map_err(|why| (raw.question.span(), "question", why))?;
    text_field(&raw.explanation, "explanation")
        .map_err(|why| (raw.explanation.span(), "explanation", why))?;
    let choices: Vec<String> = raw
        .choices
        .get_ref()
        .iter()
        .map(|c| c.trim().to_owned())
        .collect();
    let fail_choices = |why: String| (raw.choices.span(), "choices", why);
    if !CHOICES.contains(&choices.len()) {
        return Err(fail_choices(format!("{} choix : de 2 à 5", choices.len())));
    }
    if choices
        .iter()
        .any(|c| c.is_empty() || c.chars().count() > MAX_TEXT_CHARS)
    {
        return Err(fail_choices("un choix est vide ou trop long".to_owned()));
    }
    if choices.iter().collect::<BTreeSet<_>>().len() != choices.len() {
        return Err(fail_choices("deux choix sont identiques".to_owned()));
    }
    let answer = *raw.answer.get_ref();
    let index = usize::try_from(answer)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .filter(|n| *n < choices.len())
        .ok_or_else(|| {
            (
                raw.answer.span(),
                "answer",
                format!(
                    "{answer} : le numéro du bon choix, de 1 à {}",
                    choices.len()
                ),
            )
        })?;
    Ok(Question {
        text: raw.question.get_ref().trim().to_owned(),
        choices,
        answer: index,
        explanation: raw.explanation.get_ref().trim().to_owned(),
    })
}

/// A text field: not blank, not longer than [`MAX_TEXT_CHARS`].
fn text_field(value: &Spanned<String>, field: &str) -> Result<(), String> {
    let text = value.get_ref().trim();
    if text.is_empty() {
        Err(format!("« {field} » est vide"))
    } else if text.chars().count() > MAX_TEXT_CHARS {
        Err(format!("plus de {MAX_TEXT_CHARS} caractères"))
    } else {
        Ok(())
    }
}

fn plain(items: &[Spanned<String>]) -> Vec<String> {
    items
        .iter()
        .map(|item| item.get_ref().trim().to_owned())
        .collect()
}

/// The TOML reader's message in French: the field it names, or what kind
/// of value was expected; a syntax error keeps the reader's words.
fn french(message: &str) -> String {
    let message = message.trim();
    let quoted = |rest: &str| rest.split('`').next().unwrap_or_default().to_owned();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        format!("champ « {} » inconnu", quoted(rest))
    } else if let Some(rest) = message.strip_prefix("missing field `") {
        format!("champ « {} » manquant", quoted(rest))
    } else if message.starts_with("invalid type") {
        let wanted = match message.rsplit("expected ").next().unwrap_or_default() {
            w if w.contains("i64") || w.contains("integer") => "un nombre entier",
            w if w.contains("string") => "un texte entre guillemets",
            w if w.contains("sequence") => "une liste entre crochets",
            _ => "une autre sorte de valeur",
        };
        format!("valeur du mauvais type : il faut {wanted}")
    } else {
        format!("syntaxe TOML incorrecte ({message})")
    }
}

/// The line (from 1) of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn module(quiz_extra: &str, answer: &str) -> String {
        let mut text = "id = \"essai\"\nversion = \"1\"\ntitle = \"Essai\"\nminutes = 5\n\
                        summary = \"Un essai.\"\n\
                        [[sections]]\ntitle = \"Pourquoi\"\nparagraphs = [\"Parce que.\"]\n"
            .to_owned();
        for n in 0..4 {
            text.push_str(&format!(
                "[[quiz]]\nquestion = \"Question {n} ?\"\nchoices = [\"Oui\", \"Non\"]\n\
                 answer = {}\nexplanation = \"Voilà.\"\n{quiz_extra}",
                if n == 3 { answer } else { "1" }
            ));
        }
        text
    }

    fn check(text: &str, expected: &str) {
        let error = Module::parse("essai.toml", text).unwrap_err();
        assert!(error.starts_with(expected), "{error}\nexpected: {expected}");
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_field() {
        assert!(Module::parse("essai.toml", &module("", "2")).is_ok());
        // The fourth question's `answer` is on line 27.
        check(
            &module("", "3"),
            "essai.toml, ligne 27, champ « answer » : 3 : le numéro",
        );
        check(
            &module("", "0"),
            "essai.toml, ligne 27, champ « answer » : 0 : ",
        );
        check(
            &module("", "2").replace("minutes = 5", "minutes = 90"),
            "essai.toml, ligne 4, champ « minutes » : 90",
        );
        check(
            &module("", "2").replace("id = \"essai\"", "id = \"autre\""),
            "essai.toml, ligne 1, champ « id » : « autre » au lieu de « essai »",
        );
        check(
            &module("", "2").replace("paragraphs = [\"Parce que.\"]", "paragraphs = [\" \"]"),
            "essai.toml, ligne 8, champ « paragraphs » : « paragraphs » est vide",
        );
        check(
            &module("", "2").replacen("[\"Oui\", \"Non\"]", "[\"Oui\"]", 1),
            "essai.toml, ligne 11, champ « choices » : 1 choix",
        );
        // A TOML mistake, an unknown or missing field: the file and the line.
        check(
            &module("", "2").replace("minutes = 5", "minutes = "),
            "essai.toml, ligne 4 : ",
        );
        let error = Module::parse("essai.toml", &module("indice = \"x\"\n", "2")).unwrap_err();
        assert_eq!(error, "essai.toml, ligne 14 : champ « indice » inconnu");
        let error = Module::parse(
            "essai.toml",
            &module("", "2").replace("summary = \"Un essai.\"\n", ""),
        )
        .unwrap_err();
        assert_eq!(error, "essai.toml, ligne 1 : champ « summary » manquant");
        check(
            &module("", "2").replace("minutes = 5", "minutes = \"cinq\""),
            "essai.toml, ligne 4 : valeur du mauvais type : il faut un nombre entier",
        );
        // Four questions at least.
        let three = module("", "2");
        let cut = three.rfind("[[quiz]]").unwrap();
        check(
            &three[..cut],
            "essai.toml, ligne 9, champ « quiz » : 3 questions",
        );
    }

    #[test]
    fn answers_are_marked_and_gaps_named() {
        let module = Module::parse("essai.toml", &module("", "2")).unwrap();
        let all = BTreeMap::from([(0, 0), (1, 1), (2, 0), (3, 1)]);
        let marked = module.mark(&all).unwrap();
        assert_eq!(marked.iter().filter(|m| m.right).count(), 3);
        assert!(!marked[1].right);
        let gaps = BTreeMap::from([(0, 0), (2, 7)]);
        assert_eq!(module.mark(&gaps).unwrap_err(), vec![2, 3, 4]);
    }

    #[test]
    fn any_bytes_give_a_module_or_an_error() {
        for text in [
            "",
            "id = 3",
            "[[quiz]]\nanswer = -9223372036854775808",
            "\u{0}\u{ffff}",
        ] {
            assert!(Module::parse("x.toml", text).is_err());
        }
    }
}
