//! "Whom to help first": for a commune's assessment, the factor that
//! weighs most, the one concrete thing to do next (from the probe's top
//! ten, the audit's top five, or the path to propose when there is no
//! audit yet), and whether the commune may sign awareness path 2.
//!
//! What it must never do: invent an action the data does not support: an
//! action names the finding or the shortcoming it comes from, or says
//! plainly what is missing.

use super::factors::{self, Kind};
use super::gather::Assessment;
use super::rules::Rules;
use crate::agreements::{Applicant, eligibility};
use crate::{AppError, AppState};

/// The offer proposed to a commune without an audit.
pub const PATH_OFFER: &str = "awareness_2";

/// What to do next for one commune.
#[derive(Clone, Debug)]
pub struct NextStep {
    pub driver: Option<Kind>,
    /// One sentence, in French.
    pub action: String,
    /// Where to act: (address, words).
    pub link: Option<(String, String)>,
    pub path: PathEligibility,
}

/// Awareness path 2 for this commune.
#[derive(Clone, Debug)]
pub struct PathEligibility {
    pub eligible: bool,
    /// « Éligible : le parcours 2 peut être signé… » or the refusal.
    pub sentence: String,
}

impl NextStep {
    pub fn driver_label(&self) -> &'static str {
        self.driver.map_or("aucun facteur connu", Kind::label)
    }
}

/// The next step for `a`.
pub async fn next_step(
    state: &AppState,
    rules: &Rules,
    a: &Assessment,
) -> Result<NextStep, AppError> {
    let driver = factors::main_driver(rules, &a.factors);
    let code = a.commune.code;
    let path = eligibility(state, a);
    let propose = || {
        (
            "Pas encore de pré-diagnostic : proposer le parcours de sensibilisation, qui le comprend."
                .to_owned(),
            Some((
                if path.eligible {
                    format!("/conventions/nouvelle?commune={code}&offre={PATH_OFFER}")
                } else {
                    "/offres".to_owned()
                },
                "Proposer le parcours".to_owned(),
            )),
        )
    };
    let (action, link) = if a.outbound > 0 {
        (
            "Isoler la machine de la mairie qui contacte une adresse malveillante, puis appeler \
             l'équipe du territoire : un kit de crise peut être prêté."
                .to_owned(),
            Some((format!("/communes/{code}"), "Voir les alertes".to_owned())),
        )
    } else if let (Some(Kind::Exposure), Some(scan)) = (driver, a.scan_id) {
        let report = crate::probes::document(&state.db, scan).await?;
        match report.top.first() {
            Some(first) => (
                format!("« {} » : {}", first.title, first.recommendation),
                Some((
                    format!("/sondes/{scan}"),
                    "Le rapport de la sonde".to_owned(),
                )),
            ),
            None => (
                "Relancer un scan de la sonde réseau.".to_owned(),
                Some((format!("/communes/{code}/sonde"), "La sonde".to_owned())),
            ),
        }
    } else if a.audit_id.is_none() {
        propose()
    } else if let (Some(Kind::Maturity), Some(id)) = (driver, &a.audit_id) {
        audit_action(state, id).await?
    } else if driver == Some(Kind::Human) {
        (
            "Programmer un exercice d'hameçonnage et partager le lien des modules de formation \
             avec les agents et les élus."
                .to_owned(),
            Some((
                format!("/communes/{code}/formation"),
                "La formation".to_owned(),
            )),
        )
    } else if driver == Some(Kind::Pressure) {
        (
            "Regarder les attaques reçues et appliquer les conseils de la cybermétéo \
             (accès à distance, mots de passe)."
                .to_owned(),
            Some((format!("/communes/{code}"), "La cybermétéo".to_owned())),
        )
    } else if let Some(id) = &a.audit_id {
        audit_action(state, id).await?
    } else {
        propose()
    };
    Ok(NextStep {
        driver,
        action,
        link,
        path,
    })
}

/// The audit's first shortcoming, ranked as the dossier ranks it.
async fn audit_action(
    state: &AppState,
    id: &str,
) -> Result<(String, Option<(String, String)>), AppError> {
    let link = Some((format!("/audits/{id}"), "Le pré-diagnostic".to_owned()));
    let Some(audit) = crate::audits::store::get(&state.db, id).await? else {
        return Ok(("Reprendre le pré-diagnostic.".to_owned(), link));
    };
    let report = crate::audits::Report::of(state, &audit, crate::db::now_ms()).await?;
    Ok(match report.top().first() {
        Some(first) => (first.action.clone(), link),
        None => (
            "Aucun manque relevé : programmer le suivi du pré-diagnostic.".to_owned(),
            link,
        ),
    })
}

/// Whether the commune may sign awareness path 2, by the offer's rule.
fn eligibility(state: &AppState, a: &Assessment) -> PathEligibility {
    let Some(offer) = state.settings.offers.get(PATH_OFFER) else {
        return PathEligibility {
            eligible: false,
            sentence: "Le parcours 2 n'est pas au catalogue du territoire.".to_owned(),
        };
    };
    match eligibility::check(offer, &Applicant::commune(&a.commune)) {
        Ok(()) => PathEligibility {
            eligible: true,
            sentence: format!(
                "Éligible : {} peut être signé par la commune.",
                offer.short_name
            ),
        },
        Err(refusal) => PathEligibility {
            eligible: false,
            sentence: refusal.0,
        },
    }
}
