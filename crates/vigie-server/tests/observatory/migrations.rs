//! The SQLite and PostgreSQL schemas are written twice, once per dialect
//! (issue 9): this keeps them in step. The same migration files on both
//! sides, always; and, when a PostgreSQL server is given
//! (`VIGIE_TEST_POSTGRES`), the same tables with the same columns once
//! both are migrated.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sqlx::Row;
use vigie_server::Db;

use crate::common::TestServer;

fn files(dialect: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dialect);
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn both_dialects_have_the_same_migrations() {
    let sqlite = files("sqlite");
    let postgres = files("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres differ"
    );
}

/// Table → columns, lower case.
type Schema = BTreeMap<String, BTreeSet<String>>;

async fn sqlite_schema(db: &Db) -> Schema {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for table in tables {
        let rows = sqlx::query(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .fetch_all(&db.pool)
            .await
            .unwrap();
        let columns = rows
            .iter()
            .map(|row| row.try_get::<String, _>("name").unwrap().to_lowercase())
            .collect();
        schema.insert(table.to_lowercase(), columns);
    }
    schema
}

async fn postgres_schema(db: &Db) -> Schema {
    let rows = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for row in rows {
        let table: String = row.try_get("t").unwrap();
        let column: String = row.try_get("c").unwrap();
        schema
            .entry(table.to_lowercase())
            .or_default()
            .insert(column.to_lowercase());
    }
    schema
}

#[tokio::test]
async fn both_dialects_build_the_same_tables_and_columns() {
    if std::env::var("VIGIE_TEST_POSTGRES").is_err() {
        println!("both_dialects_build_the_same_tables_and_columns: on PostgreSQL runs only");
        return;
    }
    // The test server's database is the PostgreSQL one; a SQLite file
    // beside it is migrated the same way.
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Db::connect(&format!(
        "sqlite://{}",
        dir.path().join("schema.db").display()
    ))
    .await
    .unwrap();
    let (lite, pg) = (
        sqlite_schema(&sqlite).await,
        postgres_schema(&server.db).await,
    );
    assert_eq!(
        lite.keys().collect::<Vec<_>>(),
        pg.keys().collect::<Vec<_>>(),
        "tables differ"
    );
    for (table, columns) in &lite {
        assert_eq!(Some(columns), pg.get(table), "columns of {table} differ");
    }
}
