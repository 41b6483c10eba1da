//! A follow-up round beside the one before: theme by theme, measure by
//! measure and question by question, what improved, what is still open,
//! what got worse. Each round is read with its own questionnaires.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::questionnaire::{Book, Kind, NOT_APPLICABLE, UNKNOWN};
use super::score::{self, Scores};
use super::store::Audit;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Improved,
    Worse,
    /// Not at its best, no better than before.
    StillOpen,
    /// At its best both times.
    Kept,
    /// Not answered (or not applicable) the round before.
    New,
}

impl Trend {
    pub fn label(self) -> &'static str {
        match self {
            Trend::Improved => "amélioré",
            Trend::Worse => "dégradé",
            Trend::StillOpen => "toujours à traiter",
            Trend::Kept => "acquis",
            Trend::New => "nouveau",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuestionChange {
    pub question: String,
    pub text: String,
    pub theme: String,
    pub before: Option<String>,
    pub after: String,
    pub trend: Trend,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    pub previous_round: i64,
    pub previous_id: String,
    pub before: Scores,
    /// Standard measures met now and not before, and the reverse.
    pub measures_gained: Vec<u8>,
    pub measures_lost: Vec<u8>,
    /// Every scored question answered this round, in questionnaire order.
    pub questions: Vec<QuestionChange>,
}

impl Comparison {
    pub fn count(&self, trend: Trend) -> usize {
        self.questions.iter().filter(|q| q.trend == trend).count()
    }

    /// A theme's score the round before, by theme id.
    pub fn theme_before(&self, theme: &str) -> Option<u8> {
        self.before
            .themes
            .iter()
            .find(|t| t.id == theme)
            .and_then(|t| t.score)
    }
}

/// The value and label an answer had, `None` when it does not count.
fn value(book: &Book, question: &str, answer: Option<&String>) -> Option<(f64, String)> {
    let answer = answer?;
    if answer == NOT_APPLICABLE {
        return None;
    }
    let asked = book.question(question)?;
    let label = asked.answers().into_iter().find(|a| a.id == *answer)?.label;
    let value = if answer == UNKNOWN {
        0.0
    } else {
        asked.value_of(answer)?
    };
    Some((value, label))
}

/// Standard measures met, as `score` counts them.
fn met(book: &Book, answers: &BTreeMap<String, String>) -> BTreeSet<u8> {
    let mut measures: BTreeMap<u8, bool> = BTreeMap::new();
    let facts = book.facts(answers);
    for question in book
        .questionnaires
        .iter()
        .filter(|q| q.kind == Kind::Scored)
        .flat_map(|q| &q.questions)
        .filter(|q| book.applies(q, &facts))
    {
        let Some((value, _)) = value(book, &question.id, answers.get(&question.id)) else {
            continue;
        };
        for measure in question
            .measures
            .iter()
            .copied()
            .filter(|m| score::is_standard(*m))
        {
            let entry = measures.entry(measure).or_insert(true);
            *entry = *entry && value >= 1.0;
        }
    }
    measures
        .into_iter()
        .filter_map(|(measure, ok)| ok.then_some(measure))
        .collect()
}

pub fn compare(
    before: &Audit,
    before_answers: &BTreeMap<String, String>,
    after: &Audit,
    after_answers: &BTreeMap<String, String>,
) -> Comparison {
    let facts = after.book.facts(after_answers);
    let questions = after
        .book
        .questionnaires
        .iter()
        .filter(|q| q.kind == Kind::Scored)
        .flat_map(|q| &q.questions)
        .filter(|q| after.book.applies(q, &facts))
        .filter_map(|question| {
            let (now, label) = value(&after.book, &question.id, after_answers.get(&question.id))?;
            let then = value(&before.book, &question.id, before_answers.get(&question.id));
            let trend = match &then {
                None => Trend::New,
                Some((then, _)) if now > *then => Trend::Improved,
                Some((then, _)) if now < *then => Trend::Worse,
                Some(_) if now >= 1.0 => Trend::Kept,
                Some(_) => Trend::StillOpen,
            };
            Some(QuestionChange {
                question: question.id.clone(),
                text: question.text.clone(),
                theme: question.theme.clone(),
                before: then.map(|(_, label)| label),
                after: label,
                trend,
            })
        })
        .collect();
    let (was, is) = (
        met(&before.book, before_answers),
        met(&after.book, after_answers),
    );
    Comparison {
        previous_round: before.round,
        previous_id: before.id.clone(),
        before: score::scores(&before.book, before_answers),
        measures_gained: is.difference(&was).copied().collect(),
        measures_lost: was.difference(&is).copied().collect(),
        questions,
    }
}
