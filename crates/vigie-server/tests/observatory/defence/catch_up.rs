//! The job behind a burst: more incidents than one run reads. One run
//! reads its batch and says more wait; the job's minute (`catch_up`) reads
//! batch after batch until it is caught up, and lists the address whose
//! attacks came last.

use std::time::Duration;

use vigie_server::db::now_ms;
use vigie_server::defence::{self, DefenceSettings, job};

use crate::common::{TestServer, enrolled_sensor};

const ATTACKER: &str = "203.0.113.77";

#[tokio::test]
async fn a_burst_over_one_batch_is_read_to_the_end_within_the_minute() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    for commune in ["42218", "42095", "42094"] {
        enrolled_sensor(&server, commune).await;
    }
    let sensors: Vec<(String, String)> =
        sqlx::query_as("SELECT id, commune FROM sensors ORDER BY commune")
            .fetch_all(&server.db.pool)
            .await
            .unwrap();
    assert_eq!(sensors.len(), 3);

    // More than a batch of lone scanners (one commune each: never listed),
    // then the attacker at all three communes, stored last.
    let now = now_ms();
    let lone = usize::try_from(job::BATCH + job::MARGIN).unwrap() + 3_000;
    let mut rows: Vec<(usize, String)> = (0..lone)
        .map(|i| (i % 3, format!("198.18.{}.{}", i / 250, i % 250 + 1)))
        .collect();
    rows.extend((0..3).map(|i| (i, ATTACKER.to_owned())));
    let mut tx = server.db.pool.begin().await.unwrap();
    for (n, chunk) in rows.chunks(500).enumerate() {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p: Vec<String> = (1..=7).map(|k| format!("${}", i * 7 + k)).collect();
                format!(
                    "({}, {}, {}, 'scan', 'scan.syn', 'low', {}, 'inbound', {}, {}, {}, 12, 1)",
                    p[0], p[1], p[2], p[3], p[4], p[5], p[6]
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO incidents (sensor_id, seq, commune, category, rule, severity, source,
                 direction, first_seen, last_seen, day, hour, events) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for (i, (sensor, source)) in chunk.iter().enumerate() {
            let (id, commune) = &sensors[*sensor];
            let at = now - 60_000 + i64::try_from(i).unwrap();
            query = query
                .bind(id.clone())
                .bind(i64::try_from(n).unwrap())
                .bind(commune.clone())
                .bind(source.clone())
                .bind(at)
                .bind(at)
                .bind("2026-12-06");
        }
        query.execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();

    // One run: a full batch, the attacker not reached yet.
    let settings = DefenceSettings::default();
    let first = defence::compute(&server.db, &settings, now).await.unwrap();
    assert!(first.more, "{first:?}");
    assert_eq!(first.listed, 0);

    // The job's minute reads on to the end.
    let minute = defence::catch_up(&server.db, &settings, Duration::from_secs(600))
        .await
        .unwrap();
    assert!(!minute.more, "{minute:?}");
    assert_eq!(minute.listed, 1, "{minute:?}");
    let listed: Vec<String> = defence::queries::active(&server.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.address)
        .collect();
    assert_eq!(listed, [ATTACKER]);
    let (cursor, last): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT last_incident FROM defence_state), (SELECT MAX(id) FROM incidents)",
    )
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    assert_eq!(cursor, last);
}
