//! The probe's scope file for a commune, prefilled for the staff
//! (`/communes/{code}/sonde/perimetre.toml`, issue 16): the commune's code
//! and name, the agents its latest pre-audit's identity sheet names
//! (`commune.agents_comptes`: the probe tries their usual accounts,
//! `prenom.nom` and `pnom`), and commented placeholders for what the
//! agreement sets (the networks, the exclusions, the period) and what the
//! observatory does not know (the postcode). `vigie probe --scope` reads
//! it once the operator has filled the placeholders.
//!
//! What it must never do: keep the agents' names anywhere (they stay in
//! the pre-audit's answers, read at each download), hand them to anyone
//! but the staff, or write a line the probe's parser would take for
//! something else (every value is a TOML string it escapes).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::accounts::{Staff, VisibleCommune};
use crate::territory::Commune;
use crate::{AppError, AppState};

/// The identity question that lists the agents who have an account.
pub const AGENTS_QUESTION: &str = "commune.agents_comptes";
/// Agents written at most: a town hall has a few; the probe tries two
/// accounts for each, within each one's budget.
pub const MAX_AGENTS: usize = 50;
/// A longer line is no « prénom nom ».
const MAX_NAME_CHARS: usize = 80;

/// `GET /communes/{code}/sonde/perimetre.toml`, the staff only.
pub(super) async fn download(
    State(state): State<AppState>,
    _staff: Staff,
    VisibleCommune(commune): VisibleCommune,
) -> Result<Response, AppError> {
    let answer =
        crate::audits::store::latest_answer(&state.db, &commune.code, AGENTS_QUESTION).await?;
    let agents = agent_names(answer.as_deref().unwrap_or_default());
    let text = scope_file(&commune, &agents);
    let name = format!("perimetre-{}.toml", commune.code);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/toml; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        text,
    )
        .into_response())
}

/// The names of an answer to [`AGENTS_QUESTION`]: one « prénom nom » a
/// line, what follows a comma, a parenthesis or a dash between spaces
/// (« Marie Dupont (secrétaire) ») left out, letters, spaces, hyphens and
/// apostrophes kept; lines without a first and a last name skipped; each
/// once, at most [`MAX_AGENTS`].
pub fn agent_names(answer: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for line in answer.lines() {
        let line = line
            .split([',', '(', ';', ':', '\t'])
            .next()
            .unwrap_or_default();
        let line = line.split(" - ").next().unwrap_or_default();
        let kept: String = line
            .chars()
            .filter(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '’'))
            .collect();
        let name = kept.split_whitespace().collect::<Vec<_>>().join(" ");
        let whole = name.split(' ').count() >= 2;
        if whole && name.chars().count() <= MAX_NAME_CHARS && !names.contains(&name) {
            names.push(name);
        }
        if names.len() == MAX_AGENTS {
            break;
        }
    }
    names
}

/// The scope file for `commune` and its `agents`.
pub fn scope_file(commune: &Commune, agents: &[String]) -> String {
    let quoted = |text: &str| toml::Value::String(text.to_owned()).to_string();
    let agents_line = if agents.is_empty() {
        "# agents = [\"Marie Dupont\", \"Jean Martin\"]  (aucun agent nommé par la fiche \
         d'identité du pré-audit)"
            .to_owned()
    } else {
        let list: Vec<String> = agents.iter().map(|a| quoted(a)).collect();
        format!("agents = [{}]", list.join(", "))
    };
    format!(
        "# Périmètre de la sonde réseau pour {name} ({code}), préparé par l'observatoire.\n\
         # À compléter avec la convention avant `vigie probe --scope {file}` :\n\
         # les réseaux autorisés, les exclusions et la période de scan.\n\
         \n\
         commune = {code_toml}\n\
         name = {name_toml}\n\
         # Le code postal de la mairie (l'observatoire ne le connaît pas) : il\n\
         # donne des mots de passe à essayer comme « mairie42000 ».\n\
         # postcode = \"00000\"\n\
         \n\
         # Les agents qui ont un compte, d'après la fiche d'identité du dernier\n\
         # pré-audit : la sonde essaie leurs comptes usuels (prenom.nom, pnom).\n\
         # Données personnelles : ce fichier ne sert qu'au passage de la sonde,\n\
         # supprimez-le ensuite.\n\
         {agents_line}\n\
         \n\
         # Les réseaux que la convention autorise (notation CIDR ou adresses\n\
         # seules), 65 536 adresses au plus ; adresses publiques refusées sauf\n\
         # allow_public = true.\n\
         # networks = [\"192.168.1.0/24\"]\n\
         \n\
         # Les adresses jamais contactées (la box internet, un appareil fragile…).\n\
         # exclude = [\"192.168.1.1\"]\n\
         \n\
         # « polite » (par défaut) ou « normal ».\n\
         intensity = \"polite\"\n\
         \n\
         # La période de scan de la convention, jours inclus.\n\
         # [period]\n\
         # start = 2026-03-02\n\
         # end = 2026-03-13\n",
        // In a comment: one line, whatever the referential holds.
        name = commune
            .name
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>(),
        code = commune.code,
        file = format_args!("perimetre-{}.toml", commune.code),
        code_toml = quoted(commune.code.as_str()),
        name_toml = quoted(&commune.name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_one_a_line_cleaned_and_bounded() {
        let answer = "Marie-Hélène Le Gall\r\n  jean   MARTIN (secrétaire)\nPaul\n\
                      Anne-Sophie d'Arc, accueil\nMarie-Hélène Le Gall\n\n\
                      Luc Petit - comptabilité\n\"]\nnetworks = [\"0.0.0.0/0\"]\n";
        assert_eq!(
            agent_names(answer),
            [
                "Marie-Hélène Le Gall",
                "jean MARTIN",
                "Anne-Sophie d'Arc",
                "Luc Petit"
            ]
        );
        let many: String = (0..26 * 26)
            .map(|i| {
                let letter = |n: usize| char::from(b'a' + (n % 26) as u8);
                format!("Agent {}{}\n", letter(i / 26), letter(i))
            })
            .collect();
        assert_eq!(agent_names(&many).len(), MAX_AGENTS);
        assert!(agent_names(&"Jean ".repeat(100)).is_empty());
        assert!(agent_names("").is_empty());
    }

    #[test]
    fn the_file_is_toml_whatever_the_names() {
        let commune = Commune {
            code: crate::territory::CommuneCode::parse("42218").unwrap(),
            name: "Saint-\"Étienne\"\nnetworks = [\"0.0.0.0/0\"]".to_owned(),
            departement: "42".to_owned(),
            population: 0,
            epci: None,
            email: None,
            phone: None,
            website: None,
        };
        let agents = ["Jeanne d'Arc".to_owned(), "Luc Petit".to_owned()];
        let text = scope_file(&commune, &agents);
        let table: toml::Table = text.parse().unwrap();
        assert_eq!(table["name"].as_str(), Some(commune.name.as_str()));
        assert_eq!(table["commune"].as_str(), Some("42218"));
        let written: Vec<&str> = table["agents"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        assert_eq!(written, ["Jeanne d'Arc", "Luc Petit"]);
        assert!(!table.contains_key("networks"));
        let none: toml::Table = scope_file(&commune, &[]).parse().unwrap();
        assert!(!none.contains_key("agents"));
    }
}
