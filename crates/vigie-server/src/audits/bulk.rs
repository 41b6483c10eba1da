//! Many rounds at once, for the readers of the whole territory (the risk
//! map): each commune's newest round before an instant and the round it
//! followed, with their answers, in a few queries whatever the number of
//! communes.
//!
//! A round's questionnaires are a frozen copy of about 100 KB of JSON;
//! rounds started with the same questionnaires share a `book_key`, so each
//! copy is read and parsed once (rounds from before the key, one by one).
//!
//! What it must never do: read a round created at or after `end_ms`, or
//! give a round another round's questionnaires.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::questionnaire::Book;
use crate::db::Backend;
use crate::{AppError, Db};

/// Answers read per query (bound parameters stay far below both
/// databases' limits).
const IDS_PER_QUERY: usize = 500;

/// One round with what scoring it needs.
#[derive(Clone, Debug)]
pub struct Round {
    pub id: String,
    pub round: i64,
    pub created_at: i64,
    pub book: Arc<Book>,
    pub answers: BTreeMap<String, String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    commune: String,
    round: i64,
    previous: Option<String>,
    book_key: Option<String>,
    created_at: i64,
}

/// Each commune's newest round created before `end_ms` (of `only`, or of
/// every commune), and the round it followed if any, by commune.
pub async fn latest_with_previous(
    db: &Db,
    end_ms: i64,
    only: Option<&str>,
) -> Result<HashMap<String, (Round, Option<Round>)>, AppError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, commune, round, previous, book_key, created_at FROM audits \
         WHERE created_at < $1 AND ($2 IS NULL OR commune = $2) \
         ORDER BY created_at DESC, round DESC",
    )
    .bind(end_ms)
    .bind(only)
    .fetch_all(db.read())
    .await?;
    let by_id: HashMap<&str, &Row> = rows.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut latest: Vec<(&Row, Option<&Row>)> = Vec::new();
    let mut seen = HashSet::new();
    for row in &rows {
        if seen.insert(row.commune.as_str()) {
            let previous = row.previous.as_deref().and_then(|p| by_id.get(p).copied());
            latest.push((row, previous));
        }
    }
    let needed: Vec<&Row> = latest
        .iter()
        .flat_map(|(last, previous)| std::iter::once(*last).chain(*previous))
        .collect();
    let mut answers = answers(db, &needed).await?;
    let mut books = Books::default();
    let mut out = HashMap::with_capacity(latest.len());
    for (last, previous) in latest {
        let last_round = read_round(db, &mut books, &mut answers, last).await?;
        let previous_round = match previous {
            Some(row) => Some(read_round(db, &mut books, &mut answers, row).await?),
            None => None,
        };
        out.insert(last.commune.clone(), (last_round, previous_round));
    }
    Ok(out)
}

async fn read_round(
    db: &Db,
    books: &mut Books,
    answers: &mut HashMap<String, BTreeMap<String, String>>,
    row: &Row,
) -> Result<Round, AppError> {
    Ok(Round {
        id: row.id.clone(),
        round: row.round,
        created_at: row.created_at,
        book: books.get(db, row).await?,
        answers: answers.remove(&row.id).unwrap_or_default(),
    })
}

/// The answers of `rounds`, by round: one JSON object per round, built by
/// the database (half a million rows for all of France would otherwise
/// cross the driver one by one).
async fn answers(
    db: &Db,
    rounds: &[&Row],
) -> Result<HashMap<String, BTreeMap<String, String>>, AppError> {
    let object = match db.backend {
        Backend::Sqlite => "json_group_object(question, answer)",
        Backend::Postgres => "CAST(json_object_agg(question, answer) AS TEXT)",
    };
    let mut out = HashMap::new();
    for chunk in rounds.chunks(IDS_PER_QUERY) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT audit_id, {object} FROM audit_answers WHERE audit_id IN ({}) GROUP BY audit_id",
            marks.join(", ")
        );
        let mut query = sqlx::query_as::<_, (String, String)>(&sql);
        for row in chunk {
            query = query.bind(&row.id);
        }
        for (audit, json) in query.fetch_all(db.read()).await? {
            let answers: BTreeMap<String, String> = serde_json::from_str(&json)
                .map_err(|e| AppError::Internal(format!("audit {audit} answers: {e}")))?;
            out.insert(audit, answers);
        }
    }
    Ok(out)
}

/// Questionnaires parsed once per key (or per round without one).
#[derive(Default)]
struct Books(HashMap<String, Arc<Book>>);

impl Books {
    async fn get(&mut self, db: &Db, row: &Row) -> Result<Arc<Book>, AppError> {
        let key = match &row.book_key {
            Some(key) => format!("key:{key}"),
            None => format!("round:{}", row.id),
        };
        if let Some(book) = self.0.get(&key) {
            return Ok(Arc::clone(book));
        }
        let json: String = sqlx::query_scalar("SELECT questionnaires FROM audits WHERE id = $1")
            .bind(&row.id)
            .fetch_one(db.read())
            .await?;
        let book: Book = serde_json::from_str(&json)
            .map_err(|e| AppError::Internal(format!("audit {} questionnaires: {e}", row.id)))?;
        let book = Arc::new(book);
        self.0.insert(key, Arc::clone(&book));
        Ok(book)
    }
}
