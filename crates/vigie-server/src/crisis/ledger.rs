//! Who holds what: loans (`kit_loans`), their signed forms (`kit_scans`)
//! and the wipes that follow them (`kit_wipes`). Each change of an item's
//! state is one conditional `UPDATE` in the transaction that records why,
//! with its line of history: two people lending the same laptop at once
//! lend it once.
//!
//! What it must never do: lend an item that is not available (the rules
//! are checked before, the `UPDATE … WHERE state = 'available'` again
//! here), put a returned item back to available without a wipe, or keep a
//! scan larger than [`MAX_SCAN`].

use chrono::NaiveDate;
use sqlx::FromRow;

use super::rules::{DataOutcome, Kind};
use super::store::event;
use crate::db::{Db, now_ms, random_hex};

/// The largest signed scan kept (a few pages photographed by a phone).
pub const MAX_SCAN: usize = 10 * 1024 * 1024;

#[derive(Clone, Debug, FromRow)]
pub struct Loan {
    pub id: i64,
    pub item_id: i64,
    pub item_label: String,
    pub item_kind: String,
    pub serial: String,
    pub imei: String,
    pub address: String,
    pub commune: String,
    pub commune_name: String,
    pub crisis_id: Option<i64>,
    pub booking_id: Option<i64>,
    pub handover: String,
    pub holder_name: String,
    pub holder_role: String,
    pub lent_at: i64,
    pub due_day: String,
    pub signatory: Option<String>,
    pub acceptance_scan: Option<i64>,
    pub returned_at: Option<i64>,
    pub returned_by: Option<String>,
    pub return_condition: Option<String>,
    pub data_outcome: Option<String>,
    pub return_scan: Option<i64>,
    pub wipe_day: Option<String>,
    pub wiped_by: Option<String>,
    pub wipe_method: Option<String>,
}

impl Loan {
    pub fn kind(&self) -> Kind {
        Kind::parse(&self.item_kind).unwrap_or(Kind::Laptop)
    }

    pub fn due(&self) -> Option<NaiveDate> {
        self.due_day.parse().ok()
    }

    pub fn outcome(&self) -> Option<DataOutcome> {
        self.data_outcome.as_deref().and_then(DataOutcome::parse)
    }

    pub fn identifiers_fr(&self) -> String {
        [
            (!self.serial.is_empty()).then(|| format!("n° de série {}", self.serial)),
            (!self.imei.is_empty()).then(|| format!("IMEI {}", self.imei)),
            (!self.address.is_empty()).then(|| self.address.clone()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
    }
}

const LOAN_COLUMNS: &str = "l.id, l.item_id, i.label AS item_label, i.kind AS item_kind, i.serial, \
     i.imei, i.address, l.commune, c.name AS commune_name, l.crisis_id, l.booking_id, l.handover, \
     l.holder_name, l.holder_role, l.lent_at, l.due_day, l.signatory, l.acceptance_scan, \
     l.returned_at, l.returned_by, l.return_condition, l.data_outcome, l.return_scan, \
     w.day AS wipe_day, w.wiped_by, w.method AS wipe_method \
     FROM kit_loans l JOIN kit_items i ON i.id = l.item_id JOIN communes c ON c.code = l.commune \
     LEFT JOIN kit_wipes w ON w.loan_id = l.id";

/// Which loans to list.
#[derive(Clone, Copy, Debug, Default)]
pub struct Filter<'a> {
    pub crisis: Option<i64>,
    pub commune: Option<&'a str>,
    pub item: Option<i64>,
    pub handover: Option<&'a str>,
    /// Only the loans not yet returned.
    pub out: bool,
}

pub async fn loans(db: &Db, filter: Filter<'_>) -> Result<Vec<Loan>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {LOAN_COLUMNS} WHERE ($1 IS NULL OR l.crisis_id = $1) AND ($2 IS NULL OR l.commune = $2) \
         AND ($3 IS NULL OR l.item_id = $3) AND ($4 IS NULL OR l.handover = $4) \
         AND ($5 = 0 OR l.returned_at IS NULL) ORDER BY l.lent_at DESC, l.id LIMIT 2000"
    ))
    .bind(filter.crisis)
    .bind(filter.commune)
    .bind(filter.item)
    .bind(filter.handover)
    .bind(i64::from(filter.out))
    .fetch_all(&db.pool)
    .await
}

pub async fn loan(db: &Db, id: i64) -> Result<Option<Loan>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {LOAN_COLUMNS} WHERE l.id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}

/// Whether the last loan of `item` came back without an attested wipe.
pub async fn unwiped(db: &Db, item: i64) -> Result<bool, sqlx::Error> {
    let last: Option<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT l.id, w.id FROM kit_loans l LEFT JOIN kit_wipes w ON w.loan_id = l.id \
         WHERE l.item_id = $1 ORDER BY l.lent_at DESC, l.id DESC LIMIT 1",
    )
    .bind(item)
    .fetch_optional(&db.pool)
    .await?;
    Ok(matches!(last, Some((_, None))))
}

/// A handover: the items, to whom, for what, until when.
#[derive(Clone, Debug)]
pub struct Handover {
    pub items: Vec<i64>,
    pub commune: String,
    pub crisis: Option<i64>,
    pub booking: Option<i64>,
    pub holder_name: String,
    pub holder_role: String,
    pub due: NaiveDate,
}

/// Lends the items, all or none: the handover's id, or the label of an
/// item that was no longer available.
pub async fn lend(
    db: &Db,
    handover: &Handover,
    user: Option<i64>,
) -> Result<Result<String, String>, sqlx::Error> {
    let id = random_hex(8);
    let now = now_ms();
    let mut tx = db.pool.begin().await?;
    for item in &handover.items {
        let taken = sqlx::query(
            "UPDATE kit_items SET state = 'lent' WHERE id = $1 AND state = 'available'",
        )
        .bind(item)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !taken {
            let label: Option<String> =
                sqlx::query_scalar("SELECT label FROM kit_items WHERE id = $1")
                    .bind(item)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Ok(Err(label.unwrap_or_default()));
        }
        sqlx::query(
            "INSERT INTO kit_loans (item_id, commune, crisis_id, booking_id, handover, holder_name, \
             holder_role, lent_at, lent_by, due_day) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(item)
        .bind(&handover.commune)
        .bind(handover.crisis)
        .bind(handover.booking)
        .bind(&id)
        .bind(&handover.holder_name)
        .bind(&handover.holder_role)
        .bind(now)
        .bind(user)
        .bind(handover.due.to_string())
        .execute(&mut *tx)
        .await?;
        let what = format!(
            "Prêté à {} ({}), commune {}, retour prévu le {}.",
            handover.holder_name,
            handover.holder_role,
            handover.commune,
            crate::fr::day(handover.due)
        );
        event(&mut tx, Some(*item), handover.crisis, user, &what).await?;
    }
    tx.commit().await?;
    Ok(Ok(id))
}

/// A signed form as uploaded.
pub struct Scan<'a> {
    pub name: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

async fn store_scan(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    scan: &Scan<'_>,
    user: Option<i64>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO kit_scans (name, content_type, size, content, uploaded_by, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(scan.name)
    .bind(scan.content_type)
    .bind(i64::try_from(scan.bytes.len()).unwrap_or(i64::MAX))
    .bind(scan.bytes.to_vec())
    .bind(user)
    .bind(now_ms())
    .fetch_one(&mut **tx)
    .await
}

/// The commune's acceptance of a handover: who signed the loan form, and
/// its scan, for every item of the handover.
pub async fn accept(
    db: &Db,
    loan: &Loan,
    signatory: &str,
    scan: &Scan<'_>,
    user: Option<i64>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let scan_id = store_scan(&mut tx, scan, user).await?;
    sqlx::query("UPDATE kit_loans SET signatory = $1, acceptance_scan = $2, accepted_at = $3 WHERE handover = $4")
        .bind(signatory)
        .bind(scan_id)
        .bind(now_ms())
        .bind(&loan.handover)
        .execute(&mut *tx)
        .await?;
    let items: Vec<i64> = sqlx::query_scalar("SELECT item_id FROM kit_loans WHERE handover = $1")
        .bind(&loan.handover)
        .fetch_all(&mut *tx)
        .await?;
    for item in items {
        let what = format!("Fiche de prêt signée par {signatory} pour la commune.");
        event(&mut tx, Some(item), loan.crisis_id, user, &what).await?;
    }
    tx.commit().await
}

/// What the return records.
pub struct Return<'a> {
    pub returned_by: &'a str,
    pub condition: &'a str,
    pub outcome: DataOutcome,
}

/// Records a return: the item goes to "to wipe". False if it was already
/// returned.
pub async fn give_back(
    db: &Db,
    loan: &Loan,
    back: &Return<'_>,
    user: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query(
        "UPDATE kit_loans SET returned_at = $1, returned_by = $2, return_condition = $3, data_outcome = $4 \
         WHERE id = $5 AND returned_at IS NULL",
    )
    .bind(now_ms())
    .bind(back.returned_by)
    .bind(back.condition)
    .bind(back.outcome.id())
    .bind(loan.id)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !done {
        return Ok(false);
    }
    sqlx::query("UPDATE kit_items SET state = 'to_wipe' WHERE id = $1 AND state = 'lent'")
        .bind(loan.item_id)
        .execute(&mut *tx)
        .await?;
    let data = match back.outcome {
        DataOutcome::Returned => "données de la commune à lui restituer",
        DataOutcome::Destroyed => "données de la commune à détruire",
    };
    let what = format!(
        "Rendu par {} ; état : {} ; {data}. À effacer.",
        back.returned_by, back.condition
    );
    event(&mut tx, Some(loan.item_id), loan.crisis_id, user, &what).await?;
    tx.commit().await?;
    Ok(true)
}

/// The return form signed at the return.
pub async fn sign_return(
    db: &Db,
    loan: &Loan,
    scan: &Scan<'_>,
    user: Option<i64>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let scan_id = store_scan(&mut tx, scan, user).await?;
    sqlx::query("UPDATE kit_loans SET return_scan = $1, return_signed_at = $2 WHERE id = $3")
        .bind(scan_id)
        .bind(now_ms())
        .bind(loan.id)
        .execute(&mut *tx)
        .await?;
    event(
        &mut tx,
        Some(loan.item_id),
        loan.crisis_id,
        user,
        "Fiche de restitution signée déposée.",
    )
    .await?;
    tx.commit().await
}

/// A stored scan: name, content type, bytes.
pub async fn scan(db: &Db, id: i64) -> Result<Option<(String, String, Vec<u8>)>, sqlx::Error> {
    sqlx::query_as("SELECT name, content_type, content FROM kit_scans WHERE id = $1")
        .bind(id)
        .fetch_optional(db.read())
        .await
}

/// What the wipe attestation records.
pub struct Wipe<'a> {
    pub day: NaiveDate,
    pub wiped_by: &'a str,
    pub method: &'a str,
}

/// Attests the wipe of `loan`'s item, which goes back to available (or
/// stays out of order). False if that loan was not returned or is wiped.
pub async fn wipe(
    db: &Db,
    loan: &Loan,
    wipe: &Wipe<'_>,
    user: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query(
        "INSERT INTO kit_wipes (item_id, loan_id, day, wiped_by, method, recorded_by, recorded_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM kit_loans WHERE id = $2 \
         AND returned_at IS NOT NULL) AND NOT EXISTS (SELECT 1 FROM kit_wipes WHERE loan_id = $2)",
    )
    .bind(loan.item_id)
    .bind(loan.id)
    .bind(wipe.day.to_string())
    .bind(wipe.wiped_by)
    .bind(wipe.method)
    .bind(user)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !done {
        return Ok(false);
    }
    sqlx::query("UPDATE kit_items SET state = 'available' WHERE id = $1 AND state = 'to_wipe'")
        .bind(loan.item_id)
        .execute(&mut *tx)
        .await?;
    let what = format!(
        "Effacement attesté le {} par {} : {}. Disponible.",
        crate::fr::day(wipe.day),
        wipe.wiped_by,
        wipe.method
    );
    event(&mut tx, Some(loan.item_id), loan.crisis_id, user, &what).await?;
    tx.commit().await?;
    Ok(true)
}

/// The last returned loan of `item` still waiting for its wipe.
pub async fn to_wipe(db: &Db, item: i64) -> Result<Option<Loan>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {LOAN_COLUMNS} WHERE l.item_id = $1 AND l.returned_at IS NOT NULL AND w.id IS NULL \
         ORDER BY l.returned_at DESC LIMIT 1"
    ))
    .bind(item)
    .fetch_optional(&db.pool)
    .await
}
