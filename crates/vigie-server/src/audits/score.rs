//! Scores and the five most critical shortcomings.
//!
//! - A scored question's answer has a value from 1 (« oui ») to 0
//!   (« non »). « Je ne sais pas » counts as 0: not knowing whether the
//!   backups are tested is not a met measure, and it is a shortcoming of
//!   its own. « Non applicable », an unanswered question, or one a rule on
//!   the identity sheet rules out, is left out.
//! - A theme's score is Σ(value × weight) / Σ(weight) × 100 over its
//!   counted questions; the overall score the same over all of them.
//! - An ANSSI measure is *assessed* when a counted question evidences it,
//!   *met* when every such question is answered at its best.
//! - A shortcoming's criticality is weight × (1 − value), doubled when
//!   what the sensor or the probe saw on this commune's network is the
//!   exposure the question is about. The top five are ranked by it, then
//!   by a known « non » before a « je ne sais pas », then in the order of
//!   ANSSI's measures.

use std::collections::BTreeMap;

use serde::Serialize;

use super::exposure::Signals;
use super::questionnaire::{Book, Kind, NOT_APPLICABLE, Question, UNKNOWN, Who};

/// How many shortcomings the restitution names (the agreement's number).
pub const TOP: usize = 5;

/// The measures that have a Standard level (all but 38, 41 and 42).
pub fn is_standard(measure: u8) -> bool {
    (1..=42).contains(&measure) && ![38, 41, 42].contains(&measure)
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scores {
    /// 0–100, `None` before any counted answer.
    pub overall: Option<u8>,
    /// Per theme of the scored questionnaires, in their order.
    pub themes: Vec<ThemeScore>,
    /// Standard measures met, and assessed.
    pub measures_met: usize,
    pub measures_assessed: usize,
    /// Scored questions answered (any answer), and applicable.
    pub answered: usize,
    pub applicable: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThemeScore {
    pub id: String,
    pub title: String,
    pub score: Option<u8>,
}

/// One of the most critical shortcomings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Shortcoming {
    pub question: String,
    pub text: String,
    /// The answer given (« Non », « En partie », « Je ne sais pas »…).
    pub answer: String,
    pub unknown: bool,
    pub measures: Vec<u8>,
    pub action: String,
    pub who: Who,
    pub effort: &'static str,
    pub cost: Option<String>,
    /// What the network showed that raised it, when it did.
    pub because: Option<String>,
    pub criticality: f64,
    /// The questionnaire it comes from (the commune's or the provider's).
    pub questionnaire: String,
    /// The same weakness answered in the other questionnaire, folded into
    /// this one in the top five (see [`top`]).
    pub echoes: Vec<Echo>,
}

/// The same weakness, as the other side answered it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Echo {
    pub question: String,
    pub text: String,
    pub answer: String,
    pub questionnaire: String,
}

impl Echo {
    /// « Le prestataire a aussi répondu « Non » à : … ».
    pub fn sentence(&self) -> String {
        let who = if self.questionnaire == "prestataire" {
            "Le prestataire"
        } else {
            "La mairie"
        };
        format!(
            "{who} a aussi répondu « {} » à : {}",
            self.answer, self.text
        )
    }
}

/// The [`TOP`] most critical shortcomings, each weakness once: a commune
/// question and a provider question evidencing the same ANSSI measures
/// (offline backups asked of both) take one place, the lower one folded
/// into the higher as an echo, so the five name five different things to
/// do.
pub fn top(ranked: &[Shortcoming]) -> Vec<Shortcoming> {
    let mut kept: Vec<Shortcoming> = Vec::with_capacity(TOP);
    for shortcoming in ranked {
        let same = kept.iter().position(|k| {
            k.measures == shortcoming.measures
                && k.questionnaire != shortcoming.questionnaire
                && !k
                    .echoes
                    .iter()
                    .any(|e| e.questionnaire == shortcoming.questionnaire)
        });
        if let Some(first) = same.and_then(|index| kept.get_mut(index)) {
            first.echoes.push(Echo {
                question: shortcoming.question.clone(),
                text: shortcoming.text.clone(),
                answer: shortcoming.answer.clone(),
                questionnaire: shortcoming.questionnaire.clone(),
            });
        } else if kept.len() < TOP {
            kept.push(shortcoming.clone());
        } else {
            break;
        }
    }
    kept
}

/// The answers that count for scores: applicable scored questions with an
/// answer other than « non applicable », and their value.
fn counted<'a>(
    book: &'a Book,
    answers: &'a BTreeMap<String, String>,
) -> impl Iterator<Item = (&'a str, &'a Question, &'a str, f64)> + 'a {
    let facts = book.facts(answers);
    book.questionnaires
        .iter()
        .filter(|q| q.kind == Kind::Scored)
        .flat_map(|q| {
            q.questions
                .iter()
                .map(move |question| (q.id.as_str(), question))
        })
        .filter(move |(_, question)| book.applies(question, &facts))
        .filter_map(move |(file, question)| {
            let answer = answers.get(&question.id)?;
            if answer == NOT_APPLICABLE {
                return None;
            }
            let value = if answer == UNKNOWN {
                0.0
            } else {
                question.value_of(answer)?
            };
            Some((file, question, answer.as_str(), value))
        })
}

fn percent(sum: f64, weights: f64) -> Option<u8> {
    if weights <= 0.0 {
        return None;
    }
    // Between 0 and 100 by construction (values are in 0..=1).
    Some((100.0 * sum / weights).round().clamp(0.0, 100.0) as u8)
}

pub fn scores(book: &Book, answers: &BTreeMap<String, String>) -> Scores {
    let mut by_theme: BTreeMap<(&str, &str), (f64, f64)> = BTreeMap::new();
    let mut total = (0.0, 0.0);
    let mut measures: BTreeMap<u8, bool> = BTreeMap::new();
    for (file, question, _, value) in counted(book, answers) {
        let weight = f64::from(question.weight);
        let entry = by_theme.entry((file, question.theme.as_str())).or_default();
        entry.0 += value * weight;
        entry.1 += weight;
        total.0 += value * weight;
        total.1 += weight;
        for measure in question
            .measures
            .iter()
            .copied()
            .filter(|m| is_standard(*m))
        {
            let met = measures.entry(measure).or_insert(true);
            *met = *met && value >= 1.0;
        }
    }
    let facts = book.facts(answers);
    let applicable: Vec<&Question> = book
        .questionnaires
        .iter()
        .filter(|q| q.kind == Kind::Scored)
        .flat_map(|q| &q.questions)
        .filter(|question| book.applies(question, &facts))
        .collect();
    Scores {
        overall: percent(total.0, total.1),
        themes: book
            .questionnaires
            .iter()
            .filter(|q| q.kind == Kind::Scored)
            .flat_map(|q| q.themes.iter().map(move |theme| (q.id.as_str(), theme)))
            .map(|(file, theme)| ThemeScore {
                id: theme.id.clone(),
                title: theme.title.clone(),
                score: by_theme
                    .get(&(file, theme.id.as_str()))
                    .and_then(|(sum, weights)| percent(*sum, *weights)),
            })
            .collect(),
        measures_met: measures.values().filter(|met| **met).count(),
        measures_assessed: measures.len(),
        answered: applicable
            .iter()
            .filter(|q| answers.contains_key(&q.id))
            .count(),
        applicable: applicable.len(),
    }
}

/// Every shortcoming, most critical first (the restitution shows the
/// first [`TOP`]; the action plan all of them).
pub fn shortcomings(
    book: &Book,
    answers: &BTreeMap<String, String>,
    signals: &Signals,
) -> Vec<Shortcoming> {
    let mut found: Vec<Shortcoming> = counted(book, answers)
        .filter(|(_, _, _, value)| *value < 1.0)
        .filter_map(|(file, question, answer, value)| {
            let unknown = answer == UNKNOWN;
            let because = question
                .exposure
                .and_then(|exposure| signals.reason(exposure));
            let factor = if because.is_some() { 2.0 } else { 1.0 };
            let label = question
                .answers()
                .into_iter()
                .find(|a| a.id == answer)
                .map(|a| a.label)?;
            Some(Shortcoming {
                question: question.id.clone(),
                text: question.text.clone(),
                answer: label,
                unknown,
                measures: question.measures.clone(),
                action: if unknown {
                    question.unknown_action.clone()
                } else {
                    question.action.clone()
                },
                who: question.who?,
                effort: question.effort?.label(),
                cost: question.cost.clone(),
                because,
                criticality: f64::from(question.weight) * (1.0 - value) * factor,
                questionnaire: file.to_owned(),
                echoes: Vec::new(),
            })
        })
        .collect();
    found.sort_by(|a, b| {
        b.criticality
            .total_cmp(&a.criticality)
            .then(a.unknown.cmp(&b.unknown))
            .then(a.measures.first().cmp(&b.measures.first()))
            .then(a.question.cmp(&b.question))
    });
    found
}

#[cfg(test)]
mod tests {
    use super::super::questionnaire::Exposure;
    use super::*;

    const COSTS: &str = "version = \"1\"\ncosts = []\n";

    /// Three questions in two themes: weights 3, 1 and 2.
    fn book() -> Book {
        let question = |id: &str, theme: &str, weight: u8, measure: u8, extra: &str| {
            format!(
                "[[questions]]\nid = \"{id}\"\ntheme = \"{theme}\"\ntext = \"{id} ?\"\nmeasures = [{measure}]\n\
                 weight = {weight}\nscale = \"yes_partly_no\"\naction = \"Agir sur {id}.\"\n\
                 unknown_action = \"Savoir pour {id}.\"\nwho = \"commune\"\neffort = \"faible\"\n{extra}"
            )
        };
        let identity = "id = \"identite\"\nversion = \"1\"\ntitle = \"I\"\nkind = \"identity\"\naudience = \"commune\"\n\
            [[themes]]\nid = \"parc\"\ntitle = \"Parc\"\n\
            [[questions]]\nid = \"parc.serveurs\"\ntheme = \"parc\"\ntext = \"?\"\ntype = \"number\"\nkey = \"servers\"\n";
        let scored = format!(
            "id = \"services\"\nversion = \"1\"\ntitle = \"S\"\nkind = \"scored\"\naudience = \"commune\"\n\
             [[themes]]\nid = \"sauvegardes\"\ntitle = \"Sauvegardes\"\n\
             [[themes]]\nid = \"comptes\"\ntitle = \"Comptes\"\n{}{}{}",
            question(
                "sauvegardes.testees",
                "sauvegardes",
                3,
                37,
                "applies_if = \"servers > 0\"\n"
            ),
            question(
                "comptes.mfa",
                "comptes",
                1,
                13,
                "exposure = \"remote_access\"\n"
            ),
            question(
                "comptes.mots_de_passe",
                "comptes",
                2,
                10,
                "exposure = \"passwords\"\n"
            ),
        );
        Book::parse(&[
            ("identite.toml", identity),
            ("services.toml", &scored),
            ("couts.toml", COSTS),
        ])
        .unwrap()
    }

    fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(q, a)| ((*q).to_owned(), (*a).to_owned()))
            .collect()
    }

    #[test]
    fn scores_by_hand() {
        let book = book();
        // Backups tested (3 × 1), MFA partly (1 × 0.5), passwords no (2 × 0):
        // overall 3.5 / 6 = 58 %; backups 100; accounts 0.5 / 3 = 17.
        let given = answers(&[
            ("sauvegardes.testees", "yes"),
            ("comptes.mfa", "partly"),
            ("comptes.mots_de_passe", "no"),
        ]);
        let scores = scores(&book, &given);
        assert_eq!(scores.overall, Some(58));
        assert_eq!(scores.themes[0].score, Some(100));
        assert_eq!(scores.themes[1].score, Some(17));
        assert_eq!((scores.measures_met, scores.measures_assessed), (1, 3));
        assert_eq!((scores.answered, scores.applicable), (3, 3));
        // « Je ne sais pas » counts as 0; « non applicable » is left out.
        let given = answers(&[
            ("sauvegardes.testees", "unknown"),
            ("comptes.mfa", "na"),
            ("comptes.mots_de_passe", "yes"),
        ]);
        let scores = super::scores(&book, &given);
        assert_eq!(scores.overall, Some(40)); // 2 / 5
        assert_eq!(scores.themes[1].score, Some(100));
        // No server: the backup question is ruled out, not counted.
        let given = answers(&[("parc.serveurs", "0"), ("comptes.mots_de_passe", "yes")]);
        let scores = super::scores(&book, &given);
        assert_eq!(scores.overall, Some(100));
        assert_eq!(scores.themes[0].score, None);
        assert_eq!(scores.applicable, 2);
    }

    #[test]
    fn the_top_order_with_and_without_exposure() {
        let book = book();
        let given = answers(&[
            ("sauvegardes.testees", "unknown"),
            ("comptes.mfa", "no"),
            ("comptes.mots_de_passe", "partly"),
        ]);
        // Without exposure: backups unknown (3 × 1 = 3), passwords partly
        // (2 × 0.5 = 1), MFA no (1 × 1 = 1): the known « non » of MFA…
        // ties with passwords, both known; measure 10 before 13.
        let quiet = shortcomings(&book, &given, &Signals::default());
        let order: Vec<&str> = quiet.iter().map(|s| s.question.as_str()).collect();
        assert_eq!(
            order,
            [
                "sauvegardes.testees",
                "comptes.mots_de_passe",
                "comptes.mfa"
            ]
        );
        assert!(quiet[0].unknown);
        assert_eq!(quiet[0].action, "Savoir pour sauvegardes.testees.");
        // The sensor saw brute force on remote access: MFA doubles to 2
        // and passes passwords.
        let signals = Signals::with(Exposure::RemoteAccess, "Le capteur a vu 340 essais.");
        let exposed = shortcomings(&book, &given, &signals);
        let order: Vec<&str> = exposed.iter().map(|s| s.question.as_str()).collect();
        assert_eq!(
            order,
            [
                "sauvegardes.testees",
                "comptes.mfa",
                "comptes.mots_de_passe"
            ]
        );
        assert_eq!(
            exposed[1].because.as_deref(),
            Some("Le capteur a vu 340 essais.")
        );
        // A known « non » comes before a « je ne sais pas » that weighs the
        // same (2 each here), whatever the measures' order.
        let given = answers(&[("comptes.mots_de_passe", "unknown"), ("comptes.mfa", "no")]);
        let tie = shortcomings(&book, &given, &signals);
        let order: Vec<&str> = tie.iter().map(|s| s.question.as_str()).collect();
        assert_eq!(order, ["comptes.mfa", "comptes.mots_de_passe"]);
    }

    #[test]
    fn the_same_weakness_from_both_sides_takes_one_place() {
        let item = |question: &str, file: &str, measures: Vec<u8>, criticality: f64| Shortcoming {
            question: question.to_owned(),
            text: format!("{question} ?"),
            answer: "Non".to_owned(),
            unknown: false,
            measures,
            action: format!("Agir sur {question}."),
            who: Who::Commune,
            effort: "faible",
            cost: None,
            because: None,
            criticality,
            questionnaire: file.to_owned(),
            echoes: Vec::new(),
        };
        let ranked = [
            item("sauvegardes.hors_ligne", "securite-services", vec![37], 6.0),
            item("exploitation.hors_ligne", "prestataire", vec![37], 5.0),
            item(
                "sauvegardes.restauration",
                "securite-services",
                vec![37],
                4.5,
            ),
            item("comptes.nominatifs", "securite-services", vec![8], 4.0),
            item("postes.antivirus", "securite-services", vec![14], 3.0),
            item("protection.antivirus", "prestataire", vec![14], 2.5),
            item("reseau.pare_feu", "securite-services", vec![22], 2.0),
            item("contrat.formation", "prestataire", vec![1], 1.0),
            item("gouvernance.inventaire", "securite-services", vec![4], 0.5),
        ];
        let top = top(&ranked);
        let ids: Vec<&str> = top.iter().map(|s| s.question.as_str()).collect();
        // Each provider answer folds into the commune's on the same
        // measures; two commune questions on one measure both stay.
        assert_eq!(
            ids,
            [
                "sauvegardes.hors_ligne",
                "sauvegardes.restauration",
                "comptes.nominatifs",
                "postes.antivirus",
                "reseau.pare_feu"
            ]
        );
        assert_eq!(top[0].echoes.len(), 1);
        assert_eq!(top[0].echoes[0].question, "exploitation.hors_ligne");
        assert!(
            top[0].echoes[0]
                .sentence()
                .starts_with("Le prestataire a aussi répondu « Non »")
        );
        assert!(top[1].echoes.is_empty(), "one echo per side");
        assert_eq!(top[3].echoes[0].question, "protection.antivirus");
    }
}
