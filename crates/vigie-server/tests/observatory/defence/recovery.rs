//! The list's job after what goes wrong: a run that failed half-way, a
//! history pruned to nothing. (Both found by a review of the job.)

use reqwest::StatusCode;
use vigie_server::db::now_ms;
use vigie_server::defence::{self, DefenceSettings, queries};

use super::{cursor, fetch};
use crate::common::{TestServer, enrolled_sensor};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Three boxes: their tokens, and (sensor id, commune) of each.
async fn three_boxes(server: &TestServer) -> (Vec<String>, Vec<(String, String)>) {
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for commune in ["42218", "42095", "42094"] {
        tokens.push(enrolled_sensor(server, commune).await);
    }
    let sensors = sqlx::query_as("SELECT id, commune FROM sensors ORDER BY commune")
        .fetch_all(&server.db.pool)
        .await
        .unwrap();
    (tokens, sensors)
}

/// A scan from `source` at each box, stored at `at` as the ingest would.
async fn scanned_by_all(server: &TestServer, sensors: &[(String, String)], source: &str, at: i64) {
    for (n, (id, commune)) in (0_i64..).zip(sensors) {
        sqlx::query(
            "INSERT INTO incidents (sensor_id, seq, commune, category, rule, severity, source,
                 direction, first_seen, last_seen, day, hour, events)
             VALUES ($1, $2, $3, 'scan', 'scan.syn', 'low', $4, 'inbound', $5, $6, '2026-12-06', 12, 1)",
        )
        .bind(id)
        .bind(n + at % 1_000_000)
        .bind(commune)
        .bind(source)
        .bind(at)
        .bind(at)
        .execute(&server.db.pool)
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn a_box_hears_of_a_new_entry_after_the_whole_history_was_pruned() {
    let server = TestServer::start().await;
    let (tokens, sensors) = three_boxes(&server).await;
    let settings = DefenceSettings {
        history_days: 1,
        ..DefenceSettings::default()
    };
    let t0 = now_ms() - 4 * DAY_MS;
    scanned_by_all(&server, &sensors, "203.0.113.7", t0).await;
    let run = defence::compute(&server.db, &settings, t0 + 600_000).await;
    assert_eq!(run.unwrap().listed, 1);
    let (_, whole) = fetch(&server, &tokens[0], 0).await;
    let run = defence::compute(&server.db, &settings, t0 + 2 * DAY_MS).await;
    assert_eq!(run.unwrap().expired, 1);
    let (_, removal) = fetch(&server, &tokens[0], cursor(&whole)).await;
    let held = cursor(&removal);
    // Days later, every change is older than the history kept: only the
    // newest stays, so that the next one is numbered after it.
    defence::compute(&server.db, &settings, now_ms())
        .await
        .unwrap();
    let kept = queries::history(&server.db, 10).await.unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].seq, held);
    scanned_by_all(&server, &sensors, "198.51.100.20", now_ms() - 60_000).await;
    let run = defence::compute(&server.db, &settings, now_ms()).await;
    assert_eq!(run.unwrap().listed, 1);
    let (status, body) = fetch(&server, &tokens[0], held).await;
    assert_eq!(status, StatusCode::OK, "the box at {held} is not told");
    assert!(body.contains("198.51.100.20"), "{body}");
    // A cursor past the newest change (a database restored from an older
    // copy) gets the whole list.
    let (status, body) = fetch(&server, &tokens[0], held + 1_000).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(" snapshot ") && body.contains("198.51.100.20"),
        "{body}"
    );
}

#[tokio::test]
async fn an_address_is_listed_after_a_run_that_failed_past_its_sightings() {
    let server = TestServer::start().await;
    let (_, sensors) = three_boxes(&server).await;
    let settings = DefenceSettings::default();
    let now = now_ms();
    // A first quiet run: the list's upkeep has looked at what the
    // territory allows and will not read the entries again.
    defence::compute(&server.db, &settings, now - 120_000)
        .await
        .unwrap();
    scanned_by_all(&server, &sensors, "203.0.113.7", now - 60_000).await;
    // The run fails after writing the sightings: the entries' table is
    // away when it looks at the address.
    sqlx::query("ALTER TABLE defence_entries RENAME TO defence_entries_away")
        .execute(&server.db.pool)
        .await
        .unwrap();
    assert!(defence::compute(&server.db, &settings, now).await.is_err());
    sqlx::query("ALTER TABLE defence_entries_away RENAME TO defence_entries")
        .execute(&server.db.pool)
        .await
        .unwrap();
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM defence_sightings")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 3, "the failed run wrote the sightings");
    // The next run reads the same incidents, changes no sighting, and
    // still lists the address.
    let run = defence::compute(&server.db, &settings, now + 60_000)
        .await
        .unwrap();
    assert_eq!(run.listed, 1, "{run:?}");
}
