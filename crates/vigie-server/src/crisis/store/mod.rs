//! The kit's items, crises, bookings and history in the database
//! (`kit_items`, `kit_crises`, `kit_bookings`, `kit_events`; migration
//! 0019). Loans, returns and wipes are in `ledger`.
//!
//! What it must never do: change an item's state here (only `ledger`
//! lends, returns and wipes, each in one transaction with its event),
//! except putting an item that is not lent out of order and back.

use chrono::NaiveDate;
use sqlx::FromRow;

use super::rules::{self, Kind, NewItem, State};
use crate::db::{Db, now_ms};

mod bookings;

pub use bookings::{BookingRow, book, booking, bookings, cancel_booking, in_service, lent_during};

#[derive(Clone, Debug, FromRow)]
pub struct Item {
    pub id: i64,
    pub kind: String,
    pub label: String,
    pub serial: String,
    pub imei: String,
    pub address: String,
    pub state: String,
    pub checked_day: String,
    pub created_at: i64,
}

impl Item {
    pub fn kind(&self) -> Kind {
        Kind::parse(&self.kind).unwrap_or(Kind::Laptop)
    }

    pub fn state(&self) -> State {
        State::parse(&self.state).unwrap_or(State::OutOfOrder)
    }

    /// « n° de série PF3X9, IMEI 35209900… »: what tells it apart.
    pub fn identifiers_fr(&self) -> String {
        let mut parts = Vec::new();
        if !self.serial.is_empty() {
            parts.push(format!("n° de série {}", self.serial));
        }
        if !self.imei.is_empty() {
            parts.push(format!("IMEI {}", self.imei));
        }
        if !self.address.is_empty() {
            parts.push(self.address.clone());
        }
        parts.join(", ")
    }

    pub fn checked(&self) -> Option<NaiveDate> {
        self.checked_day.parse().ok()
    }

    /// The day its next annual check is due.
    pub fn next_check(&self) -> Option<NaiveDate> {
        self.checked().map(rules::next_check)
    }
}

const ITEM_COLUMNS: &str = "id, kind, label, serial, imei, address, state, checked_day, created_at";

pub async fn items(db: &Db) -> Result<Vec<Item>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM kit_items ORDER BY kind, label, id"
    ))
    .fetch_all(db.read())
    .await
}

pub async fn item(db: &Db, id: i64) -> Result<Option<Item>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM kit_items WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

/// Adds an item, checked on `today` (it joins the kit in working order).
pub async fn add_item(
    db: &Db,
    item: &NewItem,
    today: NaiveDate,
    user: Option<i64>,
) -> Result<i64, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO kit_items (kind, label, serial, imei, address, state, checked_day, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'available', $6, $7) RETURNING id",
    )
    .bind(item.kind.id())
    .bind(&item.label)
    .bind(&item.serial)
    .bind(&item.imei)
    .bind(&item.address)
    .bind(today.to_string())
    .bind(now_ms())
    .fetch_one(&mut *tx)
    .await?;
    event(
        &mut tx,
        Some(id),
        None,
        user,
        &format!("Entré dans le kit ({}).", item.kind.label_fr()),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Records the annual check done on `day`.
pub async fn record_check(
    db: &Db,
    item: i64,
    day: NaiveDate,
    note: &str,
    user: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE kit_items SET checked_day = $1 WHERE id = $2")
        .bind(day.to_string())
        .bind(item)
        .execute(&mut *tx)
        .await?;
    let what = format!("Contrôle annuel du {} : {note}", crate::fr::day(day));
    event(&mut tx, Some(item), None, Some(user), &what).await?;
    tx.commit().await
}

/// Puts an item out of order (from available or to wipe) or back in
/// service (to wipe: its wipe still has to be attested); false if its
/// state did not allow it.
pub async fn set_out_of_order(
    db: &Db,
    item: i64,
    out: bool,
    note: &str,
    user: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let (sql, what) = if out {
        (
            "UPDATE kit_items SET state = 'out_of_order' WHERE id = $1 AND state IN ('available', 'to_wipe')",
            format!("Mis hors service : {note}"),
        )
    } else {
        (
            "UPDATE kit_items SET state = 'to_wipe' WHERE id = $1 AND state = 'out_of_order'",
            format!("Remis en service (à effacer avant tout prêt) : {note}"),
        )
    };
    let done = sqlx::query(sql)
        .bind(item)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if done {
        event(&mut tx, Some(item), None, Some(user), &what).await?;
        tx.commit().await?;
    }
    Ok(done)
}

#[derive(Clone, Debug, FromRow)]
pub struct Crisis {
    pub id: i64,
    pub commune: String,
    pub commune_name: String,
    pub declared_by: String,
    pub started_day: String,
    pub what: String,
    pub declared_at: i64,
    pub closed_at: Option<i64>,
}

const CRISIS_COLUMNS: &str = "k.id, k.commune, c.name AS commune_name, k.declared_by, k.started_day, \
     k.what, k.declared_at, k.closed_at FROM kit_crises k JOIN communes c ON c.code = k.commune";

/// A crisis declared for `commune`: who asked, the day the attack was
/// noticed, what happened.
pub async fn declare(
    db: &Db,
    commune: &str,
    declared_by: &str,
    started: NaiveDate,
    what: &str,
    user: Option<i64>,
) -> Result<i64, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO kit_crises (commune, declared_by, started_day, what, declared_at, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(commune)
    .bind(declared_by)
    .bind(started.to_string())
    .bind(what)
    .bind(now_ms())
    .bind(user)
    .fetch_one(&mut *tx)
    .await?;
    let line = format!("Crise déclarée par {declared_by} : {what}");
    event(&mut tx, None, Some(id), user, &line).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn crisis(db: &Db, id: i64) -> Result<Option<Crisis>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {CRISIS_COLUMNS} WHERE k.id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}

/// Crises, newest first: every commune's (`None`) or one's.
pub async fn crises(db: &Db, commune: Option<&str>) -> Result<Vec<Crisis>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {CRISIS_COLUMNS} WHERE ($1 IS NULL OR k.commune = $1) ORDER BY k.declared_at DESC, k.id DESC LIMIT 500"
    ))
    .bind(commune)
    .fetch_all(db.read())
    .await
}

/// Closes a crisis whose items all came back; false otherwise.
pub async fn close(db: &Db, id: i64, user: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query(
        "UPDATE kit_crises SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL AND NOT EXISTS \
         (SELECT 1 FROM kit_loans WHERE crisis_id = $2 AND returned_at IS NULL)",
    )
    .bind(now_ms())
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if done {
        event(
            &mut tx,
            None,
            Some(id),
            Some(user),
            "Crise close : tout le matériel est rendu.",
        )
        .await?;
        tx.commit().await?;
    }
    Ok(done)
}

#[derive(Clone, Debug, FromRow)]
pub struct Event {
    pub at: i64,
    pub what: String,
}

/// An item's or a crisis's history, oldest first.
pub async fn history(
    db: &Db,
    item: Option<i64>,
    crisis: Option<i64>,
) -> Result<Vec<Event>, sqlx::Error> {
    sqlx::query_as(
        "SELECT at, what FROM kit_events WHERE ($1 IS NOT NULL AND item_id = $1) \
         OR ($2 IS NOT NULL AND crisis_id = $2) ORDER BY at, id LIMIT 2000",
    )
    .bind(item)
    .bind(crisis)
    .fetch_all(db.read())
    .await
}

/// Writes a line of history in the caller's transaction.
pub(in crate::crisis) async fn event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    item: Option<i64>,
    crisis: Option<i64>,
    user: Option<i64>,
    what: &str,
) -> Result<(), sqlx::Error> {
    let what: String = what.chars().take(rules::MAX_LONG + 200).collect();
    sqlx::query("INSERT INTO kit_events (item_id, crisis_id, at, user_id, what) VALUES ($1, $2, $3, $4, $5)")
        .bind(item)
        .bind(crisis)
        .bind(now_ms())
        .bind(user)
        .bind(what)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
