//! A commune's links to the modules: created by its users or the staff,
//! shared with its agents and elected officials, who open the modules with
//! no account. A link lasts [`LINK_DAYS`] unless it is revoked, and counts
//! the completions it brought today against
//! [`MAX_COMPLETIONS_PER_LINK_PER_DAY`].
//!
//! What it must never do: keep the token itself (only its BLAKE3 hash, as
//! the providers' links of the pre-audit), show a token twice, or let a
//! link that ended record anything.

use sqlx::FromRow;

use crate::db::{Db, random_hex, token_hash};
use crate::territory::CommuneCode;
use crate::{AppError, fr};

/// How long a link works: the agreement's awareness path lasts at most
/// three months, and people come back to a module later in the year.
pub const LINK_DAYS: i64 = 365;
/// Completions one link may record in one Paris day: a town hall's thirty
/// agents and elected officials each taking the six modules, with room to
/// retake a few. Beyond it the quiz is still marked, but not counted, so an
/// anonymous client cannot grow the database without bound.
pub const MAX_COMPLETIONS_PER_LINK_PER_DAY: i64 = 200;
/// Links a commune may have working at once (one per service, one lost
/// and replaced…): creating links is cheap, but not unbounded.
pub const MAX_ACTIVE_LINKS: i64 = 10;
/// The tokens' prefix, so that a link read aloud or pasted is recognised.
const PREFIX: &str = "vgf_";

#[derive(Clone, Debug, FromRow)]
pub struct Link {
    pub id: i64,
    pub commune: CommuneCode,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub counted_day: String,
    pub counted: i64,
}

impl Link {
    pub fn usable(&self, now: i64) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }

    /// « valable jusqu'au 06/04/2027 », « expiré le … », « fermé le … ».
    pub fn state_fr(&self, now: i64) -> String {
        match self.revoked_at {
            Some(at) => format!("fermé le {}", fr::date(at)),
            None if now >= self.expires_at => format!("expiré le {}", fr::date(self.expires_at)),
            None => format!("valable jusqu'au {}", fr::date(self.expires_at)),
        }
    }

    /// Completions recorded through the link today (`day`, Paris).
    pub fn counted_on(&self, day: &str) -> i64 {
        if self.counted_day == day {
            self.counted
        } else {
            0
        }
    }
}

const COLUMNS: &str = "id, commune, created_at, expires_at, revoked_at, counted_day, counted";

/// A new link for `commune`: its row id and its token, to show once.
pub async fn create(
    db: &Db,
    commune: &CommuneCode,
    created_by: Option<i64>,
    now: i64,
) -> Result<(i64, String), AppError> {
    let active: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM elearning_links \
         WHERE commune = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(commune)
    .bind(now)
    .fetch_one(&db.pool)
    .await?;
    if active >= MAX_ACTIVE_LINKS {
        return Err(AppError::Conflict(format!(
            "La commune a déjà {} en service : fermez-en un (en bas de cette page) avant d'en créer un autre.",
            fr::plural(active, "lien", "liens")
        )));
    }
    let token = format!("{PREFIX}{}", random_hex(16));
    let expires = now.saturating_add(LINK_DAYS * 86_400_000);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO elearning_links (commune, token_hash, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(commune)
    .bind(token_hash(&token))
    .bind(created_by)
    .bind(now)
    .bind(expires)
    .fetch_one(&db.pool)
    .await?;
    Ok((id, token))
}

/// The commune's links, newest first.
pub async fn list(db: &Db, commune: &CommuneCode) -> Result<Vec<Link>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM elearning_links WHERE commune = $1 ORDER BY id DESC"
    ))
    .bind(commune)
    .fetch_all(db.read())
    .await?)
}

/// Revokes link `id` of `commune`; false when the commune has no such
/// link, or it is already closed.
pub async fn revoke(db: &Db, commune: &CommuneCode, id: i64, now: i64) -> Result<bool, AppError> {
    let done = sqlx::query(
        "UPDATE elearning_links SET revoked_at = $1 \
         WHERE id = $2 AND commune = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(commune)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The link a token opens, usable or not; `None` for a token that was
/// never given.
pub async fn by_token(db: &Db, token: &str) -> Result<Option<Link>, AppError> {
    if token.len() > 64 || !token.starts_with(PREFIX) {
        return Ok(None);
    }
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM elearning_links WHERE token_hash = $1"
    ))
    .bind(token_hash(token))
    .fetch_optional(db.read())
    .await?)
}

/// Counts one completion through link `id` on `day`, in `tx`: false when
/// the link has reached today's cap or ended meanwhile (one statement, so
/// replicas sharing a database keep one count).
pub(super) async fn count_one(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    day: &str,
    now: i64,
) -> Result<bool, AppError> {
    let done = sqlx::query(
        "UPDATE elearning_links \
         SET counted = CASE WHEN counted_day = $1 THEN counted + 1 ELSE 1 END, counted_day = $1 \
         WHERE id = $2 AND revoked_at IS NULL AND expires_at > $3 \
           AND (counted_day <> $1 OR counted < $4)",
    )
    .bind(day)
    .bind(id)
    .bind(now)
    .bind(MAX_COMPLETIONS_PER_LINK_PER_DAY)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(revoked_at: Option<i64>) -> Link {
        Link {
            id: 1,
            commune: CommuneCode::parse("42218").unwrap(),
            created_at: 0,
            // 2027-04-06, Paris
            expires_at: 1_807_005_600_000,
            revoked_at,
            counted_day: "2026-07-14".to_owned(),
            counted: 12,
        }
    }

    #[test]
    fn a_link_says_its_state() {
        let now = 1_784_000_000_000; // 2026-07-14
        assert!(link(None).usable(now));
        assert_eq!(link(None).state_fr(now), "valable jusqu'au 06/04/2027");
        assert_eq!(
            link(None).state_fr(1_807_005_600_000),
            "expiré le 06/04/2027"
        );
        assert!(!link(Some(now)).usable(now));
        assert_eq!(link(Some(now)).state_fr(now), "fermé le 14/07/2026");
        assert_eq!(link(None).counted_on("2026-07-14"), 12);
        assert_eq!(link(None).counted_on("2026-07-15"), 0);
    }
}
