//! The commune page's word on its phishing-awareness campaigns: where the
//! last one stands and how many people clicked, in a sentence a mayor
//! reads at a glance, and what to do next (ask the territory's team for
//! one when there is none).
//!
//! What it must never do: show anything but the commune's own figures
//! (the caller's page is already one it may see), or a person.

use chrono::NaiveDate;

use super::results::Figures;
use super::store::{self, Campaign, Status};
use crate::db::now_ms;
use crate::fr;
use crate::{AppError, AppState};

/// A campaign older than this (its last day, in days) calls for the next.
const STALE_AFTER_DAYS: i64 = 180;

/// A link and its words.
#[derive(Clone, Debug)]
pub struct Link {
    pub href: String,
    pub label: &'static str,
}

/// What the commune page says about the commune's campaigns.
#[derive(Clone, Debug)]
pub struct CommuneOverview {
    /// The last campaign in a sentence, or that there is none.
    pub sentence: String,
    /// What to do now.
    pub next: String,
    /// The last campaign's results page, once it has figures.
    pub results: Option<Link>,
    /// The staff may prepare one from there.
    pub can_create: bool,
}

/// The overview of `commune`'s campaigns for a caller who may see it.
pub async fn of_commune(
    state: &AppState,
    commune: &str,
    can_create: bool,
) -> Result<CommuneOverview, AppError> {
    let campaigns = store::list(&state.db, Some(commune)).await?;
    let Some(last) = campaigns.first() else {
        return Ok(CommuneOverview {
            sentence: "Aucune campagne d'exercice pour l'instant. Un exercice envoie aux agents \
                       et aux élus un faux courriel piégé, comme ceux que reçoivent les mairies : \
                       chacun apprend sans risque à le reconnaître, et la mairie voit où elle en \
                       est, sans qu'aucun nom ne soit cité."
                .to_owned(),
            next: "Demandez à l'équipe du territoire une campagne d'exercice : elle la prépare \
                   avec vous à partir de la liste des adresses de la mairie."
                .to_owned(),
            results: None,
            can_create,
        });
    };
    state.tracker.flush(&state.db, now_ms()).await?;
    let figures = store::summary(&state.db, last).await?.total;
    let status = last.status(chrono::Utc::now(), figures.sent);
    Ok(CommuneOverview {
        sentence: sentence(last, status, &figures),
        next: next(last, status, crate::cybermeteo::today()),
        results: results_link(last, status),
        can_create,
    })
}

/// The results page of the campaign, once its first mails have left.
fn results_link(campaign: &Campaign, status: Status) -> Option<Link> {
    let label = match status {
        Status::Scheduled => return None,
        Status::Running => "Les résultats jusqu'ici",
        Status::Ended | Status::Purged => "Les résultats de la dernière campagne",
    };
    Some(Link {
        href: format!("/campagnes/{}/resultats", campaign.id),
        label,
    })
}

/// Where the last campaign stands, in words.
fn sentence(campaign: &Campaign, status: Status, figures: &Figures) -> String {
    let dates = fr::day_range(campaign.start, campaign.end);
    match status {
        Status::Scheduled => format!(
            "Une campagne d'exercice est programmée {dates} : {} {} un faux courriel piégé.",
            fr::plural(count(figures.targets), "personne", "personnes"),
            if figures.targets > 1 {
                "recevront"
            } else {
                "recevra"
            },
        ),
        Status::Running => format!(
            "Une campagne d'exercice est en cours, {dates} : pour l'instant, {}.",
            what_happened(figures)
        ),
        Status::Ended | Status::Purged => format!(
            "La dernière campagne d'exercice, {dates}, est terminée : {}.",
            what_happened(figures)
        ),
    }
}

/// « 2 personnes sur 6 ont cliqué sur le lien piégé (33 %), dont 1 a
/// saisi son mot de passe ».
fn what_happened(figures: &Figures) -> String {
    if figures.clicked == 0 {
        return format!(
            "personne n'a cliqué sur le lien piégé ({} envoyé{})",
            fr::plural(count(figures.sent), "courriel", "courriels"),
            if figures.sent > 1 { "s" } else { "" }
        );
    }
    let clicked = format!(
        "{} sur {} {} cliqué sur le lien piégé ({})",
        fr::plural(count(figures.clicked), "personne", "personnes"),
        fr::number(count(figures.sent)),
        if figures.clicked > 1 { "ont" } else { "a" },
        fr::percent(figures.rate(figures.clicked))
    );
    match figures.submitted {
        0 => format!("{clicked}, et personne n'a saisi de mot de passe"),
        1 => format!("{clicked}, dont 1 a saisi son mot de passe"),
        n => format!(
            "{clicked}, dont {} ont saisi leur mot de passe",
            fr::number(count(n))
        ),
    }
}

/// What the town hall should do now.
fn next(campaign: &Campaign, status: Status, today: NaiveDate) -> String {
    match status {
        Status::Scheduled => "N'en parlez pas autour de vous : l'exercice doit rester une surprise. \
                              Si un agent vous signale le courriel, félicitez-le : c'est le bon réflexe."
            .to_owned(),
        Status::Running => format!(
            "Laissez l'exercice se dérouler jusqu'au {}. Si un agent vous signale le courriel, \
             félicitez-le : c'est le bon réflexe.",
            fr::day_long(campaign.end)
        ),
        _ if (today - campaign.end).num_days() > STALE_AFTER_DAYS => {
            "Cette campagne date de plus de six mois : demandez à l'équipe du territoire une \
             nouvelle campagne d'exercice pour mesurer les progrès."
                .to_owned()
        }
        _ => "Présentez les résultats aux agents et aux élus, avec les trois actions \
              recommandées ; une nouvelle campagne dans six mois mesurera les progrès."
            .to_owned(),
    }
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(figures: Figures, expected: &str) {
        assert_eq!(what_happened(&figures), expected);
    }

    #[test]
    fn what_happened_reads_as_french() {
        let sent = |clicked, submitted| Figures {
            targets: 6,
            sent: 6,
            opened: 3,
            clicked,
            submitted,
            scanner_clicks: 0,
        };
        check(
            sent(0, 0),
            "personne n'a cliqué sur le lien piégé (6 courriels envoyés)",
        );
        check(
            sent(1, 0),
            "1 personne sur 6 a cliqué sur le lien piégé (17\u{202f}%), et personne n'a saisi de mot de passe",
        );
        check(
            sent(2, 1),
            "2 personnes sur 6 ont cliqué sur le lien piégé (33\u{202f}%), dont 1 a saisi son mot de passe",
        );
        check(
            sent(3, 2),
            "3 personnes sur 6 ont cliqué sur le lien piégé (50\u{202f}%), dont 2 ont saisi leur mot de passe",
        );
    }
}
