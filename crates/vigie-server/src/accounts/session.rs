//! Sessions: a random secret in the `vigie_session` cookie, only its hash in
//! the database (a copy of the table gives no way in), a CSRF token per
//! session, and an expiry that slides with use. Every replica reads the
//! same table, so a session works whichever replica a request reaches.

use axum::http::HeaderValue;

use super::{Caller, Role};
use crate::ServerSettings;
use crate::db::{Db, now_ms, random_hex, token_hash};
use crate::territory::CommuneCode;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "vigie_session";

/// An expiry is pushed back at most once a minute: without this, every
/// request would write to the database.
const EXTEND_EVERY_MS: i64 = 60_000;

/// Opens a session for `user_id` and returns its secret (the cookie's
/// value). Expired sessions of everyone are pruned on the way.
pub async fn open(db: &Db, settings: &ServerSettings, user_id: i64) -> Result<String, sqlx::Error> {
    let now = now_ms();
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&db.pool)
        .await?;
    let secret = random_hex(32);
    sqlx::query("INSERT INTO sessions (id_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(token_hash(&secret))
        .bind(user_id)
        .bind(random_hex(32))
        .bind(now)
        .bind(now + lifetime_ms(settings))
        .execute(&db.pool)
        .await?;
    Ok(secret)
}

/// The caller a session secret belongs to, if the session is alive and its
/// account active; extends the session's life.
pub async fn caller(
    db: &Db,
    settings: &ServerSettings,
    secret: &str,
) -> Result<Option<Caller>, sqlx::Error> {
    let id_hash = token_hash(secret);
    let row: Option<SessionRow> = sqlx::query_as(
        "SELECT s.user_id, s.csrf, s.expires_at, u.email, u.role, u.commune \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND u.disabled = 0",
    )
    .bind(&id_hash)
    .fetch_optional(db.read())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let now = now_ms();
    let expires_at = row.expires_at;
    if expires_at <= now {
        close(db, secret).await?;
        return Ok(None);
    }
    let lifetime = lifetime_ms(settings);
    if expires_at < now + lifetime - EXTEND_EVERY_MS {
        sqlx::query("UPDATE sessions SET expires_at = $1 WHERE id_hash = $2")
            .bind(now + lifetime)
            .bind(&id_hash)
            .execute(&db.pool)
            .await?;
    }
    let Some(role) = Role::parse(&row.role) else {
        tracing::error!(role = row.role, "unknown role in the users table");
        return Ok(None);
    };
    Ok(Some(Caller {
        user_id: row.user_id,
        email: row.email,
        role,
        commune: row.commune,
        csrf: Some(row.csrf),
    }))
}

/// A live session and its account, as [`caller`] reads them.
#[derive(sqlx::FromRow)]
struct SessionRow {
    user_id: i64,
    csrf: String,
    expires_at: i64,
    email: String,
    role: String,
    commune: Option<CommuneCode>,
}

/// Ends the session of `secret` (nothing happens if there is none).
pub async fn close(db: &Db, secret: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(token_hash(secret))
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Ends every session of `user_id` except the one of `keep` (after a
/// password change, a thief's session must not survive).
pub async fn close_others(db: &Db, user_id: i64, keep: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
        .bind(user_id)
        .bind(keep.map(token_hash).unwrap_or_default())
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The `Set-Cookie` value that hands `secret` to the browser: not readable
/// by scripts, not sent on cross-site sub-requests or POSTs, and only over
/// HTTPS when the server says it is behind it.
pub fn set_cookie(settings: &ServerSettings, secret: &str) -> HeaderValue {
    cookie_header(settings, &format!("{SESSION_COOKIE}={secret}"))
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(settings: &ServerSettings) -> HeaderValue {
    cookie_header(settings, &format!("{SESSION_COOKIE}=; Max-Age=0"))
}

fn cookie_header(settings: &ServerSettings, start: &str) -> HeaderValue {
    let secure = if settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let value = format!("{start}; HttpOnly; SameSite=Lax; Path=/{secure}");
    // Hex secrets and fixed text: always a valid header value.
    HeaderValue::from_str(&value)
        .unwrap_or_else(|_| HeaderValue::from_static("vigie_session=; Max-Age=0; Path=/"))
}

fn lifetime_ms(settings: &ServerSettings) -> i64 {
    settings.session_hours.max(1) * 3_600_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_attributes() {
        let plain = ServerSettings {
            secure_cookies: false,
            ..ServerSettings::default()
        };
        let secure = ServerSettings {
            secure_cookies: true,
            ..ServerSettings::default()
        };
        assert_eq!(
            set_cookie(&plain, "ab12"),
            "vigie_session=ab12; HttpOnly; SameSite=Lax; Path=/"
        );
        assert_eq!(
            set_cookie(&secure, "ab12"),
            "vigie_session=ab12; HttpOnly; SameSite=Lax; Path=/; Secure"
        );
        assert_eq!(
            clear_cookie(&plain),
            "vigie_session=; Max-Age=0; HttpOnly; SameSite=Lax; Path=/"
        );
    }
}
