//! The campaign's deliverable, in French, as a PDF (through the document
//! engine, `documents/resultats-campagne.typ`) and as a page: what was
//! sent, what happened, what it means, the three things to do next, and
//! the links to the e-learning. Made from the figures alone, so it is the
//! same before and after the purge.
//!
//! What it must never do: name a person or rank people (the figures are
//! totals, by role and by scenario).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Serialize;

use super::results::{Figures, Summary};
use super::store::{self, Campaign};
use super::targets::Role;
use super::visible_campaign;
use crate::accounts::Caller;
use crate::db::now_ms;
use crate::fr;
use crate::web::{Chrome, render};
use crate::{AppError, AppState};

/// Everything the deliverable says, ready to print.
#[derive(Clone, Debug, Serialize)]
pub struct Deliverable {
    pub title: String,
    pub commune: String,
    pub code: String,
    pub dates: String,
    pub sent_summary: String,
    /// Rows: label, sent, opened, clicked, submitted (rates in brackets).
    pub rows: Vec<[String; 5]>,
    pub scenarios: Vec<[String; 5]>,
    pub scanners: String,
    pub meaning: Vec<String>,
    pub actions: Vec<String>,
    pub elearning: String,
    pub privacy: String,
    pub date: String,
}

fn n(value: u64) -> String {
    fr::number(i64::try_from(value).unwrap_or(i64::MAX))
}

fn row(label: &str, f: &Figures) -> [String; 5] {
    let cell = |v: u64| format!("{} ({})", n(v), fr::percent(f.rate(v)));
    [
        label.to_owned(),
        n(f.sent),
        cell(f.opened),
        cell(f.clicked),
        cell(f.submitted),
    ]
}

impl Deliverable {
    pub fn of(
        campaign: &Campaign,
        commune_name: &str,
        summary: &Summary,
        scenario_title: impl Fn(&str) -> String,
        public_url: &str,
    ) -> Deliverable {
        let total = &summary.total;
        let mut rows = vec![row("Ensemble", total)];
        for (role, figures) in &summary.by_role {
            let label =
                Role::parse(role).map_or_else(|| role.clone(), |r| r.heading_fr().to_owned());
            rows.push(row(&label, figures));
        }
        let scenarios = summary
            .by_scenario
            .iter()
            .map(|(id, f)| row(&scenario_title(id), f))
            .collect();
        let dates = fr::day_range(campaign.start, campaign.end);
        Deliverable {
            title: "Résultats de la campagne de sensibilisation à l'hameçonnage".to_owned(),
            commune: commune_name.to_owned(),
            code: campaign.commune.clone(),
            sent_summary: sent_summary(
                total,
                &dates,
                &campaign
                    .scenarios
                    .iter()
                    .map(|s| scenario_title(s))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            dates,
            rows,
            scenarios,
            scanners: scanners_sentence(total.scanner_clicks),
            meaning: meaning(summary),
            actions: actions(summary, campaign, public_url),
            elearning: format!("{public_url}/communes/{}/formation", campaign.commune),
            privacy: match campaign.purged_at {
                Some(at) => format!(
                    "Les adresses et le détail des événements ont été effacés le {} ; ce document ne contient que des chiffres d'ensemble.",
                    fr::date_at(at)
                ),
                None => format!(
                    "Les adresses et le détail des événements seront effacés le {} ; ce document ne contient que des chiffres d'ensemble.",
                    fr::long_date(campaign.purge_due_at)
                ),
            },
            date: fr::day_long(crate::cybermeteo::today()),
        }
    }
}

/// What was sent, to whom, on which models: « 6 courriels d'exercice
/// envoyés du 3 au 14 mars 2026 à 6 personnes de la mairie… ».
fn sent_summary(total: &Figures, dates: &str, titles: &str) -> String {
    let models = format!("sur le modèle de courriels piégés que reçoivent les mairies : {titles}");
    let sent = fr::plural(
        i64::try_from(total.sent).unwrap_or(i64::MAX),
        "courriel d'exercice envoyé",
        "courriels d'exercice envoyés",
    );
    if total.sent == 0 {
        format!(
            "Aucun courriel d'exercice n'est encore parti : {} de la mairie (agents et élus) le {} {dates}, {models}.",
            fr::plural(
                i64::try_from(total.targets).unwrap_or(i64::MAX),
                "personne",
                "personnes"
            ),
            if total.targets > 1 {
                "recevront"
            } else {
                "recevra"
            },
        )
    } else if total.sent < total.targets {
        format!(
            "{sent} sur {} prévus {dates}, aux agents et aux élus de la mairie, {models}.",
            n(total.targets)
        )
    } else {
        format!(
            "{sent} {dates} à {} de la mairie (agents et élus), {models}.",
            fr::plural(
                i64::try_from(total.targets).unwrap_or(i64::MAX),
                "personne",
                "personnes"
            ),
        )
    }
}

/// The mail scanners' fetches set aside, in a sentence that agrees with
/// their number.
pub(super) fn scanners_sentence(fetches: u64) -> String {
    match fetches {
        0 => "Aucun antivirus de messagerie n'a ouvert le lien avant les destinataires : \
              chaque clic compté est celui d'une personne."
            .to_owned(),
        1 => "1 ouverture du lien par un antivirus de messagerie, qui vérifie les liens avant \
              tout le monde, a été mise de côté : elle ne compte pas comme un clic."
            .to_owned(),
        more => format!(
            "{} ouvertures du lien par les antivirus de messagerie, qui vérifient les liens \
             avant tout le monde, ont été mises de côté : elles ne comptent pas comme des clics.",
            n(more)
        ),
    }
}

/// What the figures mean, in plain words.
fn meaning(summary: &Summary) -> Vec<String> {
    let total = &summary.total;
    if total.sent == 0 {
        return vec![
            "Aucun courriel n'est encore parti : les résultats viendront avec les premiers envois."
                .to_owned(),
        ];
    }
    let clicked = total.rate(total.clicked);
    let mut out = vec![if clicked < 10.0 {
        format!(
            "{} des destinataires ont cliqué : la vigilance est bonne. Les campagnes suivantes le confirmeront, avec des pièges plus difficiles.",
            fr::percent(clicked)
        )
    } else if clicked < 25.0 {
        format!(
            "{} des destinataires ont cliqué : c'est courant pour une première campagne, et c'est assez pour qu'un vrai pirate entre dans la mairie.",
            fr::percent(clicked)
        )
    } else {
        format!(
            "{} des destinataires ont cliqué : un courriel piégé a toutes les chances de réussir aujourd'hui. C'est le point à travailler en premier.",
            fr::percent(clicked)
        )
    }];
    if total.submitted > 0 {
        out.push(format!(
            "{} saisi un mot de passe sur la fausse page : dans une vraie attaque, ces comptes seraient entre les mains du pirate (courriels, logiciels métier, données des habitants).",
            fr::plural(
                i64::try_from(total.submitted).unwrap_or(i64::MAX),
                "personne a",
                "personnes ont"
            )
        ));
    } else {
        out.push("Personne n'a saisi de mot de passe sur la fausse page : c'est le geste qui compte le plus.".to_owned());
    }
    if let (Some(agents), Some(elected)) =
        (summary.by_role.get("agent"), summary.by_role.get("elu"))
        && elected.sent > 0
        && agents.sent > 0
        && elected.rate(elected.clicked) > agents.rate(agents.clicked)
    {
        {
            out.push("Les élus ont davantage cliqué que les agents : leur adresse est publique et souvent visée ; ils sont concernés au premier chef.".to_owned());
        }
    }
    out
}

/// The three things to do next, chosen from the figures.
fn actions(summary: &Summary, campaign: &Campaign, public_url: &str) -> Vec<String> {
    let total = &summary.total;
    let first = if total.submitted > 0 {
        "Activer la double authentification sur la messagerie de la mairie et faire changer les mots de passe saisis ou réutilisés ailleurs.".to_owned()
    } else {
        "Rappeler la règle d'or : ne jamais saisir son mot de passe sur une page ouverte depuis un courriel ; passer par l'adresse habituelle du service.".to_owned()
    };
    vec![
        first,
        format!(
            "Faire suivre à chaque agent et élu les modules « Hameçonnage » et « Mots de passe » de la formation en ligne : {public_url}/communes/{}/formation (un quart d'heure chacun).",
            campaign.commune
        ),
        "Désigner à qui transférer un courriel douteux (la secrétaire de mairie, ou le prestataire informatique), le dire à tous, et remercier chaque signalement : c'est lui qui arrête une vraie attaque.".to_owned(),
    ]
}

async fn deliverable(state: &AppState, caller: &Caller, id: &str) -> Result<Deliverable, AppError> {
    let campaign = visible_campaign(state, caller, id).await?;
    state.tracker.flush(&state.db, now_ms()).await?;
    let summary = store::summary(&state.db, &campaign).await?;
    let commune = crate::territory::commune(&state.db, &campaign.commune)
        .await?
        .ok_or(AppError::NotFound)?;
    let library = state.settings.scenarios.clone();
    Ok(Deliverable::of(
        &campaign,
        &commune.name,
        &summary,
        |id| {
            library
                .get(id)
                .map_or_else(|| id.to_owned(), |s| s.title.clone())
        },
        &state.settings.public_url,
    ))
}

/// `GET /campaigns/{campaign}/results.pdf`.
pub(super) async fn pdf(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let view = deliverable(&state, &caller, &id).await?;
    let name = format!("resultats-campagne-{}.pdf", view.code);
    let bytes = state
        .render_pdf("resultats-campagne.typ", view, chrono::Utc::now())
        .await?;
    Ok(crate::web::pdf(bytes, &name))
}

#[derive(Template)]
#[template(path = "phishing/results.html")]
struct ResultsPage {
    chrome: Chrome,
    id: String,
    view: Deliverable,
}

/// `GET /campagnes/{campaign}/resultats`: the same, as a page.
pub(super) async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let view = deliverable(&state, &caller, &id).await?;
    render(&ResultsPage {
        chrome: Chrome::new(format!("Résultats — {}", view.commune), Some(&caller)),
        id,
        view,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(targets: u64, sent: u64) -> Figures {
        Figures {
            targets,
            sent,
            ..Figures::default()
        }
    }

    fn check(total: Figures, expected: &str) {
        assert_eq!(
            sent_summary(&total, "du 3 au 14 mars 2026", "Colis en attente"),
            format!(
                "{expected}, sur le modèle de courriels piégés que reçoivent les mairies : Colis en attente."
            )
        );
    }

    #[test]
    fn what_was_sent_agrees_with_its_numbers() {
        check(
            figures(6, 6),
            "6 courriels d'exercice envoyés du 3 au 14 mars 2026 à 6 personnes de la mairie (agents et élus)",
        );
        check(
            figures(1, 1),
            "1 courriel d'exercice envoyé du 3 au 14 mars 2026 à 1 personne de la mairie (agents et élus)",
        );
        check(
            figures(6, 2),
            "2 courriels d'exercice envoyés sur 6 prévus du 3 au 14 mars 2026, aux agents et aux élus de la mairie",
        );
        check(
            figures(6, 0),
            "Aucun courriel d'exercice n'est encore parti : 6 personnes de la mairie (agents et élus) le recevront du 3 au 14 mars 2026",
        );
        assert!(scanners_sentence(1).starts_with("1 ouverture du lien par un antivirus"));
        assert!(scanners_sentence(2).contains("ont été mises de côté"));
    }
}
