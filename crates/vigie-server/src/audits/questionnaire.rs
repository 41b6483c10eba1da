//! The questionnaires as data (`data/questionnaires/*.toml`, format in
//! that directory's README): read and checked whole at start, with errors
//! that name the file, the question and the field. An audit keeps the
//! questionnaires it was started with (serialised with it), so a new
//! version of a file never rewrites an old audit.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The built-in files, in the order their pages come.
const FILES: [(&str, &str); 4] = [
    (
        "identite-commune.toml",
        include_str!("../../data/questionnaires/identite-commune.toml"),
    ),
    (
        "securite-services.toml",
        include_str!("../../data/questionnaires/securite-services.toml"),
    ),
    (
        "prestataire.toml",
        include_str!("../../data/questionnaires/prestataire.toml"),
    ),
    (
        "couts.toml",
        include_str!("../../data/questionnaires/couts.toml"),
    ),
];

/// Every questionnaire and the cost table: what an audit is started with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Book {
    pub questionnaires: Vec<Questionnaire>,
    pub costs: Vec<Cost>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Questionnaire {
    pub id: String,
    pub version: String,
    pub title: String,
    pub kind: Kind,
    pub audience: Audience,
    #[serde(default)]
    pub intro: String,
    pub themes: Vec<Theme>,
    pub questions: Vec<Question>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Facts about the commune or a provider: unscored.
    Identity,
    Scored,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// The commune answers (with the territory's staff if it likes).
    Commune,
    /// Each IT provider answers, through its own link.
    Provider,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub intro: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub theme: String,
    pub text: String,
    #[serde(default)]
    pub help: String,
    /// For a provider's question: the same as a requirement of a public
    /// contract (« Le titulaire … »), for the procurement annex.
    #[serde(default)]
    pub requirement: String,
    // Scored questions.
    #[serde(default)]
    pub measures: Vec<u8>,
    #[serde(default)]
    pub weight: u8,
    #[serde(default)]
    pub scale: Option<Scale>,
    #[serde(default)]
    pub levels: Vec<Level>,
    #[serde(default = "yes")]
    pub unknown: bool,
    #[serde(default)]
    pub applies_if: Option<String>,
    #[serde(default)]
    pub exposure: Option<Exposure>,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub unknown_action: String,
    #[serde(default)]
    pub who: Option<Who>,
    #[serde(default)]
    pub effort: Option<Effort>,
    #[serde(default)]
    pub cost: Option<String>,
    // Identity questions.
    #[serde(default, rename = "type")]
    pub field: Option<Field>,
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub options: Vec<Choice>,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    YesNo,
    YesPartlyNo,
    Levels,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub id: String,
    pub label: String,
    pub value: f64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub id: String,
    pub label: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exposure {
    Passwords,
    RemoteAccess,
    Phishing,
    ExposedServices,
    Ransomware,
    Email,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Who {
    Commune,
    Prestataire,
    Territoire,
}

impl Who {
    /// As the API says it.
    pub fn id(self) -> &'static str {
        match self {
            Who::Commune => "commune",
            Who::Prestataire => "prestataire",
            Who::Territoire => "territoire",
        }
    }

    /// As a page says it.
    pub fn label(self) -> &'static str {
        match self {
            Who::Commune => "la mairie",
            Who::Prestataire => "le prestataire informatique",
            Who::Territoire => "l'équipe du territoire",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effort {
    Faible,
    Moyen,
    Important,
}

impl Effort {
    pub fn label(self) -> &'static str {
        match self {
            Effort::Faible => "faible",
            Effort::Moyen => "moyen",
            Effort::Important => "important",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Number,
    Text,
    YesNo,
    Choice,
}

/// An order of magnitude of what an action costs, from `couts.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cost {
    pub id: String,
    pub label: String,
    /// Euros, min and max, once.
    pub investment: [u32; 2],
    /// Euros per year, min and max.
    pub yearly: [u32; 2],
    pub buy: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CostFile {
    #[allow(dead_code)] // read to be checked, versioned with the file
    version: String,
    costs: Vec<Cost>,
}

/// An answer a scored question offers, its value from 1 (best) to 0.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Answer {
    pub id: String,
    pub label: String,
    /// `None` for « je ne sais pas » and « non applicable ».
    pub value: Option<f64>,
}

pub const UNKNOWN: &str = "unknown";
pub const NOT_APPLICABLE: &str = "na";

impl Question {
    pub fn is_scored(&self) -> bool {
        self.scale.is_some()
    }

    /// The answers offered, best first, then « je ne sais pas » (when
    /// offered) and « non applicable » (when a rule may make it so, or
    /// always for a scored question: a town hall may have no such thing).
    pub fn answers(&self) -> Vec<Answer> {
        let answer = |id: &str, label: &str, value: Option<f64>| Answer {
            id: id.to_owned(),
            label: label.to_owned(),
            value,
        };
        let mut answers = match self.scale {
            None => return Vec::new(),
            Some(Scale::YesNo) => vec![
                answer("yes", "Oui", Some(1.0)),
                answer("no", "Non", Some(0.0)),
            ],
            Some(Scale::YesPartlyNo) => vec![
                answer("yes", "Oui", Some(1.0)),
                answer("partly", "En partie", Some(0.5)),
                answer("no", "Non", Some(0.0)),
            ],
            Some(Scale::Levels) => self
                .levels
                .iter()
                .map(|level| answer(&level.id, &level.label, Some(level.value)))
                .collect(),
        };
        if self.unknown {
            answers.push(answer(UNKNOWN, "Je ne sais pas", None));
        }
        answers.push(answer(NOT_APPLICABLE, "Non applicable", None));
        answers
    }

    /// The value of answer `id` (`None`: unknown, not applicable, or not
    /// an answer of this question).
    pub fn value_of(&self, id: &str) -> Option<f64> {
        self.answers()
            .into_iter()
            .find(|answer| answer.id == id)
            .and_then(|answer| answer.value)
    }
}

impl Book {
    /// The built-in questionnaires, checked; the error names the file, the
    /// question and the field.
    pub fn built_in() -> Result<Book, String> {
        Book::parse(&FILES)
    }

    /// The files of `dir` that bear a built-in file's name replace it (a
    /// territory's own costs, its version of a questionnaire); the others
    /// are the built-in ones. The error names the file (its path when it
    /// is the territory's), the question and the field.
    pub fn load(dir: Option<&std::path::Path>) -> Result<Book, String> {
        let Some(dir) = dir else {
            return Book::built_in();
        };
        if !dir.is_dir() {
            return Err(format!("{} n'est pas un dossier lisible", dir.display()));
        }
        let mut names = Vec::new();
        let mut texts = Vec::new();
        for (name, built_in) in FILES {
            let path = dir.join(name);
            if path.is_file() {
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                if size > 4 * 1024 * 1024 {
                    return Err(format!("{} : plus de 4 Mio", path.display()));
                }
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{} : lecture impossible ({e})", path.display()))?;
                names.push(path.display().to_string());
                texts.push(text);
            } else {
                names.push(name.to_owned());
                texts.push(built_in.to_owned());
            }
        }
        let files: Vec<(&str, &str)> = names
            .iter()
            .zip(&texts)
            .map(|(name, text)| (name.as_str(), text.as_str()))
            .collect();
        Book::parse(&files)
    }

    /// Files given as (name, content), `couts.toml` among them.
    pub fn parse(files: &[(&str, &str)]) -> Result<Book, String> {
        let mut questionnaires = Vec::new();
        let mut costs = None;
        for (name, text) in files {
            let located = |e: toml::de::Error| {
                let line = e.span().map(|span| {
                    text.get(..span.start)
                        .map_or(0, |s| s.matches('\n').count())
                        + 1
                });
                match line {
                    Some(line) => format!("{name}, ligne {line} : {}", e.message()),
                    None => format!("{name} : {}", e.message()),
                }
            };
            if is_costs(name) {
                let file: CostFile = toml::from_str(text).map_err(located)?;
                costs = Some(file.costs);
            } else {
                questionnaires.push(toml::from_str::<Questionnaire>(text).map_err(located)?);
            }
        }
        let book = Book {
            questionnaires,
            costs: costs.ok_or("couts.toml manquant")?,
        };
        book.check(files)?;
        Ok(book)
    }

    /// Every question of every questionnaire, with its questionnaire.
    pub fn questions(&self) -> impl Iterator<Item = (&Questionnaire, &Question)> {
        self.questionnaires
            .iter()
            .flat_map(|q| q.questions.iter().map(move |question| (q, question)))
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions()
            .map(|(_, question)| question)
            .find(|q| q.id == id)
    }

    pub fn cost(&self, id: &str) -> Option<&Cost> {
        self.costs.iter().find(|cost| cost.id == id)
    }

    /// The identity keys `applies_if` rules may use, with their field.
    fn keys(&self) -> BTreeMap<&str, Field> {
        self.questions()
            .filter_map(|(_, q)| Some((q.key.as_deref()?, q.field?)))
            .collect()
    }

    fn check(&self, files: &[(&str, &str)]) -> Result<(), String> {
        let mut ids = BTreeSet::new();
        let keys = self.keys();
        let cost_ids: BTreeSet<&str> = self.costs.iter().map(|c| c.id.as_str()).collect();
        for (file, questionnaire) in files
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| !is_costs(name))
            .zip(&self.questionnaires)
        {
            let stem = std::path::Path::new(file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if questionnaire.id != stem {
                return Err(format!(
                    "{file}, champ « id » : « {} » au lieu de « {stem} »",
                    questionnaire.id
                ));
            }
            let themes: BTreeSet<&str> =
                questionnaire.themes.iter().map(|t| t.id.as_str()).collect();
            for question in &questionnaire.questions {
                let fail = |field: &str, why: String| {
                    format!(
                        "{file}, question « {} », champ « {field} » : {why}",
                        question.id
                    )
                };
                if !is_id(&question.id) {
                    return Err(fail(
                        "id",
                        "lettres minuscules, chiffres, « _ » et « . » seulement".to_owned(),
                    ));
                }
                if !ids.insert(question.id.clone()) {
                    return Err(fail("id", "déjà utilisé par une autre question".to_owned()));
                }
                if !themes.contains(question.theme.as_str()) {
                    return Err(fail(
                        "theme",
                        format!("« {} » n'est pas un thème de ce fichier", question.theme),
                    ));
                }
                if questionnaire.audience == Audience::Provider
                    && questionnaire.kind == Kind::Scored
                    && question.requirement.trim().is_empty()
                {
                    return Err(fail(
                        "requirement",
                        "manquant : l'exigence à écrire dans un marché public (« Le titulaire … »)"
                            .to_owned(),
                    ));
                }
                match questionnaire.kind {
                    Kind::Identity => check_identity(question).map_err(|(f, why)| fail(f, why))?,
                    Kind::Scored => {
                        check_scored(question, &cost_ids).map_err(|(f, why)| fail(f, why))?
                    }
                }
                if let Some(rule) = &question.applies_if {
                    Rule::parse(rule, &keys).map_err(|why| fail("applies_if", why))?;
                }
            }
        }
        Ok(())
    }
}

/// The cost table's file (`couts.toml`, or a path ending so).
fn is_costs(name: &str) -> bool {
    std::path::Path::new(name)
        .file_name()
        .is_some_and(|n| n == "couts.toml")
}

fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
}

fn check_identity(question: &Question) -> Result<(), (&'static str, String)> {
    let Some(field) = question.field else {
        return Err((
            "type",
            "manquant : « number », « text », « yes_no » ou « choice »".to_owned(),
        ));
    };
    if question.scale.is_some() {
        return Err((
            "scale",
            "une question d'identité n'est pas notée".to_owned(),
        ));
    }
    if field == Field::Choice && question.options.len() < 2 {
        return Err(("options", "au moins deux options".to_owned()));
    }
    if let (Some(min), Some(max)) = (question.min, question.max)
        && min > max
    {
        return Err(("min", format!("{min} est plus grand que max ({max})")));
    }
    if let Some(key) = &question.key
        && !key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
    {
        return Err((
            "key",
            format!("« {key} » : lettres minuscules et « _ » seulement"),
        ));
    }
    Ok(())
}

fn check_scored(question: &Question, costs: &BTreeSet<&str>) -> Result<(), (&'static str, String)> {
    let Some(scale) = question.scale else {
        return Err((
            "scale",
            "manquant : « yes_no », « yes_partly_no » ou « levels »".to_owned(),
        ));
    };
    if question.measures.is_empty() {
        return Err((
            "measures",
            "au moins une mesure de l'ANSSI (1 à 42)".to_owned(),
        ));
    }
    if let Some(bad) = question.measures.iter().find(|m| !(1..=42).contains(*m)) {
        return Err(("measures", format!("{bad} n'est pas une mesure de 1 à 42")));
    }
    if !(1..=3).contains(&question.weight) {
        return Err((
            "weight",
            format!("{} au lieu de 1, 2 ou 3", question.weight),
        ));
    }
    match scale {
        Scale::Levels => {
            if !(2..=6).contains(&question.levels.len()) {
                return Err(("levels", "de 2 à 6 niveaux".to_owned()));
            }
            let values: Vec<f64> = question.levels.iter().map(|l| l.value).collect();
            if values.iter().any(|v| !(0.0..=1.0).contains(v)) {
                return Err(("levels", "chaque valeur est entre 0 et 1".to_owned()));
            }
            if values.windows(2).any(|pair| pair[0] <= pair[1]) {
                return Err((
                    "levels",
                    "du meilleur au moins bon : valeurs décroissantes".to_owned(),
                ));
            }
            if let Some(level) = question
                .levels
                .iter()
                .find(|l| !is_id(&l.id) || l.id == UNKNOWN || l.id == NOT_APPLICABLE)
            {
                return Err(("levels", format!("identifiant « {} » invalide", level.id)));
            }
        }
        _ if !question.levels.is_empty() => {
            return Err(("levels", "seulement avec scale = \"levels\"".to_owned()));
        }
        _ => {}
    }
    if question.action.trim().is_empty() {
        return Err((
            "action",
            "manquant : que faire si la réponse n'est pas « oui » ?".to_owned(),
        ));
    }
    if question.unknown && question.unknown_action.trim().is_empty() {
        return Err((
            "unknown_action",
            "manquant : que faire si personne ne sait ?".to_owned(),
        ));
    }
    if question.who.is_none() {
        return Err((
            "who",
            "manquant : « commune », « prestataire » ou « territoire »".to_owned(),
        ));
    }
    if question.effort.is_none() {
        return Err((
            "effort",
            "manquant : « faible », « moyen » ou « important »".to_owned(),
        ));
    }
    if let Some(cost) = &question.cost
        && !costs.contains(cost.as_str())
    {
        return Err(("cost", format!("« {cost} » n'est pas dans couts.toml")));
    }
    if question.field.is_some() {
        return Err(("type", "une question notée n'a pas de type".to_owned()));
    }
    Ok(())
}

/// An `applies_if` rule: `KEY OP NUMBER`, `KEY` or `not KEY`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    key: String,
    test: Test,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Test {
    Compare(Op, i64),
    Yes,
    No,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Rule {
    fn parse(text: &str, keys: &BTreeMap<&str, Field>) -> Result<Rule, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let (key, test) = match words.as_slice() {
            ["not", key] => (*key, Test::No),
            [key] => (*key, Test::Yes),
            [key, op, number] => {
                let op = match *op {
                    "<" => Op::Lt,
                    "<=" => Op::Le,
                    ">" => Op::Gt,
                    ">=" => Op::Ge,
                    "==" => Op::Eq,
                    "!=" => Op::Ne,
                    other => {
                        return Err(format!(
                            "opérateur « {other} » inconnu (<, <=, >, >=, ==, !=)"
                        ));
                    }
                };
                let number = number
                    .parse()
                    .map_err(|_| format!("« {number} » n'est pas un nombre entier"))?;
                (*key, Test::Compare(op, number))
            }
            _ => {
                return Err(format!(
                    "« {text} » : attendu « clé opérateur nombre », « clé » ou « not clé »"
                ));
            }
        };
        let expected = match test {
            Test::Compare(..) => Field::Number,
            Test::Yes | Test::No => Field::YesNo,
        };
        match keys.get(key) {
            None => Err(format!(
                "clé « {key} » inconnue (aucune question d'identité ne la définit)"
            )),
            Some(field) if *field != expected => Err(format!(
                "clé « {key} » : une question {} ne se compare pas ainsi",
                if *field == Field::Number {
                    "numérique"
                } else {
                    "oui/non ou à texte"
                }
            )),
            Some(_) => Ok(Rule {
                key: key.to_owned(),
                test,
            }),
        }
    }

    /// Whether the question applies, given the identity answers by key;
    /// an unanswered key applies (the question stays asked).
    fn holds(&self, facts: &BTreeMap<String, String>) -> bool {
        let Some(value) = facts.get(&self.key) else {
            return true;
        };
        match self.test {
            Test::Yes => value == "yes",
            Test::No => value == "no",
            Test::Compare(op, number) => {
                let Ok(value) = value.parse::<i64>() else {
                    return true;
                };
                match op {
                    Op::Lt => value < number,
                    Op::Le => value <= number,
                    Op::Gt => value > number,
                    Op::Ge => value >= number,
                    Op::Eq => value == number,
                    Op::Ne => value != number,
                }
            }
        }
    }
}

impl Book {
    /// The identity answers by key (`workstations` → `"12"`), from the
    /// answers by question id.
    pub fn facts(&self, answers: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        self.questions()
            .filter_map(|(_, q)| Some((q.key.clone()?, answers.get(&q.id)?.clone())))
            .collect()
    }

    /// Whether `question` applies to this commune (its rule holds on the
    /// identity answers). Rules were checked at load.
    pub fn applies(&self, question: &Question, facts: &BTreeMap<String, String>) -> bool {
        let Some(text) = &question.applies_if else {
            return true;
        };
        match Rule::parse(text, &self.keys()) {
            Ok(rule) => rule.holds(facts),
            Err(_) => true,
        }
    }

    /// Checks an answer to `question` as given by a form or the API; the
    /// error is the French message, naming the question.
    pub fn check_answer(&self, question: &Question, answer: &str) -> Result<(), String> {
        let refuse = |why: String| Err(format!("question « {} » : {why}", question.id));
        if question.is_scored() {
            if question.answers().iter().any(|a| a.id == answer) {
                return Ok(());
            }
            let ids: Vec<String> = question.answers().into_iter().map(|a| a.id).collect();
            return refuse(format!(
                "« {answer} » n'est pas une réponse possible ({})",
                ids.join(", ")
            ));
        }
        if answer.chars().count() > 2000 {
            return refuse("2 000 caractères au plus".to_owned());
        }
        match question.field {
            Some(Field::Number) => {
                let Ok(number) = answer.trim().parse::<i64>() else {
                    return refuse(format!("« {answer} » n'est pas un nombre entier"));
                };
                if question.min.is_some_and(|min| number < min)
                    || question.max.is_some_and(|max| number > max)
                {
                    return refuse(format!(
                        "{number} n'est pas entre {} et {}",
                        question.min.unwrap_or(i64::MIN),
                        question.max.unwrap_or(i64::MAX)
                    ));
                }
                Ok(())
            }
            Some(Field::YesNo) if answer != "yes" && answer != "no" => {
                refuse(format!("« {answer} » : « yes » ou « no »"))
            }
            Some(Field::Choice) if !question.options.iter().any(|o| o.id == answer) => {
                let ids: Vec<&str> = question.options.iter().map(|o| o.id.as_str()).collect();
                refuse(format!(
                    "« {answer} » n'est pas une option ({})",
                    ids.join(", ")
                ))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_questionnaires_are_valid() {
        let book = Book::built_in().unwrap();
        assert!(book.questionnaires.len() >= 3);
        // Every Standard measure is evidenced by some question.
        let covered: BTreeSet<u8> = book
            .questions()
            .flat_map(|(_, q)| q.measures.iter().copied())
            .collect();
        for measure in (1..=37).chain([39, 40]) {
            assert!(covered.contains(&measure), "measure {measure} not covered");
        }
    }

    const COSTS: &str = "version = \"1\"\n[[costs]]\nid = \"disque\"\nlabel = \"Disque\"\ninvestment = [100, 200]\nyearly = [0, 0]\nbuy = \"Un disque.\"\n";

    fn identity() -> String {
        "id = \"identite\"\nversion = \"1\"\ntitle = \"Identité\"\nkind = \"identity\"\naudience = \"commune\"\n\
         [[themes]]\nid = \"parc\"\ntitle = \"Parc\"\n\
         [[questions]]\nid = \"parc.serveurs\"\ntheme = \"parc\"\ntext = \"Serveurs ?\"\ntype = \"number\"\nmin = 0\nkey = \"servers\"\n"
            .to_owned()
    }

    fn scored(extra: &str) -> String {
        format!(
            "id = \"services\"\nversion = \"1\"\ntitle = \"Services\"\nkind = \"scored\"\naudience = \"commune\"\n\
             [[themes]]\nid = \"sauvegardes\"\ntitle = \"Sauvegardes\"\n\
             [[questions]]\nid = \"sauvegardes.hors_ligne\"\ntheme = \"sauvegardes\"\ntext = \"Hors ligne ?\"\n\
             measures = [37]\nweight = 3\nscale = \"yes_partly_no\"\naction = \"Faire.\"\nunknown_action = \"Demander.\"\n\
             who = \"prestataire\"\neffort = \"faible\"\n{extra}"
        )
    }

    fn parse(scored_text: &str) -> Result<Book, String> {
        Book::parse(&[
            ("identite.toml", &identity()),
            ("services.toml", scored_text),
            ("couts.toml", COSTS),
        ])
    }

    #[test]
    fn errors_name_the_file_the_question_and_the_field() {
        assert!(parse(&scored("cost = \"disque\"\napplies_if = \"servers > 0\"\n")).is_ok());
        for (extra, field, why) in [
            (
                "cost = \"nas\"\n",
                "cost",
                "« nas » n'est pas dans couts.toml",
            ),
            (
                "applies_if = \"postes > 3\"\n",
                "applies_if",
                "clé « postes » inconnue",
            ),
            (
                "applies_if = \"servers ~ 3\"\n",
                "applies_if",
                "opérateur « ~ » inconnu",
            ),
        ] {
            let error = parse(&scored(extra)).unwrap_err();
            assert!(
                error.starts_with(&format!(
                    "services.toml, question « sauvegardes.hors_ligne », champ « {field} » : "
                )),
                "{error}"
            );
            assert!(error.contains(why), "{error}");
        }
        let error = parse(&scored("").replace("weight = 3", "weight = 5")).unwrap_err();
        assert!(
            error.contains("champ « weight » : 5 au lieu de 1, 2 ou 3"),
            "{error}"
        );
        let error = parse(&scored("").replace("[37]", "[43]")).unwrap_err();
        assert!(error.contains("champ « measures » : 43"), "{error}");
        let error = parse(&scored("").replace("who = \"prestataire\"\n", "")).unwrap_err();
        assert!(error.contains("champ « who » : manquant"), "{error}");
        // A TOML mistake: the file and the line.
        let error = parse(&scored("").replace("weight = 3", "weight = ")).unwrap_err();
        assert!(error.starts_with("services.toml, ligne 14 : "), "{error}");
        // An unknown field is refused, not ignored.
        let error = parse(&scored("poids = 2\n")).unwrap_err();
        assert!(error.contains("poids"), "{error}");
    }

    #[test]
    fn answers_come_best_first_then_unknown_and_na() {
        let book = parse(&scored("")).unwrap();
        let question = book.question("sauvegardes.hors_ligne").unwrap();
        let ids: Vec<String> = question.answers().into_iter().map(|a| a.id).collect();
        assert_eq!(ids, ["yes", "partly", "no", "unknown", "na"]);
        assert_eq!(question.value_of("partly"), Some(0.5));
        assert_eq!(question.value_of("unknown"), None);
        assert!(book.check_answer(question, "peut-être").is_err());
        let servers = book.question("parc.serveurs").unwrap();
        assert!(book.check_answer(servers, "3").is_ok());
        let error = book.check_answer(servers, "-1").unwrap_err();
        assert!(error.contains("question « parc.serveurs »"), "{error}");
    }

    #[test]
    fn a_rule_makes_a_question_not_applicable() {
        let book = parse(&scored("applies_if = \"servers > 0\"\n")).unwrap();
        let question = book.question("sauvegardes.hors_ligne").unwrap();
        let facts = |n: &str| {
            book.facts(&BTreeMap::from([(
                "parc.serveurs".to_owned(),
                n.to_owned(),
            )]))
        };
        assert!(!book.applies(question, &facts("0")));
        assert!(book.applies(question, &facts("2")));
        assert!(book.applies(question, &BTreeMap::new()));
    }
}
