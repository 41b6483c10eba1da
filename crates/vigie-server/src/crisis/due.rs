//! What the kit puts in the calendar: loans due back, annual checks due,
//! bookings starting, within a range of days. Read by the calendar and
//! its reminders; nothing here sends anything.
//!
//! What it must never do: read the clock (the range is given), or list a
//! loan already returned or a booking cancelled.

use chrono::NaiveDate;

use super::store;
use crate::Db;

/// A loan not yet returned, as the calendar reads it: id, due day,
/// commune code and name, item, crisis, holder.
type OpenLoan = (i64, String, String, String, String, Option<i64>, String);

/// One thing due on a day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    pub day: NaiveDate,
    /// The commune's INSEE code; `None` for the territory's own tasks
    /// (an item's annual check).
    pub commune: Option<String>,
    /// In French.
    pub title: String,
    /// The page where it is done.
    pub link: String,
    /// `kit_return`, `kit_check` or `kit_booking`.
    pub kind: &'static str,
}

/// Everything due from `from` to `to` (both included), by day.
pub async fn due(db: &Db, from: NaiveDate, to: NaiveDate) -> Result<Vec<Due>, sqlx::Error> {
    let mut all = Vec::new();
    let loans: Vec<OpenLoan> = sqlx::query_as(
        "SELECT l.id, l.due_day, l.commune, c.name, i.label, l.crisis_id, l.holder_name \
         FROM kit_loans l JOIN kit_items i ON i.id = l.item_id JOIN communes c ON c.code = l.commune \
         WHERE l.returned_at IS NULL AND l.due_day >= $1 AND l.due_day <= $2 ORDER BY l.due_day, l.id",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(db.read())
    .await?;
    for (_, day, commune, name, label, crisis, holder) in loans {
        let Ok(day) = day.parse() else { continue };
        all.push(Due {
            day,
            link: crisis.map_or_else(
                || format!("/communes/{commune}/crise"),
                |id| format!("/crises/{id}"),
            ),
            title: format!("Retour du kit de crise : « {label} » prêté à {name} ({holder})"),
            commune: Some(commune),
            kind: "kit_return",
        });
    }
    for item in store::items(db).await? {
        let Some(day) = item.next_check() else {
            continue;
        };
        if day >= from && day <= to && item.state() != super::rules::State::OutOfOrder {
            all.push(Due {
                day,
                commune: None,
                title: format!("Contrôle annuel du kit de crise : « {} »", item.label),
                link: format!("/crise/materiels/{}", item.id),
                kind: "kit_check",
            });
        }
    }
    for booking in store::bookings(db, from, None).await? {
        let Ok(day) = booking.from_day.parse::<NaiveDate>() else {
            continue;
        };
        if day >= from && day <= to {
            all.push(Due {
                day,
                title: format!(
                    "Réservation du kit de crise : {} pour {}",
                    booking.what_fr(),
                    booking.commune_name
                ),
                link: format!("/crise/reservations#reservation-{}", booking.id),
                commune: Some(booking.commune),
                kind: "kit_booking",
            });
        }
    }
    all.sort_by(|a, b| a.day.cmp(&b.day).then(a.kind.cmp(b.kind)));
    Ok(all)
}
