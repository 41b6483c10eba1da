//! An entry's life on the list, on the database: it expires after its
//! stay and the boxes are told; a return after expiry stays twice as long;
//! a pinned entry does not expire and is sent until 0, and unpinning gives
//! it an end again; an address the staff removed is not listed again from
//! the sightings it was listed on; an entry lives its stay after the last
//! attack seen, however often the job reads that attack again; old
//! sightings and old history are pruned, and a box behind the history
//! kept gets the whole list; an address the territory allows after it was
//! listed is taken off at the next run.
//!
//! Time is the job's `now` and the incidents' own dates: the job is run
//! days ahead, or attacks are posted dated days ago, never slept for.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use vigie_core::defence::{Change, Kind, Update, parse};
use vigie_server::db::now_ms;
use vigie_server::defence::{self, DefenceSettings, queries, store};

use super::fetch;
use crate::common::{TestServer, enrolled_sensor, incident, post_report};

const SOURCE: &str = "203.0.113.7";
const HOUR_MS: i64 = 3600 * 1000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Three communes' boxes, and the next batch number.
struct Territory {
    server: TestServer,
    tokens: Vec<String>,
    seq: u64,
}

impl Territory {
    async fn start() -> Territory {
        let server = TestServer::start().await;
        vigie_server::territory::ensure_builtin(&server.db)
            .await
            .unwrap();
        let mut tokens = Vec::new();
        for commune in ["42218", "42095", "42094"] {
            tokens.push(enrolled_sensor(&server, commune).await);
        }
        Territory {
            server,
            tokens,
            seq: 0,
        }
    }

    /// Each of the three boxes reports a scan from [`SOURCE`] at `at`.
    async fn attack(&mut self, at: DateTime<Utc>) {
        let at = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        for token in &self.tokens {
            self.seq += 1;
            let mut scan = incident("scan", "inbound", &at);
            scan["source"] = serde_json::json!(SOURCE);
            let status = post_report(&self.server, token, self.seq, &at, &at, vec![scan]).await;
            assert_eq!(status, StatusCode::OK, "report at {at}");
        }
    }

    /// Runs the list's job as if it were `now` (Unix ms).
    async fn run(&self, now: i64) -> defence::RunSummary {
        self.run_with(&DefenceSettings::default(), now).await
    }

    async fn run_with(&self, settings: &DefenceSettings, now: i64) -> defence::RunSummary {
        defence::compute(&self.server.db, settings, now)
            .await
            .unwrap()
    }

    async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(self.server.db.read())
            .await
            .unwrap()
    }

    /// The source's entry, listed or not.
    async fn entry(&self) -> Option<store::Entry> {
        sqlx::query_as(
            "SELECT address, active, pinned, strikes, listed_at, expires_at, reason
             FROM defence_entries WHERE address = $1",
        )
        .bind(SOURCE)
        .fetch_optional(self.server.db.read())
        .await
        .unwrap()
    }

    async fn last_change(&self) -> store::ChangeRow {
        queries::history(&self.server.db, 1)
            .await
            .unwrap()
            .pop()
            .unwrap()
    }

    /// What a box that holds the list up to `since` gets now.
    async fn poll(&self, since: i64) -> Update {
        let (status, text) = fetch(&self.server, &self.tokens[0], since).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e:?}: {text}"))
    }
}

fn at_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

fn ip() -> std::net::IpAddr {
    SOURCE.parse().unwrap()
}

/// Unix ms to the format's seconds, rounded up as the endpoint does.
fn seconds(ms: i64) -> i64 {
    (ms + 999).div_euclid(1000)
}

#[tokio::test]
async fn an_entry_expires_after_its_stay_and_boxes_get_the_removal() {
    let mut territory = Territory::start().await;
    let now = now_ms();
    territory.attack(at_ms(now - 10 * 60 * 1000)).await;
    assert_eq!(territory.run(now).await.listed, 1);
    let entry = territory.entry().await.unwrap();
    assert_eq!((entry.active, entry.strikes), (1, 1));
    assert_eq!(entry.expires_at, now + DAY_MS);
    let whole = territory.poll(0).await;
    assert_eq!(whole.kind, Kind::Snapshot);
    assert!(
        whole.changes.contains(&Change::Add {
            ip: ip(),
            until: seconds(now + DAY_MS),
        }),
        "{whole:?}"
    );

    // A minute before its end it is still listed, and nothing is written.
    let before = territory.run(entry.expires_at - 60_000).await;
    assert_eq!(before.expired, 0);
    assert_eq!(territory.entry().await.unwrap().active, 1);
    let (status, _) = fetch(&territory.server, &territory.tokens[0], whole.cursor).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);

    // Past its end: off the list, the removal written and sent.
    let after = territory.run(entry.expires_at + 60_000).await;
    assert_eq!(after.expired, 1);
    assert_eq!(territory.entry().await.unwrap().active, 0);
    assert!(
        queries::active(&territory.server.db)
            .await
            .unwrap()
            .is_empty()
    );
    let change = territory.last_change().await;
    assert_eq!(
        (
            change.address.as_str(),
            change.op.as_str(),
            change.cause.as_str()
        ),
        (SOURCE, "remove", "expirée")
    );
    let update = territory.poll(whole.cursor).await;
    assert_eq!(update.kind, Kind::Changes);
    assert_eq!(update.changes, [Change::Remove { ip: ip() }]);
    assert_eq!(update.cursor, change.seq);
    let (status, _) = fetch(&territory.server, &territory.tokens[0], update.cursor).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn each_return_after_expiry_doubles_the_stay() {
    let mut territory = Territory::start().await;
    // Three attacks, each after the last stay ended and out of the
    // window of the one before: 100 h, 70 h and 10 h ago.
    let start = now_ms() - 100 * HOUR_MS;
    let mut attack_at = start;
    for (strikes, stay_hours, cause) in [
        (1, 24, "inscrite"),
        (2, 48, "réinscrite"),
        (3, 96, "réinscrite"),
    ] {
        territory.attack(at_ms(attack_at)).await;
        let listed_at = attack_at + 10 * 60 * 1000;
        assert_eq!(territory.run(listed_at).await.listed, 1, "strike {strikes}");
        let entry = territory.entry().await.unwrap();
        assert_eq!((entry.active, entry.strikes), (1, strikes));
        assert_eq!(entry.expires_at - listed_at, stay_hours * HOUR_MS);
        let change = territory.last_change().await;
        assert_eq!((change.op.as_str(), change.cause.as_str()), ("add", cause));
        assert_eq!(change.expires_at, entry.expires_at);
        if strikes < 3 {
            assert_eq!(territory.run(entry.expires_at + 60_000).await.expired, 1);
            attack_at = entry.expires_at + 6 * HOUR_MS;
        }
    }
}

#[tokio::test]
async fn a_pinned_entry_never_expires_and_unpinning_gives_it_an_end() {
    let mut territory = Territory::start().await;
    let settings = DefenceSettings::default();
    let db = territory.server.db.clone();
    let now = now_ms();
    territory.attack(at_ms(now - 10 * 60 * 1000)).await;
    assert_eq!(territory.run(now).await.listed, 1);
    let cursor = territory.poll(0).await.cursor;

    assert!(
        queries::pin(&db, &settings, SOURCE, true, "admin@loire.fr", now)
            .await
            .unwrap()
    );
    // Sixty days later, far past any stay: still listed, still pinned.
    let later = now + 60 * DAY_MS;
    assert_eq!(territory.run(later).await.expired, 0);
    let entry = territory.entry().await.unwrap();
    assert_eq!((entry.active, entry.pinned), (1, 1));
    let pinned = territory.poll(cursor).await;
    assert_eq!(pinned.changes, [Change::Add { ip: ip(), until: 0 }]);
    let whole = territory.poll(0).await;
    assert_eq!(whole.changes, [Change::Add { ip: ip(), until: 0 }]);

    // Unpinned, it ends after its usual stay from then, and then expires.
    assert!(
        queries::pin(&db, &settings, SOURCE, false, "admin@loire.fr", later)
            .await
            .unwrap()
    );
    let entry = territory.entry().await.unwrap();
    assert_eq!((entry.active, entry.pinned), (1, 0));
    assert_eq!(entry.expires_at, later + DAY_MS);
    let unpinned = territory.poll(pinned.cursor).await;
    assert_eq!(
        unpinned.changes,
        [Change::Add {
            ip: ip(),
            until: seconds(later + DAY_MS)
        }]
    );
    assert_eq!(territory.run(later + DAY_MS + 60_000).await.expired, 1);
    assert_eq!(territory.entry().await.unwrap().active, 0);
}

#[tokio::test]
async fn an_address_the_staff_removed_is_not_listed_again_from_old_sightings() {
    let mut territory = Territory::start().await;
    let db = territory.server.db.clone();
    let now = now_ms();
    territory.attack(at_ms(now - 10 * 60 * 1000)).await;
    assert_eq!(territory.run(now).await.listed, 1);
    let removed_at = now + 1_000;
    assert!(
        queries::remove(&db, SOURCE, "admin@loire.fr", removed_at)
            .await
            .unwrap()
    );

    // The next runs read the same incidents again (the margin behind the
    // cursor): they are not new evidence.
    for minutes in [1, 2, 30] {
        let run = territory.run(now + minutes * 60 * 1000).await;
        assert_eq!(run.listed, 0, "{minutes} min later: {run:?}");
        assert_eq!(territory.entry().await.unwrap().active, 0);
    }
    assert_eq!(territory.last_change().await.cause, "retirée");
    // The whole list a box fetches no longer holds it.
    assert!(territory.poll(0).await.changes.is_empty());

    // New attacks after the removal list it again, as a return.
    territory.attack(at_ms(now + 40 * 60 * 1000)).await;
    assert_eq!(territory.run(now + 45 * 60 * 1000).await.listed, 1);
    let entry = territory.entry().await.unwrap();
    assert_eq!((entry.active, entry.strikes), (1, 2));
    assert_eq!(territory.last_change().await.cause, "réinscrite");
}

#[tokio::test]
async fn an_entry_lives_its_stay_after_the_last_attack_not_after_the_last_run() {
    let mut territory = Territory::start().await;
    let attacked = now_ms() - 40 * HOUR_MS;
    territory.attack(at_ms(attacked)).await;
    let listed_at = attacked + 10 * 60 * 1000;
    assert_eq!(territory.run(listed_at).await.listed, 1);
    let end = territory.entry().await.unwrap().expires_at;
    assert_eq!(end, listed_at + DAY_MS);

    // The job runs all day and reads the same incidents again behind its
    // cursor: nothing new, so the end does not move.
    for hour in 1..24 {
        let run = territory.run(listed_at + hour * HOUR_MS).await;
        assert_eq!((run.listed, run.refreshed), (0, 0), "hour {hour}: {run:?}");
    }
    assert_eq!(territory.entry().await.unwrap().expires_at, end);
    let run = territory.run(end + 60_000).await;
    assert_eq!(run.expired, 1);

    // A new attack while listed moves the end to a stay after it.
    let mut territory = Territory::start().await;
    territory.attack(at_ms(attacked)).await;
    assert_eq!(territory.run(listed_at).await.listed, 1);
    let again = attacked + 5 * HOUR_MS;
    territory.attack(at_ms(again)).await;
    let run = territory.run(again + 60_000).await;
    assert_eq!(run.refreshed, 1, "{run:?}");
    let entry = territory.entry().await.unwrap();
    assert_eq!(entry.expires_at, again + DAY_MS);
    let change = territory.last_change().await;
    assert_eq!(
        (change.cause.as_str(), change.expires_at),
        ("prolongée", again + DAY_MS)
    );
}

#[tokio::test]
async fn old_sightings_and_history_are_pruned_and_a_box_behind_gets_the_whole_list() {
    let mut territory = Territory::start().await;
    let settings = DefenceSettings {
        history_days: 1,
        ..DefenceSettings::default()
    };
    let now = now_ms();
    territory.attack(at_ms(now - 10 * 60 * 1000)).await;
    assert_eq!(territory.run_with(&settings, now).await.listed, 1);
    let held = territory.poll(0).await.cursor;
    assert_eq!(territory.count("defence_sightings").await, 3);
    // The staff pin it and unpin it: two changes that box has not seen.
    let db = territory.server.db.clone();
    for (pinned, at) in [(true, now + 1_000), (false, now + 2_000)] {
        assert!(
            queries::pin(&db, &settings, SOURCE, pinned, "admin@loire.fr", at)
                .await
                .unwrap()
        );
    }

    // Three days later: expired, its sightings out of the window, and the
    // listing's change older than the day of history kept.
    let later = now + 3 * DAY_MS;
    assert_eq!(territory.run_with(&settings, later).await.expired, 1);
    assert_eq!(territory.count("defence_sightings").await, 0);
    let history = queries::history(&territory.server.db, 10).await.unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].cause, "expirée");

    // A box that held the list before the history kept (the pin and the
    // unpin are gone) gets the whole list (empty now), not the removal
    // alone.
    let update = territory.poll(held).await;
    assert_eq!(update.kind, Kind::Snapshot);
    assert!(update.changes.is_empty(), "{update:?}");
    assert_eq!(update.cursor, history[0].seq);
}

#[tokio::test]
async fn an_address_the_territory_allows_after_it_was_listed_is_taken_off() {
    use vigie_core::lists::ListKind;
    use vigie_server::lists::{NewList, Source, upload};
    let mut territory = Territory::start().await;
    let now = now_ms();
    territory.attack(at_ms(now - 10 * 60 * 1000)).await;
    assert_eq!(territory.run(now).await.listed, 1);
    let held = territory.poll(0).await.cursor;

    // A commune's own allowlist does not take it off for the others.
    let mut allow = NewList {
        name: "allowlist_firminy".to_owned(),
        kind: ListKind::Allow,
        commune: Some("42095".to_owned()),
        source: Source::Upload,
    };
    upload(&territory.server.db, &allow, &format!("{SOURCE}\n"))
        .await
        .unwrap();
    assert_eq!(territory.run(now + 60_000).await.lifted, 0);
    assert_eq!(territory.entry().await.unwrap().active, 1);

    // The territory's allowlist does, and the boxes are told.
    allow.name = "allowlist_territoire".to_owned();
    allow.commune = None;
    upload(&territory.server.db, &allow, &format!("{SOURCE}\n"))
        .await
        .unwrap();
    let run = territory.run(now + 120_000).await;
    assert_eq!(run.lifted, 1, "{run:?}");
    assert_eq!(territory.entry().await.unwrap().active, 0);
    assert_eq!(territory.last_change().await.cause, "autorisée");
    let update = territory.poll(held).await;
    assert_eq!(update.changes, [Change::Remove { ip: ip() }]);
    assert!(territory.poll(0).await.changes.is_empty());

    // New attacks from it list nothing while it is allowed.
    territory.attack(at_ms(now + 3 * 60 * 1000)).await;
    let run = territory.run(now + 4 * 60 * 1000).await;
    assert_eq!((run.listed, run.lifted), (0, 0), "{run:?}");
}
