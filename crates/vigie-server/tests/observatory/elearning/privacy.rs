//! What a completion leaves in the database: one aggregate row, and
//! nothing about the person who answered (issue 11).

use super::{OWN, answers, post_answers, secretary_creates_a_link, server};
use reqwest::StatusCode;

/// The columns of `table`, sorted, on either backend.
async fn columns(db: &vigie_server::Db, table: &str) -> Vec<String> {
    use sqlx::Row;
    let sql = match db.backend {
        vigie_server::db::Backend::Sqlite => {
            format!("SELECT name AS c FROM pragma_table_info('{table}')")
        }
        vigie_server::db::Backend::Postgres => format!(
            "SELECT column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = '{table}'"
        ),
    };
    let mut names: Vec<String> = sqlx::query(&sql)
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String, _>("c").unwrap())
        .collect();
    names.sort();
    names
}

/// Every value of every table, as text, to look for what must not be
/// there (each column cast to text: the `Any` driver reads few types).
async fn every_value(db: &vigie_server::Db) -> String {
    use sqlx::Row;
    let (tables, columns) = match db.backend {
        vigie_server::db::Backend::Sqlite => (
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            "SELECT name AS c, type AS k FROM pragma_table_info($1)",
        ),
        vigie_server::db::Backend::Postgres => (
            "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public'",
            "SELECT column_name::text AS c, data_type::text AS k FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1",
        ),
    };
    let tables: Vec<String> = sqlx::query(tables)
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String, _>("t").unwrap())
        .collect();
    assert!(tables.len() > 20, "{tables:?}");
    let mut all = String::new();
    for table in tables {
        let cast: Vec<String> = sqlx::query(columns)
            .bind(&table)
            .fetch_all(&db.pool)
            .await
            .unwrap()
            .iter()
            .map(|row| {
                let name: String = row.try_get("c").unwrap();
                let kind: String = row.try_get("k").unwrap();
                if kind == "bytea" {
                    format!("encode(\"{name}\", 'escape')")
                } else if kind.eq_ignore_ascii_case("blob") {
                    format!("\"{name}\"")
                } else {
                    format!("CAST(\"{name}\" AS TEXT)")
                }
            })
            .collect();
        let sql = format!("SELECT {} FROM \"{table}\"", cast.join(", "));
        for row in sqlx::query(&sql).fetch_all(&db.pool).await.unwrap() {
            for index in 0..row.len() {
                if let Ok(Some(text)) = row.try_get::<Option<String>, _>(index) {
                    all.push_str(&text);
                } else if let Ok(Some(bytes)) = row.try_get::<Option<Vec<u8>>, _>(index) {
                    all.push_str(&String::from_utf8_lossy(&bytes));
                }
                all.push('\t');
            }
            all.push('\n');
        }
    }
    all
}

#[tokio::test]
async fn a_completion_keeps_nothing_about_the_person() {
    let server = server().await;
    let (_, _, path) = secretary_creates_a_link(&server).await;
    let journal_before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    // The secretary's sign-in may have left her client's address (the
    // sign-in limits): what counts is that the agent's visit adds none.
    let before = every_value(&server.db).await;
    assert!(
        before.contains("secretariat@saint-etienne.fr"),
        "the scan reads the tables"
    );
    // A form that says too much: the server reads the answers only.
    let mut form = answers("incident", Some(4));
    form.push(("nom".to_owned(), "Dupont".to_owned()));
    form.push((
        "email".to_owned(),
        "jean.dupont@saint-etienne.fr".to_owned(),
    ));
    let (status, score) = post_answers(&server, &path, "incident", &form).await;
    assert_eq!(status, StatusCode::OK, "{score}");

    // The one row: commune, module, version, score, questions, day.
    let rows = sqlx::query(
        "SELECT commune, module, version, score, questions, day FROM elearning_completions",
    )
    .fetch_all(&server.db.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 1);
    use sqlx::Row;
    let row = &rows[0];
    assert_eq!(row.try_get::<String, _>("commune").unwrap(), OWN);
    assert_eq!(row.try_get::<String, _>("module").unwrap(), "incident");
    assert_eq!(row.try_get::<String, _>("version").unwrap(), "2026.1");
    assert_eq!(row.try_get::<i64, _>("score").unwrap(), 5);
    assert_eq!(row.try_get::<i64, _>("questions").unwrap(), 6);
    let day = row.try_get::<String, _>("day").unwrap();
    assert_eq!(day.len(), 10, "a Paris day, no time: {day}");
    let columns = columns(&server.db, "elearning_completions").await;
    assert_eq!(
        columns,
        ["commune", "day", "module", "questions", "score", "version"],
        "nothing else can be kept"
    );

    // Nowhere in the database: what the person typed or sent, her
    // address, the token itself; no journal entry for an anonymous act.
    let after = every_value(&server.db).await;
    let token = path.trim_start_matches("/formation/");
    for secret in ["Dupont", "jean.dupont", "NavigateurDeTest", token] {
        assert!(!after.contains(secret), "{secret} is in the database");
    }
    assert_eq!(
        after.matches("127.0.0.1").count(),
        before.matches("127.0.0.1").count(),
        "the agent's address is kept nowhere"
    );
    let journal_after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(journal_after, journal_before);
}
