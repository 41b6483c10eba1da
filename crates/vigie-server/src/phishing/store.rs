//! The `campaigns` and `campaign_targets` tables: a campaign written whole
//! in one transaction with its targets and their e-mails (in the outbox,
//! each due at its planned time), read back with its figures, and purged.
//!
//! What it must never do: keep of a person more than the agreement lists
//! (address and role given by the commune, the time of the first opening,
//! click and submission and their counts: a first name only greets the
//! person in the mail, whose body the relay empties once sent), keep a
//! tracking token in clear (only its BLAKE3 hash; the clear one is in the
//! mail until it leaves), or
//! leave anything of a purged campaign's people: its targets and e-mails
//! are deleted, SQLite overwrites the freed pages (`secure_delete`) and
//! its write-ahead log is emptied, PostgreSQL rewrites the tables.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::FromRow;

use super::results::{Summary, TargetRow};
use super::scenarios::{Library, MailVars};
use super::targets::Target;
use crate::db::{Backend, random_hex, token_hash};
use crate::outbox::{self, CampaignMail, Email};
use crate::{AppError, Db};

/// The most campaigns a list shows.
const LIST_LIMIT: i64 = 200;

/// A campaign as its pages and API read it.
#[derive(Clone, Debug)]
pub struct Campaign {
    pub id: String,
    pub commune: String,
    pub scenarios: Vec<String>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub rate_per_hour: Option<i64>,
    pub targets: i64,
    pub created_at: i64,
    pub purge_due_at: i64,
    pub purged_at: Option<i64>,
    /// Written by the purge: all that is left then.
    pub summary: Option<Summary>,
}

/// Where a campaign stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Its first mail has not left yet.
    Scheduled,
    Running,
    /// Past its last day; the addresses wait for the purge.
    Ended,
    Purged,
}

impl Status {
    /// The API's word (docs/api.md).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Running => "running",
            Status::Ended => "ended",
            Status::Purged => "purged",
        }
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            Status::Scheduled => "Programmée",
            Status::Running => "En cours",
            Status::Ended => "Terminée",
            Status::Purged => "Terminée, données effacées",
        }
    }
}

impl Campaign {
    /// Its status at `now`, `sent` of its mails having left.
    pub fn status(&self, now: DateTime<Utc>, sent: u64) -> Status {
        if self.purged_at.is_some() {
            Status::Purged
        } else if vigie_core::local_day(now) > self.end {
            Status::Ended
        } else if sent == 0 {
            Status::Scheduled
        } else {
            Status::Running
        }
    }
}

#[derive(FromRow)]
struct CampaignRow {
    id: String,
    commune: String,
    scenarios: String,
    start_day: String,
    end_day: String,
    rate_per_hour: Option<i64>,
    targets: i64,
    created_at: i64,
    purge_due_at: i64,
    purged_at: Option<i64>,
    summary: Option<String>,
}

impl TryFrom<CampaignRow> for Campaign {
    type Error = AppError;

    fn try_from(row: CampaignRow) -> Result<Campaign, AppError> {
        let bad = |what: &str| AppError::Internal(format!("campaign {}: bad {what}", row.id));
        Ok(Campaign {
            scenarios: serde_json::from_str(&row.scenarios).map_err(|_| bad("scenarios"))?,
            start: row.start_day.parse().map_err(|_| bad("start_day"))?,
            end: row.end_day.parse().map_err(|_| bad("end_day"))?,
            summary: match &row.summary {
                Some(text) => Some(serde_json::from_str(text).map_err(|_| bad("summary"))?),
                None => None,
            },
            id: row.id,
            commune: row.commune,
            rate_per_hour: row.rate_per_hour,
            targets: row.targets,
            created_at: row.created_at,
            purge_due_at: row.purge_due_at,
            purged_at: row.purged_at,
        })
    }
}

const COLUMNS: &str = "id, commune, scenarios, start_day, end_day, rate_per_hour, targets, \
                       created_at, purge_due_at, purged_at, summary";

/// A campaign to write: checked, its sends planned.
pub struct NewCampaign<'a> {
    pub commune: &'a crate::territory::Commune,
    pub scenarios: &'a [String],
    pub targets: &'a [Target],
    /// One instant per target, in the targets' order.
    pub sends: &'a [DateTime<Utc>],
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub rate_per_hour: Option<u32>,
    pub purge_due_at: i64,
    pub created_by: i64,
}

/// Where the mails lead and seem to come from.
pub struct Sending<'a> {
    pub library: &'a Library,
    pub public_url: &'a str,
    pub sender_domain: &'a str,
}

/// Writes the campaign, its targets and their mails in one transaction;
/// returns its id. Scenarios are given to the targets in turn.
pub async fn create(
    db: &Db,
    new: &NewCampaign<'_>,
    sending: &Sending<'_>,
    now: i64,
) -> Result<String, AppError> {
    let id = random_hex(12);
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO campaigns (id, commune, scenarios, start_day, end_day, rate_per_hour,
             targets, created_by, created_at, purge_due_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(new.commune.code.as_str())
    .bind(serde_json::to_string(new.scenarios).map_err(|e| AppError::Internal(e.to_string()))?)
    .bind(new.start.to_string())
    .bind(new.end.to_string())
    .bind(new.rate_per_hour.map(i64::from))
    .bind(i64::try_from(new.targets.len()).unwrap_or(i64::MAX))
    .bind(new.created_by)
    .bind(now)
    .bind(new.purge_due_at)
    .execute(&mut *tx)
    .await?;
    for (index, (target, send_at)) in new.targets.iter().zip(new.sends).enumerate() {
        let scenario_id = &new.scenarios[index % new.scenarios.len().max(1)];
        let scenario = sending
            .library
            .get(scenario_id)
            .ok_or_else(|| AppError::BadRequest(format!("scénario « {scenario_id} » inconnu")))?;
        let token = random_hex(16);
        let vars = MailVars {
            commune: &new.commune.name,
            first_name: target.first_name.as_deref(),
            sent_on: vigie_core::local_day(*send_at),
            link: &format!("{}/c/{token}", sending.public_url),
            image: &format!("{}/o/{token}", sending.public_url),
        };
        let mail = scenario.render_mail(&vars);
        let sender = format!(
            "\"{}\" <{}>",
            scenario.sender_name.replace(['"', '\\'], ""),
            scenario.address(sending.sender_domain)
        );
        let message_id = outbox::enqueue_campaign(
            &mut tx,
            &Email {
                kind: "campaign",
                recipient: target.email.clone(),
                subject: mail.subject,
                text: mail.text,
                html: mail.html,
            },
            sending.public_url,
            now,
            CampaignMail {
                campaign: &id,
                sender: &sender,
                due: send_at.timestamp_millis(),
            },
        )
        .await?;
        sqlx::query(
            "INSERT INTO campaign_targets (campaign_id, email, role, scenario, token_hash,
                 message_id, send_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(&target.email)
        .bind(target.role.as_str())
        .bind(scenario_id)
        .bind(token_hash(&token))
        .bind(&message_id)
        .bind(send_at.timestamp_millis())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Campaign>, AppError> {
    let row: Option<CampaignRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM campaigns WHERE id = $1"))
            .bind(id)
            .fetch_optional(db.read())
            .await?;
    row.map(Campaign::try_from).transpose()
}

/// The commune's campaigns (every commune's with `None`), newest first.
pub async fn list(db: &Db, commune: Option<&str>) -> Result<Vec<Campaign>, AppError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM campaigns WHERE ($1 IS NULL OR commune = $1)
         ORDER BY created_at DESC LIMIT $2"
    );
    let rows: Vec<CampaignRow> = sqlx::query_as(&sql)
        .bind(commune)
        .bind(LIST_LIMIT)
        .fetch_all(db.read())
        .await?;
    rows.into_iter().map(Campaign::try_from).collect()
}

/// Campaigns not purged yet whose purge is due from `from` to `to` (Unix
/// milliseconds, both included), for the programme's calendar: (id,
/// commune, first day, last day, purge due at).
pub async fn purges_due(
    db: &Db,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<(String, String, String, String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, commune, start_day, end_day, purge_due_at FROM campaigns \
         WHERE purged_at IS NULL AND purge_due_at >= $1 AND purge_due_at <= $2 \
         ORDER BY purge_due_at LIMIT $3",
    )
    .bind(from_ms)
    .bind(to_ms)
    .bind(LIST_LIMIT)
    .fetch_all(db.read())
    .await
}

/// The campaign's figures: from its targets, or what its purge kept.
pub async fn summary(db: &Db, campaign: &Campaign) -> Result<Summary, AppError> {
    if let Some(summary) = &campaign.summary {
        return Ok(summary.clone());
    }
    Ok(Summary::of(&target_rows(db, &campaign.id).await?))
}

async fn target_rows(db: &Db, id: &str) -> Result<Vec<TargetRow>, AppError> {
    Ok(sqlx::query_as(
        "SELECT t.role, t.scenario, o.sent_at, t.opened_at, t.clicked_at, t.submitted_at,
             t.scanner_clicks
         FROM campaign_targets t LEFT JOIN outbox o ON o.message_id = t.message_id
         WHERE t.campaign_id = $1",
    )
    .bind(id)
    .fetch_all(db.read())
    .await?)
}

/// Campaigns whose purge is due at `now`.
pub async fn due_for_purge(db: &Db, now: i64) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM campaigns WHERE purged_at IS NULL AND purge_due_at <= $1",
    )
    .bind(now)
    .fetch_all(db.read())
    .await?)
}

/// Deletes every address, token, event and e-mail of the campaign and
/// keeps its figures; then makes sure the deleted rows are gone from the
/// database files too. Purging a purged campaign does nothing.
pub async fn purge(db: &Db, id: &str, now: i64) -> Result<(), AppError> {
    let mut tx = db.pool.begin().await?;
    let purged: Option<Option<i64>> =
        sqlx::query_scalar("SELECT purged_at FROM campaigns WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    match purged {
        None => return Err(AppError::NotFound),
        Some(Some(_)) => return Ok(()),
        Some(None) => {}
    }
    let rows: Vec<TargetRow> = sqlx::query_as(
        "SELECT t.role, t.scenario, o.sent_at, t.opened_at, t.clicked_at, t.submitted_at,
             t.scanner_clicks
         FROM campaign_targets t LEFT JOIN outbox o ON o.message_id = t.message_id
         WHERE t.campaign_id = $1",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let summary = serde_json::to_string(&Summary::of(&rows))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    sqlx::query("DELETE FROM campaign_targets WHERE campaign_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM outbox WHERE campaign_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE campaigns SET purged_at = $1, summary = $2 WHERE id = $3")
        .bind(now)
        .bind(&summary)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    scrub(db).await
}

/// Rewrites what deletes leave behind. SQLite: `secure_delete` (set on
/// the writer's connection) zeroed the freed pages in the log; the
/// checkpoint copies them into the main file and truncates the log.
/// PostgreSQL: `VACUUM FULL` writes the two tables anew and drops the old
/// files, dead rows included.
async fn scrub(db: &Db) -> Result<(), AppError> {
    match db.backend {
        Backend::Sqlite => {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&db.pool)
                .await?;
        }
        Backend::Postgres => {
            for table in ["campaign_targets", "outbox"] {
                sqlx::query(&format!("VACUUM FULL {table}"))
                    .execute(&db.pool)
                    .await?;
            }
        }
    }
    Ok(())
}
