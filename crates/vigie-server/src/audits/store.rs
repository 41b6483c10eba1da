//! The `audits`, `audit_answers` and `audit_changes` tables: a round
//! started with the questionnaires of the day, answers saved one at a time
//! or many in one transaction (all or nothing), every change kept with who
//! made it and when, a follow-up round starting from the answers before.

use std::collections::BTreeMap;

use sqlx::FromRow;

use super::questionnaire::Book;
use crate::db::random_hex;
use crate::{AppError, Db};

/// The most rounds a commune's history lists.
const HISTORY_LIMIT: i64 = 100;

/// An audit round, with the questionnaires it was started with.
#[derive(Clone, Debug)]
pub struct Audit {
    pub id: String,
    pub commune: String,
    /// 1 for the diagnostic, then 2, 3… for the follow-ups.
    pub round: i64,
    pub previous: Option<String>,
    pub book: Book,
    pub created_at: i64,
}

#[derive(FromRow)]
struct AuditRow {
    id: String,
    commune: String,
    round: i64,
    previous: Option<String>,
    questionnaires: String,
    created_at: i64,
}

impl TryFrom<AuditRow> for Audit {
    type Error = AppError;

    fn try_from(row: AuditRow) -> Result<Audit, AppError> {
        let book = serde_json::from_str(&row.questionnaires)
            .map_err(|e| AppError::Internal(format!("audit {} questionnaires: {e}", row.id)))?;
        Ok(Audit {
            id: row.id,
            commune: row.commune,
            round: row.round,
            previous: row.previous,
            book,
            created_at: row.created_at,
        })
    }
}

/// One stored answer.
#[derive(Clone, Debug, FromRow)]
pub struct AnswerRow {
    pub question: String,
    pub answer: String,
    pub comment: String,
    pub answered_by: String,
    pub answered_at: i64,
}

/// One answer to save: the question, the answer, and a comment when one
/// was given (`None` keeps the stored one).
#[derive(Clone, Debug)]
pub struct Update {
    pub question: String,
    pub answer: String,
    pub comment: Option<String>,
}

/// Starts a first round for `commune` with the questionnaires `book`.
pub async fn create(
    db: &Db,
    commune: &str,
    book: &Book,
    by: i64,
    now: i64,
) -> Result<String, AppError> {
    insert(db, commune, 1, None, book, by, now).await
}

async fn insert(
    db: &Db,
    commune: &str,
    round: i64,
    previous: Option<&str>,
    book: &Book,
    by: i64,
    now: i64,
) -> Result<String, AppError> {
    let id = random_hex(12);
    let questionnaires = serde_json::to_string(book)
        .map_err(|e| AppError::Internal(format!("questionnaires: {e}")))?;
    sqlx::query(
        "INSERT INTO audits (id, commune, round, previous, questionnaires, created_by, created_at, book_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(commune)
    .bind(round)
    .bind(previous)
    .bind(&questionnaires)
    .bind(by)
    .bind(now)
    .bind(book_key(&questionnaires))
    .execute(&db.pool)
    .await?;
    Ok(id)
}

/// The key of a round's questionnaires, the BLAKE3 of their JSON: rounds
/// started with the same questionnaires share it (see `bulk`).
fn book_key(questionnaires: &str) -> String {
    blake3::hash(questionnaires.as_bytes()).to_hex().to_string()
}

/// A follow-up round of `previous`, with today's questionnaires `book`,
/// starting from the previous answers that are still questions and
/// answers of `book` (recorded as carried over, not as anyone's change).
pub async fn follow_up(
    db: &Db,
    previous: &Audit,
    book: &Book,
    by: i64,
    now: i64,
) -> Result<String, AppError> {
    let carried: Vec<AnswerRow> = answers(db, &previous.id)
        .await?
        .into_iter()
        .filter(|row| {
            book.question(&row.question)
                .is_some_and(|question| book.check_answer(question, &row.answer).is_ok())
        })
        .collect();
    let id = random_hex(12);
    let questionnaires = serde_json::to_string(book)
        .map_err(|e| AppError::Internal(format!("questionnaires: {e}")))?;
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO audits (id, commune, round, previous, questionnaires, created_by, created_at, book_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(&previous.commune)
    .bind(previous.round.saturating_add(1))
    .bind(&previous.id)
    .bind(&questionnaires)
    .bind(by)
    .bind(now)
    .bind(book_key(&questionnaires))
    .execute(&mut *tx)
    .await?;
    // The round before is over: its providers' links close.
    sqlx::query("UPDATE audit_providers SET revoked = 1 WHERE audit_id = $1")
        .bind(&previous.id)
        .execute(&mut *tx)
        .await?;
    for row in carried {
        sqlx::query(
            "INSERT INTO audit_answers (audit_id, question, answer, comment, answered_by, answered_at) \
             VALUES ($1, $2, $3, $4, 'previous', $5)",
        )
        .bind(&id)
        .bind(&row.question)
        .bind(&row.answer)
        .bind(&row.comment)
        .bind(row.answered_at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Audit>, AppError> {
    let row: Option<AuditRow> = sqlx::query_as(
        "SELECT id, commune, round, previous, questionnaires, created_at FROM audits WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.read())
    .await?;
    row.map(Audit::try_from).transpose()
}

/// A commune's rounds, newest first, without their questionnaires.
#[derive(Clone, Debug, FromRow)]
pub struct AuditSummary {
    pub id: String,
    pub round: i64,
    pub previous: Option<String>,
    pub created_at: i64,
}

pub async fn history(db: &Db, commune: &str) -> Result<Vec<AuditSummary>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, round, previous, created_at FROM audits WHERE commune = $1 \
         ORDER BY created_at DESC, round DESC LIMIT $2",
    )
    .bind(commune)
    .bind(HISTORY_LIMIT)
    .fetch_all(db.read())
    .await?)
}

pub async fn answers(db: &Db, id: &str) -> Result<Vec<AnswerRow>, AppError> {
    Ok(sqlx::query_as(
        "SELECT question, answer, comment, answered_by, answered_at FROM audit_answers \
         WHERE audit_id = $1 ORDER BY question",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?)
}

/// The answers by question id.
pub async fn answer_map(db: &Db, id: &str) -> Result<BTreeMap<String, String>, AppError> {
    Ok(answers(db, id)
        .await?
        .into_iter()
        .map(|row| (row.question, row.answer))
        .collect())
}

/// The answer to `question` in `commune`'s latest round, if it has one.
pub async fn latest_answer(
    db: &Db,
    commune: &str,
    question: &str,
) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT answer FROM audit_answers WHERE question = $2 AND audit_id = \
         (SELECT id FROM audits WHERE commune = $1 ORDER BY created_at DESC, round DESC LIMIT 1)",
    )
    .bind(commune)
    .bind(question)
    .fetch_optional(&db.pool)
    .await?)
}

/// Saves checked `updates` in one transaction; each real change is also
/// recorded in `audit_changes`. Returns how many answers changed.
pub async fn save(
    db: &Db,
    audit: &str,
    updates: &[Update],
    by: &str,
    now: i64,
) -> Result<usize, AppError> {
    let mut tx = db.pool.begin().await?;
    let mut changed = 0;
    for update in updates {
        let before: Option<(String, String)> = sqlx::query_as(
            "SELECT answer, comment FROM audit_answers WHERE audit_id = $1 AND question = $2",
        )
        .bind(audit)
        .bind(&update.question)
        .fetch_optional(&mut *tx)
        .await?;
        let comment = match (&update.comment, &before) {
            (Some(comment), _) => comment.clone(),
            (None, Some((_, comment))) => comment.clone(),
            (None, None) => String::new(),
        };
        if before
            .as_ref()
            .is_some_and(|(answer, old)| *answer == update.answer && *old == comment)
        {
            continue;
        }
        sqlx::query(
            "INSERT INTO audit_answers (audit_id, question, answer, comment, answered_by, answered_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (audit_id, question) DO UPDATE SET answer = excluded.answer, \
             comment = excluded.comment, answered_by = excluded.answered_by, \
             answered_at = excluded.answered_at",
        )
        .bind(audit)
        .bind(&update.question)
        .bind(&update.answer)
        .bind(&comment)
        .bind(by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if before.as_ref().map(|(answer, _)| answer) != Some(&update.answer) {
            sqlx::query(
                "INSERT INTO audit_changes (audit_id, question, before, after, changed_by, changed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(audit)
            .bind(&update.question)
            .bind(before.map(|(answer, _)| answer))
            .bind(&update.answer)
            .bind(by)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        changed += 1;
    }
    tx.commit().await?;
    Ok(changed)
}

/// One recorded change.
#[derive(Clone, Debug, FromRow)]
pub struct Change {
    pub question: String,
    pub before: Option<String>,
    pub after: String,
    pub changed_by: String,
    pub changed_at: i64,
}

pub async fn changes(db: &Db, audit: &str) -> Result<Vec<Change>, AppError> {
    Ok(sqlx::query_as(
        "SELECT question, before, after, changed_by, changed_at FROM audit_changes \
         WHERE audit_id = $1 ORDER BY changed_at, id",
    )
    .bind(audit)
    .fetch_all(db.read())
    .await?)
}
