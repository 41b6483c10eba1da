//! Sign-in rate limiting, per e-mail address, in the database so that every
//! replica sharing it counts the same failures: after
//! `login_max_failures` failures within `login_window_secs`, the address is
//! refused (429) until the oldest failure leaves the window, even with the
//! right password.

use crate::ServerSettings;
use crate::db::{Db, now_ms};

/// Whether `email` has used up its failures in the current window.
pub async fn blocked(db: &Db, settings: &ServerSettings, email: &str) -> Result<bool, sqlx::Error> {
    let since = now_ms() - settings.login_window_secs * 1000;
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE email = $1 AND at > $2")
            .bind(email)
            .bind(since)
            .fetch_one(&db.pool)
            .await?;
    Ok(count >= settings.login_max_failures)
}

/// Records a failure for `email`, and prunes the failures that have left
/// the window (for every address).
pub async fn record_failure(
    db: &Db,
    settings: &ServerSettings,
    email: &str,
) -> Result<(), sqlx::Error> {
    let now = now_ms();
    sqlx::query("DELETE FROM login_failures WHERE at <= $1")
        .bind(now - settings.login_window_secs * 1000)
        .execute(&db.pool)
        .await?;
    sqlx::query("INSERT INTO login_failures (email, at) VALUES ($1, $2)")
        .bind(email)
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Forgets the failures of `email` after a successful sign-in.
pub async fn clear(db: &Db, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE email = $1")
        .bind(email)
        .execute(&db.pool)
        .await?;
    Ok(())
}
