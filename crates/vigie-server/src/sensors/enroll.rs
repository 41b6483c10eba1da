//! Creating a sensor and enrolling it: the staff creates a sensor for a
//! commune and gets a one-time code, which the installer types into the box;
//! the box exchanges it (`POST /api/v1/sensors/enroll`) for its own secret
//! token. The server keeps only hashes of the code and of the token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{ApiError, SensorError};
use crate::AppState;
use crate::accounts::audit;
use crate::db::{self, Db};
use crate::territory::CommuneCode;

/// How long an enrolment code stays valid.
pub const CODE_LIFETIME_MS: i64 = 7 * 24 * 3600 * 1000;

/// The code's alphabet: capitals and digits without the look-alikes
/// (0/O, 1/I/L), so a code read over the phone is typed right.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_GROUPS: usize = 4;
const CODE_GROUP_LEN: usize = 4;

/// A sensor just created, with its enrolment code: the only time the code
/// is shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSensor {
    pub sensor_id: String,
    pub code: String,
}

/// Creates a sensor for `commune` (an INSEE code of the `communes` table)
/// and returns its one-time enrolment code, valid for 7 days. What
/// `vigie sensors add` calls; the action goes to the audit log.
pub async fn add_sensor(db: &Db, commune: &str) -> Result<NewSensor, SensorError> {
    let sensor = create(db, commune).await?;
    audit(
        db,
        None,
        "sensor_add",
        &format!("{} (commune {commune})", sensor.sensor_id),
    )
    .await;
    Ok(sensor)
}

/// Creates the sensor, without the audit entry (the pages write their own,
/// naming who did it).
pub(super) async fn create(db: &Db, commune: &str) -> Result<NewSensor, SensorError> {
    // Text that is no INSEE code names no commune of the territory.
    let unknown = || SensorError::UnknownCommune(commune.to_owned());
    let commune = CommuneCode::parse(commune).map_err(|_| unknown())?;
    let known: Option<CommuneCode> =
        sqlx::query_scalar("SELECT code FROM communes WHERE code = $1")
            .bind(commune)
            .fetch_optional(db.read())
            .await?;
    if known.is_none() {
        return Err(unknown());
    }
    let now = db::now_ms();
    // 32 bits of id: a collision is rare, and retried.
    for _ in 0..5 {
        let sensor_id = format!("cap-{}", db::random_hex(4));
        let code = new_code();
        let inserted = sqlx::query(
            "INSERT INTO sensors (id, commune, enroll_code_hash, enroll_expires_at, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&sensor_id)
        .bind(commune)
        .bind(db::token_hash(&normalize_code(&code)))
        .bind(now + CODE_LIFETIME_MS)
        .bind(now)
        .execute(&db.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            tracing::info!(%sensor_id, %commune, "sensor created");
            return Ok(NewSensor { sensor_id, code });
        }
    }
    Err(SensorError::Db(sqlx::Error::Protocol(
        "no free sensor id after 5 tries".to_owned(),
    )))
}

/// Revokes a sensor: its token stops working at once and an unused
/// enrolment code is cancelled. False when there is no such sensor.
pub async fn revoke_sensor(db: &Db, sensor_id: &str) -> Result<bool, SensorError> {
    let done = sqlx::query(
        "UPDATE sensors SET revoked = 1, enroll_code_hash = NULL, enroll_expires_at = NULL
         WHERE id = $1",
    )
    .bind(sensor_id)
    .execute(&db.pool)
    .await?;
    let revoked = done.rows_affected() == 1;
    if revoked {
        audit(db, None, "sensor_revoke", sensor_id).await;
    }
    Ok(revoked)
}

#[derive(serde::Deserialize)]
pub(super) struct EnrollRequest {
    code: String,
}

#[derive(serde::Serialize)]
struct Enrolled {
    sensor_id: String,
    token: String,
    /// The commune's INSEE code, so the box's configuration names it
    /// without the installer typing it.
    commune: CommuneCode,
}

/// `POST /api/v1/sensors/enroll`: `{"code": "..."}` → `{"sensor_id", "token"}`.
/// The code is consumed in the same statement that stores the token, so two
/// boxes racing with one code cannot both get a token.
pub(super) async fn enroll(
    State(state): State<AppState>,
    body: Result<Json<EnrollRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body.map_err(|e| {
        ApiError::Refused(
            StatusCode::BAD_REQUEST,
            format!(
                "demande illisible, attendu {{\"code\": \"...\"}} : {}",
                e.body_text()
            ),
        )
    })?;
    let code_hash = db::token_hash(&normalize_code(&request.code));
    let token = db::random_hex(32);
    let now = db::now_ms();
    let row: Option<(String, CommuneCode)> = sqlx::query_as(
        "UPDATE sensors SET token_hash = $1, installed_at = $2,
             enroll_code_hash = NULL, enroll_expires_at = NULL
         WHERE enroll_code_hash = $3 AND enroll_expires_at > $2 AND revoked = 0
         RETURNING id, commune",
    )
    .bind(db::token_hash(&token))
    .bind(now)
    .bind(&code_hash)
    .fetch_optional(&state.db.pool)
    .await?;
    if let Some((sensor_id, commune)) = row {
        tracing::info!(%sensor_id, "sensor enrolled");
        audit(&state.db, None, "sensor_enroll", &sensor_id).await;
        return Ok(Json(Enrolled {
            sensor_id,
            token,
            commune,
        })
        .into_response());
    }
    let expired = sqlx::query("SELECT id FROM sensors WHERE enroll_code_hash = $1")
        .bind(&code_hash)
        .fetch_optional(state.db.read())
        .await?;
    Err(match expired {
        Some(_) => ApiError::Refused(
            StatusCode::GONE,
            "code d'enrôlement expiré : demandez un nouveau capteur à l'opérateur".to_owned(),
        ),
        None => ApiError::Refused(
            StatusCode::UNAUTHORIZED,
            "code d'enrôlement inconnu ou déjà utilisé".to_owned(),
        ),
    })
}

/// A fresh code, e.g. `K7QM-3XWA-PD9T-HN4E` (about 79 bits).
fn new_code() -> String {
    let mut code = String::with_capacity(CODE_GROUPS * (CODE_GROUP_LEN + 1));
    let mut produced = 0;
    while produced < CODE_GROUPS * CODE_GROUP_LEN {
        let mut bytes = [0u8; 32];
        random_bytes(&mut bytes);
        // Rejection sampling keeps every character equally likely.
        let limit = 256 - 256 % CODE_ALPHABET.len();
        for byte in bytes.iter().map(|b| usize::from(*b)).filter(|b| *b < limit) {
            if produced == CODE_GROUPS * CODE_GROUP_LEN {
                break;
            }
            if produced > 0 && produced % CODE_GROUP_LEN == 0 {
                code.push('-');
            }
            code.push(char::from(CODE_ALPHABET[byte % CODE_ALPHABET.len()]));
            produced += 1;
        }
    }
    code
}

/// Fills `buf` from the system's randomness; without it, from
/// [`db::random_hex`]'s fallback (which logs the problem).
fn random_bytes(buf: &mut [u8]) {
    if getrandom::fill(buf).is_ok() {
        return;
    }
    let hex = db::random_hex(buf.len());
    for (byte, pair) in buf.iter_mut().zip(hex.as_bytes().chunks(2)) {
        *byte = std::str::from_utf8(pair)
            .ok()
            .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            .unwrap_or(0);
    }
}

/// What is hashed: the code without separators, in capitals, so that
/// `k7qm 3xwa pd9t hn4e` is the same code.
fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_typable_and_distinct() {
        let code = new_code();
        assert_eq!(code.len(), 19, "{code}");
        let groups: Vec<&str> = code.split('-').collect();
        assert_eq!(groups.len(), 4, "{code}");
        assert!(groups.iter().all(|g| g.len() == 4));
        assert!(
            code.bytes()
                .filter(|b| *b != b'-')
                .all(|b| CODE_ALPHABET.contains(&b)),
            "{code}"
        );
        assert_ne!(new_code(), new_code());
    }

    #[test]
    fn normalization_ignores_case_and_separators() {
        assert_eq!(normalize_code("k7qm 3xwa-pd9t_hn4e\n"), "K7QM3XWAPD9THN4E");
        assert_eq!(normalize_code("K7QM-3XWA-PD9T-HN4E"), "K7QM3XWAPD9THN4E");
    }
}
