//! Jobs claimed in the database: two replicas (two `AppState`s with their
//! runners, on one PostgreSQL database, or one SQLite file) run each job
//! exactly once per period (issue 9).

use std::time::Duration;

use sqlx::Row;
use vigie_server::jobs::{self, Job, Runner};
use vigie_server::{AppState, Db, ServerSettings};

use crate::common::TestServer;

/// Two replicas on one database: the test server's and a second one.
async fn replicas(server: &TestServer) -> (AppState, AppState) {
    let second = Db::connect(&server.database_url).await.unwrap();
    (
        AppState::new(server.db.clone(), ServerSettings::default()),
        AppState::new(second, ServerSettings::default()),
    )
}

/// A job every `every` that records each of its runs, and which replica
/// ran it, in `job_test_runs`.
fn counting_job(db: &Db, replica: &'static str, every: Duration) -> Job {
    let db = db.clone();
    Job::new("test.count", every, move |run| {
        let db = db.clone();
        async move {
            sqlx::query("INSERT INTO job_test_runs (scheduled_at, replica) VALUES ($1, $2)")
                .bind(run.scheduled_at)
                .bind(replica)
                .execute(&db.pool)
                .await
                .map_err(|e| e.to_string())?;
            // Long enough for the other replica to try while it runs.
            tokio::time::sleep(Duration::from_millis(80)).await;
            Ok(())
        }
    })
}

#[tokio::test]
async fn two_replicas_run_each_job_once_per_period() {
    let server = TestServer::start().await;
    sqlx::query("CREATE TABLE job_test_runs (scheduled_at BIGINT NOT NULL, replica TEXT NOT NULL)")
        .execute(&server.db.pool)
        .await
        .unwrap();
    let (one, two) = replicas(&server).await;
    let every = Duration::from_millis(500);
    let tick = Duration::from_millis(10);
    let runners = [
        Runner::new(one.db.clone(), vec![counting_job(&one.db, "one", every)]).spawn(tick),
        Runner::new(two.db.clone(), vec![counting_job(&two.db, "two", every)]).spawn(tick),
    ];
    tokio::time::sleep(Duration::from_millis(3200)).await;
    for runner in &runners {
        runner.abort();
    }
    tokio::time::sleep(Duration::from_millis(150)).await;

    let rows = sqlx::query("SELECT scheduled_at, replica FROM job_test_runs ORDER BY scheduled_at")
        .fetch_all(&server.db.pool)
        .await
        .unwrap();
    let periods: Vec<i64> = rows.iter().map(|r| r.get("scheduled_at")).collect();
    let mut distinct = periods.clone();
    distinct.dedup();
    assert_eq!(periods, distinct, "a period ran twice");
    // The first run at once, then one per 500 ms period: six or seven.
    assert!(periods.len() >= 5, "{} runs in 3.2 s", periods.len());
    for pair in periods.windows(2) {
        assert!(pair[1] > pair[0], "{periods:?}");
    }
    let count: i64 = sqlx::query("SELECT runs FROM jobs WHERE name = 'test.count'")
        .fetch_one(&server.db.pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(usize::try_from(count).unwrap(), periods.len());
}

#[tokio::test]
async fn a_dead_replicas_job_is_taken_over_when_its_lease_ends() {
    let server = TestServer::start().await;
    let (one, two) = replicas(&server).await;
    // Replica one claims the job and "dies" while it runs.
    let stuck = Job::new("test.stuck", Duration::from_secs(3600), |_| async {
        std::future::pending::<()>().await;
        Ok(())
    })
    .with_lease(Duration::from_millis(300));
    let first = Runner::new(one.db.clone(), vec![stuck.clone()]);
    first.register().await.unwrap();
    let started = first.start_due().await.unwrap();
    assert_eq!(started.len(), 1);
    started[0].abort();
    let second = Runner::new(two.db.clone(), vec![stuck]);
    assert!(
        second.start_due().await.unwrap().is_empty(),
        "taken while leased"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let taken = second.start_due().await.unwrap();
    assert_eq!(taken.len(), 1, "not taken over after its lease");
    taken[0].abort();
}

#[tokio::test]
async fn the_servers_jobs_run_on_one_replica() {
    let server = TestServer::start().await;
    let (one, two) = replicas(&server).await;
    let tick = Duration::from_millis(20);
    let runners = [
        Runner::new(one.db.clone(), jobs::standard(&one, None)).spawn(tick),
        Runner::new(two.db.clone(), jobs::standard(&two, None)).spawn(tick),
    ];
    tokio::time::sleep(Duration::from_millis(800)).await;
    for runner in &runners {
        runner.abort();
    }
    let rows = sqlx::query("SELECT name, runs, last_error FROM jobs ORDER BY name")
        .fetch_all(&server.db.pool)
        .await
        .unwrap();
    let names: Vec<String> = rows.iter().map(|r| r.get("name")).collect();
    // No relay configured: no sending job, the messages stay queued.
    assert_eq!(
        names,
        [
            "agreements.end",
            "agreements.remind",
            "campaigns.purge",
            "defence.compute",
            "lists.fetch",
            "retention.purge",
            "risk.snapshot",
            "sensors.silence"
        ]
    );
    for row in &rows {
        let name: String = row.get("name");
        let runs: i64 = row.get("runs");
        let error: Option<String> = row.get("last_error");
        // Periods of a minute or more: once in 0.8 s, unless a minute
        // boundary fell within it.
        assert!((1..=2).contains(&runs), "{name}: {runs} runs");
        assert_eq!(error, None, "{name}");
    }
}

#[tokio::test]
async fn the_retention_purge_keeps_what_is_recent() {
    let server = TestServer::start().await;
    let now = vigie_server::db::now_ms();
    let day = 24 * 3_600_000;
    for at in [now - 800 * day, now - day] {
        sqlx::query("INSERT INTO audit_log (at, action, detail) VALUES ($1, 'test', '')")
            .bind(at)
            .execute(&server.db.pool)
            .await
            .unwrap();
    }
    let retention = vigie_server::config::Retention::default();
    assert_eq!(jobs::purge(&server.db, &retention, now).await.unwrap(), 1);
    let left: i64 = sqlx::query("SELECT COUNT(*) FROM audit_log WHERE action = 'test'")
        .fetch_one(&server.db.pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 1);
}
