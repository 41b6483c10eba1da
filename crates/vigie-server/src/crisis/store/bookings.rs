//! The kit's bookings (`kit_bookings`) and the stock they draw on: the
//! items of a kind in working order and those out on loan.
//!
//! What it must never do: store a booking the rules did not accept (the
//! caller checks `rules::booking_refusal` first).

use chrono::NaiveDate;
use sqlx::FromRow;

use super::super::rules::{Booking, Kind, Span};
use super::event;
use crate::db::{Db, now_ms};

#[derive(Clone, Debug, FromRow)]
pub struct BookingRow {
    pub id: i64,
    pub commune: String,
    pub commune_name: String,
    pub item_id: Option<i64>,
    pub item_label: Option<String>,
    /// The booked item's kind, if it is in working order (an item out
    /// of order takes nothing from its kind's stock).
    pub item_kind: Option<String>,
    pub kind: Option<String>,
    pub count: i64,
    pub from_day: String,
    pub to_day: String,
    pub reason: String,
}

impl BookingRow {
    /// The booking as the rules see it (`None` for a damaged row).
    pub fn rule(&self) -> Option<Booking> {
        Some(Booking {
            id: self.id,
            commune: self.commune.clone(),
            commune_name: self.commune_name.clone(),
            item: self.item_id,
            kind: self.kind.as_deref().and_then(Kind::parse),
            item_kind: self.item_kind.as_deref().and_then(Kind::parse),
            count: self.count,
            span: Span {
                from: self.from_day.parse().ok()?,
                to: self.to_day.parse().ok()?,
            },
        })
    }

    /// « PC-01 » or « 3 téléphones mobiles ».
    pub fn what_fr(&self) -> String {
        match (&self.item_label, self.kind.as_deref().and_then(Kind::parse)) {
            (Some(label), _) => label.clone(),
            (None, Some(kind)) => kind.count_fr(self.count),
            (None, None) => String::new(),
        }
    }
}

/// Bookings not cancelled that end on or after `from`: every commune's
/// (`None`) or one's.
pub async fn bookings(
    db: &Db,
    from: NaiveDate,
    commune: Option<&str>,
) -> Result<Vec<BookingRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT b.id, b.commune, c.name AS commune_name, b.item_id, i.label AS item_label, CASE WHEN i.state <> 'out_of_order' THEN i.kind END AS item_kind, b.kind, \
         b.count, b.from_day, b.to_day, b.reason FROM kit_bookings b \
         JOIN communes c ON c.code = b.commune LEFT JOIN kit_items i ON i.id = b.item_id \
         WHERE b.cancelled_at IS NULL AND b.to_day >= $1 AND ($2 IS NULL OR b.commune = $2) \
         ORDER BY b.from_day, b.id LIMIT 1000",
    )
    .bind(from.to_string())
    .bind(commune)
    .fetch_all(&db.pool)
    .await
}

pub async fn booking(db: &Db, id: i64) -> Result<Option<BookingRow>, sqlx::Error> {
    let all = sqlx::query_as(
        "SELECT b.id, b.commune, c.name AS commune_name, b.item_id, i.label AS item_label, CASE WHEN i.state <> 'out_of_order' THEN i.kind END AS item_kind, b.kind, \
         b.count, b.from_day, b.to_day, b.reason FROM kit_bookings b \
         JOIN communes c ON c.code = b.commune LEFT JOIN kit_items i ON i.id = b.item_id \
         WHERE b.id = $1 AND b.cancelled_at IS NULL",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(all)
}

/// Stores a booking the rules accepted.
pub async fn book(
    db: &Db,
    booking: &Booking,
    reason: &str,
    user: Option<i64>,
) -> Result<i64, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO kit_bookings (commune, item_id, kind, count, from_day, to_day, reason, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(&booking.commune)
    .bind(booking.item)
    .bind(booking.kind.map(Kind::id))
    .bind(booking.count)
    .bind(booking.span.from.to_string())
    .bind(booking.span.to.to_string())
    .bind(reason)
    .bind(user)
    .bind(now_ms())
    .fetch_one(&mut *tx)
    .await?;
    if let Some(item) = booking.item {
        let what = format!(
            "Réservé pour {} {} : {reason}",
            booking.commune_name,
            crate::fr::day_range(booking.span.from, booking.span.to)
        );
        event(&mut tx, Some(item), None, user, &what).await?;
    }
    tx.commit().await?;
    Ok(id)
}

pub async fn cancel_booking(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE kit_bookings SET cancelled_at = $1 WHERE id = $2 AND cancelled_at IS NULL",
    )
    .bind(now_ms())
    .bind(id)
    .execute(&db.pool)
    .await?
    .rows_affected()
        == 1)
}

/// Items of `kind` out on loan during `span`: due back on its first day
/// or after, or overdue (due before `today` and not back); a loan made
/// for a booking that covers some of those days is left out, as its
/// booking already takes the item.
pub async fn lent_during(
    db: &Db,
    kind: Kind,
    span: Span,
    today: NaiveDate,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM kit_loans l JOIN kit_items i ON i.id = l.item_id \
         WHERE i.kind = $1 AND l.returned_at IS NULL AND (l.due_day >= $2 OR l.due_day < $3) \
         AND NOT EXISTS (SELECT 1 FROM kit_bookings b WHERE b.id = l.booking_id \
             AND b.cancelled_at IS NULL AND b.from_day <= $4 AND b.to_day >= $2)",
    )
    .bind(kind.id())
    .bind(span.from.to_string())
    .bind(today.to_string())
    .bind(span.to.to_string())
    .fetch_one(&db.pool)
    .await
}

/// Items of `kind` in working order (not out of order).
pub async fn in_service(db: &Db, kind: Kind) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM kit_items WHERE kind = $1 AND state <> 'out_of_order'")
        .bind(kind.id())
        .fetch_one(&db.pool)
        .await
}
