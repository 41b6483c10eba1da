//! Ending access (issue 14): personal API tokens listed, given an expiry
//! and revoked; accounts disabled and enabled again. What `vigie token`,
//! `vigie user` and the account pages call.
//!
//! A token is known to its owner and the staff by its prefix (`vgt_` and
//! eight hex digits, shown when it is created and kept in clear): enough
//! to tell one's tokens apart, a negligible part of the 256-bit secret.
//! Disabling an account ends its sessions and revokes its tokens at once
//! (and every lookup joins on the account being active).

use super::journal::audit;
use super::users::normalize_email;
use super::{AccountError, Role};
use crate::db::{Db, Flag, now_ms, random_hex, token_hash};
use crate::territory::CommuneCode;

/// Characters of a token kept in clear: `vgt_` and eight hex digits.
pub const TOKEN_PREFIX_CHARS: usize = 12;

/// Longest expiry a token may be given, in days (ten years).
pub const MAX_TOKEN_DAYS: u32 = 3650;

/// Longest label a token may carry.
const MAX_LABEL_CHARS: usize = 100;

/// What a new token is for and how long it lives.
#[derive(Clone, Debug, Default)]
pub struct NewToken {
    /// A name its owner recognises ("script de sauvegarde").
    pub label: String,
    /// Days until it stops working; `None`: until revoked.
    pub expires_in_days: Option<u32>,
}

/// A token as its owner and the staff see it: never the secret.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TokenInfo {
    #[sqlx(rename = "id_prefix")]
    pub prefix: String,
    pub label: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    #[sqlx(try_from = "Flag")]
    pub revoked: bool,
}

impl TokenInfo {
    /// Whether it still opens the API at `now`.
    pub fn active(&self, now: i64) -> bool {
        !self.revoked && self.expires_at.is_none_or(|at| at > now)
    }
}

/// An account as the administrator's list shows it.
#[derive(Clone, Debug)]
pub struct UserInfo {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub commune: Option<CommuneCode>,
    pub disabled: bool,
    pub active_tokens: i64,
}

/// Creates a personal API token for the active account `email` and returns
/// it (shown once: only its hash is stored).
pub async fn create_token_with(
    db: &Db,
    email: &str,
    new: &NewToken,
) -> Result<String, AccountError> {
    let email = normalize_email(email);
    if new
        .expires_in_days
        .is_some_and(|days| days == 0 || days > MAX_TOKEN_DAYS)
    {
        return Err(AccountError::TokenLifetime);
    }
    let label: String = new.label.trim().chars().take(MAX_LABEL_CHARS).collect();
    let user_id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1 AND disabled = 0")
            .bind(&email)
            .fetch_optional(db.read())
            .await?;
    let Some(user_id) = user_id else {
        return Err(AccountError::UnknownUser(email));
    };
    let token = format!("vgt_{}", random_hex(32));
    let prefix: String = token.chars().take(TOKEN_PREFIX_CHARS).collect();
    let now = now_ms();
    let expires_at = new
        .expires_in_days
        .map(|days| now + i64::from(days) * 86_400_000);
    sqlx::query(
        "INSERT INTO api_tokens (token_hash, user_id, created_at, expires_at, label, id_prefix) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash(&token))
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .bind(&label)
    .bind(&prefix)
    .execute(&db.pool)
    .await?;
    audit(
        db,
        Some(user_id),
        "token_create",
        &format!("{email} {prefix}"),
    )
    .await;
    Ok(token)
}

/// The tokens of `user_id`, newest first.
pub async fn tokens_of(db: &Db, user_id: i64) -> Result<Vec<TokenInfo>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id_prefix, label, created_at, expires_at, revoked FROM api_tokens \
         WHERE user_id = $1 ORDER BY created_at DESC",
    )
    .bind(user_id)
    .fetch_all(db.read())
    .await
}

/// The tokens of the account `email`.
pub async fn tokens_of_email(db: &Db, email: &str) -> Result<Vec<TokenInfo>, AccountError> {
    let user_id = existing_user(db, email).await?;
    Ok(tokens_of(db, user_id).await?)
}

/// Revokes the token given whole or by its prefix. With `owner`, only one
/// of that account's tokens (a person revoking their own); without, any
/// (the administrator's command line). False when no such active token.
pub async fn revoke_token(
    db: &Db,
    token_or_prefix: &str,
    owner: Option<i64>,
) -> Result<bool, AccountError> {
    let given = token_or_prefix.trim();
    let shaped = |hex_digits: usize| {
        given.len() == 4 + hex_digits
            && given.starts_with("vgt_")
            && given.bytes().skip(4).all(|b| b.is_ascii_hexdigit())
    };
    let row: Option<(i64, String)> = if shaped(64) {
        sqlx::query_as(
            "UPDATE api_tokens SET revoked = 1 WHERE token_hash = $1 AND revoked = 0 \
             AND ($2 < 0 OR user_id = $2) RETURNING user_id, id_prefix",
        )
        .bind(token_hash(given))
        .bind(owner.unwrap_or(-1))
        .fetch_optional(&db.pool)
        .await?
    } else if shaped(TOKEN_PREFIX_CHARS - 4) {
        let matching: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM api_tokens WHERE id_prefix = $1 AND revoked = 0 AND ($2 < 0 OR user_id = $2)",
        )
        .bind(given)
        .bind(owner.unwrap_or(-1))
        .fetch_one(&db.pool)
        .await?;
        if matching > 1 {
            return Err(AccountError::AmbiguousToken(given.to_owned()));
        }
        sqlx::query_as(
            "UPDATE api_tokens SET revoked = 1 WHERE id_prefix = $1 AND revoked = 0 \
             AND ($2 < 0 OR user_id = $2) RETURNING user_id, id_prefix",
        )
        .bind(given)
        .bind(owner.unwrap_or(-1))
        .fetch_optional(&db.pool)
        .await?
    } else {
        return Err(AccountError::TokenShape(given.chars().take(40).collect()));
    };
    let Some((user_id, prefix)) = row else {
        return Ok(false);
    };
    audit(db, Some(user_id), "token_revoke", &prefix).await;
    Ok(true)
}

/// Revokes every active token of `user_id`; how many.
pub async fn revoke_all_tokens(db: &Db, user_id: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE user_id = $1 AND revoked = 0")
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    if done.rows_affected() > 0 {
        let detail = crate::fr::plural(
            i64::try_from(done.rows_affected()).unwrap_or(i64::MAX),
            "jeton",
            "jetons",
        );
        audit(db, Some(user_id), "token_revoke_all", &detail).await;
    }
    Ok(done.rows_affected())
}

/// Disables the account `email`: its sessions end now, its tokens are
/// revoked, it can no longer sign in. False if it already was.
pub async fn disable_user(db: &Db, email: &str) -> Result<bool, AccountError> {
    let user_id = existing_user(db, email).await?;
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query("UPDATE users SET disabled = 1 WHERE id = $1 AND disabled = 0")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    // Revoked, not only refused: enabling the account again must not
    // bring back tokens that may have leaked with it.
    sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE user_id = $1 AND revoked = 0")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let changed = done.rows_affected() == 1;
    if changed {
        audit(db, Some(user_id), "user_disable", &normalize_email(email)).await;
    }
    Ok(changed)
}

/// Enables the account `email` again (its revoked tokens stay revoked).
/// False if it was not disabled.
pub async fn enable_user(db: &Db, email: &str) -> Result<bool, AccountError> {
    let user_id = existing_user(db, email).await?;
    let done = sqlx::query("UPDATE users SET disabled = 0 WHERE id = $1 AND disabled = 1")
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    let changed = done.rows_affected() == 1;
    if changed {
        audit(db, Some(user_id), "user_enable", &normalize_email(email)).await;
    }
    Ok(changed)
}

/// Every account, by e-mail address, with its count of working tokens.
pub async fn users(db: &Db) -> Result<Vec<UserInfo>, sqlx::Error> {
    let rows: Vec<UserRow> = sqlx::query_as(
        "SELECT u.id, u.email, u.role, u.commune, u.disabled, \
                (SELECT COUNT(*) FROM api_tokens t WHERE t.user_id = u.id AND t.revoked = 0 \
                   AND (t.expires_at IS NULL OR t.expires_at > $1)) AS active_tokens \
         FROM users u ORDER BY u.email",
    )
    .bind(now_ms())
    .fetch_all(db.read())
    .await?;
    let mut users = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(role) = Role::parse(&row.role) else {
            tracing::error!(role = row.role, "unknown role in the users table");
            continue;
        };
        users.push(UserInfo {
            id: row.id,
            email: row.email,
            role,
            commune: row.commune,
            disabled: row.disabled,
            active_tokens: row.active_tokens,
        });
    }
    Ok(users)
}

/// An account as [`users`] reads it, its role still text.
#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    role: String,
    commune: Option<CommuneCode>,
    #[sqlx(try_from = "Flag")]
    disabled: bool,
    active_tokens: i64,
}

/// The e-mail address of account `id`, if it exists.
pub async fn email_of(db: &Db, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(db.read())
        .await
}

async fn existing_user(db: &Db, email: &str) -> Result<i64, AccountError> {
    let email = normalize_email(email);
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_optional(&db.pool)
        .await?;
    id.ok_or(AccountError::NoSuchUser(email))
}
