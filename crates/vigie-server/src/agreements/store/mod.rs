//! The `agreements` tables: an agreement written with its first history
//! line, its facts changed with the line that says why (one transaction
//! each), its documents' state and signed scans, and what its end obliges.
//!
//! What it must never do: store a date derived from the offer's rules
//! (they are computed from the facts on each read, so a territory that
//! corrects an offer's file corrects every agreement), or change an
//! agreement without a line in its history.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use super::dates::Facts;
use super::offers::Catalogue;
use crate::Db;
use crate::db::random_hex;

/// The most agreements a list shows.
pub const LIST_LIMIT: i64 = 2_000;

/// A person an agreement names on one side.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referent {
    pub name: String,
    /// Their function: « Secrétaire de mairie », « Chef de projet ».
    pub role: String,
    pub email: String,
    pub phone: String,
}

impl Referent {
    pub fn is_empty(&self) -> bool {
        self.name.is_empty()
            && self.role.is_empty()
            && self.email.is_empty()
            && self.phone.is_empty()
    }
}

/// Contributions and costs, in euro cents (Moselle Fibre's path: the
/// total cost, the founding members' share, the commune's contribution,
/// what each phase's minutes make due).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Costs {
    pub total_cents: Option<i64>,
    pub founders_cents: Option<i64>,
    pub commune_cents: Option<i64>,
    #[serde(default)]
    pub phases: Vec<PhaseCost>,
}

/// What the commune owes once a phase's minutes are signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseCost {
    pub step: String,
    pub cents: i64,
}

/// What the commune asks for its data at the end (seed 002, art. 11 i:
/// « renvoyer toutes les données … à la Commune ou à les détruire ou les
/// archiver selon les instructions de la Commune »).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataAtEnd {
    Return,
    Destroy,
    Archive,
}

impl DataAtEnd {
    pub fn id(self) -> &'static str {
        match self {
            DataAtEnd::Return => "return",
            DataAtEnd::Destroy => "destroy",
            DataAtEnd::Archive => "archive",
        }
    }

    pub fn parse(text: &str) -> Option<DataAtEnd> {
        match text {
            "return" => Some(DataAtEnd::Return),
            "destroy" => Some(DataAtEnd::Destroy),
            "archive" => Some(DataAtEnd::Archive),
            _ => None,
        }
    }

    /// As a page says it.
    pub fn label(self) -> &'static str {
        match self {
            DataAtEnd::Return => "restituées à la commune",
            DataAtEnd::Destroy => "détruites",
            DataAtEnd::Archive => "archivées selon les instructions de la commune",
        }
    }
}

/// An agreement as stored.
#[derive(Clone, Debug)]
pub struct Agreement {
    pub id: String,
    pub commune: String,
    pub offer: String,
    pub facts: Facts,
    pub territory_referent: Referent,
    pub commune_referent: Referent,
    pub costs: Option<Costs>,
    pub data_at_end: Option<DataAtEnd>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(FromRow)]
struct Row {
    id: String,
    commune: String,
    offer: String,
    facts: String,
    territory_referent: String,
    commune_referent: String,
    costs: Option<String>,
    data_at_end: Option<String>,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str = "id, commune, offer, facts, territory_referent, commune_referent, costs, \
                       data_at_end, created_at, updated_at";

impl Row {
    /// A row whose JSON does not parse (edited by hand) reads as empty
    /// facts rather than failing every page: its history says what was.
    fn agreement(self) -> Agreement {
        Agreement {
            facts: serde_json::from_str(&self.facts).unwrap_or_default(),
            territory_referent: serde_json::from_str(&self.territory_referent).unwrap_or_default(),
            commune_referent: serde_json::from_str(&self.commune_referent).unwrap_or_default(),
            costs: self.costs.and_then(|c| serde_json::from_str(&c).ok()),
            data_at_end: self.data_at_end.as_deref().and_then(DataAtEnd::parse),
            id: self.id,
            commune: self.commune,
            offer: self.offer,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// What a new agreement is made of.
pub struct NewAgreement<'a> {
    pub commune: &'a str,
    pub offer: &'a str,
    pub facts: &'a Facts,
    pub territory_referent: &'a Referent,
    pub commune_referent: &'a Referent,
    pub costs: Option<&'a Costs>,
    pub data_at_end: Option<DataAtEnd>,
    pub created_by: Option<i64>,
    /// The history's first line.
    pub detail: &'a str,
}

pub(super) fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// Writes a new agreement and its first history line; its id.
pub async fn create(db: &Db, new: &NewAgreement<'_>, now: i64) -> Result<String, sqlx::Error> {
    let id = random_hex(12);
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO agreements (id, commune, offer, facts, territory_referent, \
         commune_referent, costs, data_at_end, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(new.commune)
    .bind(new.offer)
    .bind(json(new.facts))
    .bind(json(new.territory_referent))
    .bind(json(new.commune_referent))
    .bind(new.costs.map(json))
    .bind(new.data_at_end.map(DataAtEnd::id))
    .bind(new.created_by)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    event(&mut tx, &id, now, new.created_by, "created", new.detail).await?;
    tx.commit().await?;
    Ok(id)
}

pub(super) async fn event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    now: i64,
    user: Option<i64>,
    kind: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO agreement_events (agreement_id, at, user_id, kind, detail) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(now)
    .bind(user)
    .bind(kind)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Agreement>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM agreements WHERE id = $1");
    let row: Option<Row> = sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.map(Row::agreement))
}

/// A commune's agreements, the latest first.
pub async fn of_commune(db: &Db, commune: &str) -> Result<Vec<Agreement>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM agreements WHERE commune = $1 ORDER BY created_at DESC, id LIMIT $2"
    );
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(commune)
        .bind(LIST_LIMIT)
        .fetch_all(db.read())
        .await?;
    Ok(rows.into_iter().map(Row::agreement).collect())
}

/// Every agreement of the territory, the latest first.
pub async fn all(db: &Db) -> Result<Vec<Agreement>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM agreements ORDER BY created_at DESC, id LIMIT $1");
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(LIST_LIMIT)
        .fetch_all(db.read())
        .await?;
    Ok(rows.into_iter().map(Row::agreement).collect())
}

/// A change to an agreement: what it says in the history, and what it
/// changes.
pub struct Change<'a> {
    pub user: Option<i64>,
    pub kind: &'a str,
    pub detail: &'a str,
    pub facts: Option<&'a Facts>,
    pub referents: Option<(&'a Referent, &'a Referent)>,
    pub costs: Option<Option<&'a Costs>>,
    pub data_at_end: Option<Option<DataAtEnd>>,
}

impl<'a> Change<'a> {
    /// A history line changing nothing else.
    pub fn note(user: Option<i64>, kind: &'a str, detail: &'a str) -> Change<'a> {
        Change {
            user,
            kind,
            detail,
            facts: None,
            referents: None,
            costs: None,
            data_at_end: None,
        }
    }
}

/// Applies `change` and writes its history line, together.
pub async fn change(db: &Db, id: &str, change: &Change<'_>, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    apply(&mut tx, id, change, now).await?;
    tx.commit().await
}

/// Writes what `change` changes and its history line, in `tx`.
pub(super) async fn apply(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    change: &Change<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    if let Some(facts) = change.facts {
        sqlx::query("UPDATE agreements SET facts = $1, updated_at = $2 WHERE id = $3")
            .bind(json(facts))
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    if let Some((territory, commune)) = change.referents {
        sqlx::query(
            "UPDATE agreements SET territory_referent = $1, commune_referent = $2, \
             updated_at = $3 WHERE id = $4",
        )
        .bind(json(territory))
        .bind(json(commune))
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    if let Some(costs) = change.costs {
        sqlx::query("UPDATE agreements SET costs = $1, updated_at = $2 WHERE id = $3")
            .bind(costs.map(json))
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    if let Some(data) = change.data_at_end {
        sqlx::query("UPDATE agreements SET data_at_end = $1, updated_at = $2 WHERE id = $3")
            .bind(data.map(DataAtEnd::id))
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    event(tx, id, now, change.user, change.kind, change.detail).await
}

/// A line of an agreement's history.
#[derive(Clone, Debug, FromRow)]
pub struct Event {
    pub at: i64,
    pub user_id: Option<i64>,
    pub kind: String,
    pub detail: String,
}

/// An agreement's history, the latest first.
pub async fn events(db: &Db, id: &str) -> Result<Vec<Event>, sqlx::Error> {
    sqlx::query_as(
        "SELECT at, user_id, kind, detail FROM agreement_events WHERE agreement_id = $1 \
         ORDER BY at DESC, id DESC LIMIT 500",
    )
    .bind(id)
    .fetch_all(db.read())
    .await
}

/// The day the commune's sensor was installed (its first report), if one
/// is: the sensor offer's starting event when nobody attested it by hand.
pub async fn sensor_installed_on(db: &Db, commune: &str) -> Result<Option<NaiveDate>, sqlx::Error> {
    let first: Option<(Option<i64>,)> = sqlx::query_as(
        "SELECT MIN(installed_at) FROM sensors WHERE commune = $1 AND installed_at IS NOT NULL",
    )
    .bind(commune)
    .fetch_optional(db.read())
    .await?;
    Ok(first
        .and_then(|(ms,)| ms)
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(vigie_core::local_day))
}

/// The agreement's facts as the dates read them: with the sensor's
/// installation as its start when the offer starts there and nobody
/// attested another day.
pub async fn effective_facts(
    db: &Db,
    offers: &Catalogue,
    agreement: &Agreement,
) -> Result<Facts, sqlx::Error> {
    let mut facts = agreement.facts.clone();
    let starts_at_installation = offers
        .get(&agreement.offer)
        .is_some_and(|o| o.start == super::offers::Start::InstallationAttested);
    if starts_at_installation && facts.started_on.is_none() && facts.signed_on.is_some() {
        facts.started_on = sensor_installed_on(db, &agreement.commune).await?;
    }
    Ok(facts)
}

/// Whether `commune` has an agreement of `offer` in force on `day`
/// (active or ending): what lending the crisis kit, for instance,
/// requires. The offer's rules come from `offers` (the state's
/// catalogue).
pub async fn in_force(
    db: &Db,
    offers: &Catalogue,
    commune: &str,
    offer: &str,
    day: NaiveDate,
) -> Result<bool, sqlx::Error> {
    let Some(rules) = offers.get(offer) else {
        return Ok(false);
    };
    for agreement in of_commune(db, commune).await? {
        if agreement.offer != offer {
            continue;
        }
        let facts = effective_facts(db, offers, &agreement).await?;
        if let Ok(schedule) = super::dates::schedule(rules, &facts, day)
            && matches!(
                schedule.status,
                super::Status::Active | super::Status::Ending
            )
        {
            return Ok(true);
        }
    }
    Ok(false)
}

mod documents;
mod ends;

pub use documents::{DocumentRow, Scan, documents, produced, scan, signed};
pub use ends::{EndActionRow, end_action_done, end_actions, oblige};
