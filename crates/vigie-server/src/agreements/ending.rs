//! What the end of an agreement triggers (issue 12): once its last day
//! has passed, each of its offer's end actions is recorded as due the
//! day after (`agreement_end_actions`), with a history line and a
//! journal line. The platform does at once what it can do itself: the
//! commune's phishing campaigns not yet purged are purged (the existing
//! purge, which keeps only the aggregate figures), and that action is
//! marked done. The others (the box to uninstall, devices and kit items
//! to take back, the data returned or destroyed as the commune chose)
//! stay to do until the staff mark them done. Run by the `agreements.end`
//! job.
//!
//! What it must never do: record an action before the agreement's end
//! has passed, record one twice (the table's key, whichever replica
//! runs), or purge a campaign of another commune.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::calendar::Scope;
use super::offers::EndAction;
use super::store::{self, Change, DataAtEnd};
use crate::accounts::audit;
use crate::db::{Db, now_ms};
use crate::{AppError, AppState};

/// The most end actions a calendar reads at once.
const MAX_RECORDED: i64 = 10_000;

/// An end action as recorded, with what the calendar needs of its
/// agreement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub agreement: String,
    pub commune: String,
    pub offer: String,
    pub data_at_end: Option<DataAtEnd>,
    pub action: String,
    pub due_on: NaiveDate,
    pub done_at: Option<i64>,
}

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndSummary {
    /// End actions recorded.
    pub recorded: usize,
    /// Campaigns purged.
    pub campaigns_purged: usize,
}

/// An end action as a calendar or a history line says it, with the
/// commune's choice for its data.
pub fn label(action: EndAction, data_at_end: Option<DataAtEnd>) -> &'static str {
    match (action, data_at_end) {
        (EndAction::ReturnOrDestroyData, Some(DataAtEnd::Return)) => {
            "Restituer ses données à la commune, comme elle l'a demandé"
        }
        (EndAction::ReturnOrDestroyData, Some(DataAtEnd::Destroy)) => {
            "Détruire les données de la commune, comme elle l'a demandé"
        }
        (EndAction::ReturnOrDestroyData, Some(DataAtEnd::Archive)) => {
            "Archiver les données de la commune selon ses instructions"
        }
        (action, _) => action.label(),
    }
}

/// Records the end actions of every agreement whose end has passed on
/// `today`, and does those the platform does itself.
pub async fn run(state: &AppState, today: NaiveDate) -> Result<EndSummary, AppError> {
    let mut summary = EndSummary::default();
    // `store::all` is bounded (`LIST_LIMIT`).
    for agreement in store::all(&state.db).await? {
        let Some(offer) = state.settings.offers.get(&agreement.offer) else {
            continue;
        };
        if offer.end_actions.is_empty() {
            continue;
        }
        let facts = store::effective_facts(&state.db, &state.settings.offers, &agreement).await?;
        let Ok(schedule) = super::dates::schedule(offer, &facts, today) else {
            continue;
        };
        let Some(ends_on) = schedule.ends_on.filter(|end| *end < today) else {
            continue;
        };
        let due_on = ends_on.succ_opt().unwrap_or(ends_on);
        for action in &offer.end_actions {
            if !store::oblige(&state.db, &agreement.id, *action, due_on).await? {
                continue;
            }
            summary.recorded += 1;
            let what = label(*action, agreement.data_at_end);
            let detail = format!("Fin de la convention : à faire — {what}.");
            store::change(
                &state.db,
                &agreement.id,
                &Change::note(None, "end_action", &detail),
                now_ms(),
            )
            .await?;
            audit(
                &state.db,
                None,
                "agreement_end_action",
                &format!(
                    "agreement {} of commune {}: {} due {due_on}",
                    agreement.id,
                    agreement.commune,
                    action.id()
                ),
            )
            .await;
        }
        if offer.end_actions.contains(&EndAction::PurgeCampaigns) {
            summary.campaigns_purged += purge_campaigns(state, &agreement).await?;
        }
    }
    Ok(summary)
}

/// Purges the commune's campaigns not yet purged and marks the action
/// done, if it is still to do; the campaigns purged.
async fn purge_campaigns(
    state: &AppState,
    agreement: &store::Agreement,
) -> Result<usize, AppError> {
    let pending = store::end_actions(&state.db, &agreement.id)
        .await?
        .into_iter()
        .any(|row| row.action() == Some(EndAction::PurgeCampaigns) && row.done_at.is_none());
    if !pending {
        return Ok(0);
    }
    let campaigns = crate::phishing::store::list(&state.db, Some(&agreement.commune)).await?;
    let mut purged = 0;
    for campaign in campaigns.iter().filter(|c| c.purged_at.is_none()) {
        if campaign.commune != agreement.commune {
            continue;
        }
        crate::phishing::purge_campaign(state, None, campaign).await?;
        purged += 1;
    }
    let note = match purged {
        0 => "Aucune campagne à effacer.".to_owned(),
        1 => "1 campagne effacée (seuls ses chiffres d'ensemble restent).".to_owned(),
        n => format!(
            "{} campagnes effacées (seuls leurs chiffres d'ensemble restent).",
            crate::fr::number(i64::try_from(n).unwrap_or(i64::MAX))
        ),
    };
    let detail = format!(
        "Fin de la convention : fait par la plateforme — {} : {note}",
        EndAction::PurgeCampaigns.label()
    );
    store::end_action_done(
        &state.db,
        &agreement.id,
        EndAction::PurgeCampaigns,
        &note,
        &Change::note(None, "end_action_done", &detail),
        now_ms(),
    )
    .await?;
    audit(
        &state.db,
        None,
        "agreement_end_purge",
        &format!(
            "agreement {} of commune {}: {purged} campaigns purged",
            agreement.id, agreement.commune
        ),
    )
    .await;
    Ok(purged)
}

#[derive(sqlx::FromRow)]
struct Row {
    agreement_id: String,
    commune: String,
    offer: String,
    data_at_end: Option<String>,
    action: String,
    due_on: String,
    done_at: Option<i64>,
}

/// The end actions recorded in `scope`, done or not, by agreement.
pub async fn recorded(
    db: &Db,
    scope: &Scope,
) -> Result<HashMap<String, Vec<Pending>>, sqlx::Error> {
    const SQL: &str = "SELECT e.agreement_id, a.commune, a.offer, a.data_at_end, e.action, \
                       e.due_on, e.done_at FROM agreement_end_actions e \
                       JOIN agreements a ON a.id = e.agreement_id";
    let rows: Vec<Row> = match scope {
        Scope::Territory => {
            sqlx::query_as(&format!("{SQL} ORDER BY e.due_on LIMIT $1"))
                .bind(MAX_RECORDED)
                .fetch_all(db.read())
                .await?
        }
        Scope::Commune(code) => {
            sqlx::query_as(&format!(
                "{SQL} WHERE a.commune = $1 ORDER BY e.due_on LIMIT $2"
            ))
            .bind(code)
            .bind(MAX_RECORDED)
            .fetch_all(db.read())
            .await?
        }
        Scope::Nothing => Vec::new(),
    };
    let mut out: HashMap<String, Vec<Pending>> = HashMap::new();
    for row in rows {
        // A day that does not parse was edited by hand: left out.
        let Ok(due_on) = row.due_on.parse() else {
            continue;
        };
        out.entry(row.agreement_id.clone())
            .or_default()
            .push(Pending {
                agreement: row.agreement_id,
                commune: row.commune,
                offer: row.offer,
                data_at_end: row.data_at_end.as_deref().and_then(DataAtEnd::parse),
                action: row.action,
                due_on,
                done_at: row.done_at,
            });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_clause_says_the_communes_choice() {
        let data = EndAction::ReturnOrDestroyData;
        assert_eq!(label(data, None), data.label());
        assert!(label(data, Some(DataAtEnd::Destroy)).starts_with("Détruire"));
        assert!(label(data, Some(DataAtEnd::Return)).starts_with("Restituer"));
        assert_eq!(
            label(EndAction::UninstallSensor, Some(DataAtEnd::Destroy)),
            "Désinstaller le boîtier"
        );
    }
}
