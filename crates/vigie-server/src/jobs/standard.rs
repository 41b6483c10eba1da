//! The jobs `vigie serve` runs: the list fetches, the territory list, the silence check, the
//! outbox's sending round, the campaigns' purge, the agreements' end and
//! reminders, and the retention purge.

use std::time::Duration;

use super::Job;
use crate::AppState;
use crate::db::{Db, now_ms};
use crate::outbox::{self, Relay};

/// How often the outbox is looked at for due messages.
pub const OUTBOX_EVERY: Duration = Duration::from_secs(10);
/// How often sensors are checked for silence.
pub const SILENCE_EVERY: Duration = Duration::from_secs(60);
/// How often campaigns are looked at for a due purge.
pub const CAMPAIGN_PURGE_EVERY: Duration = Duration::from_secs(600);
/// How often agreements are looked at for an end that has passed, and
/// deadlines for a reminder to send (issue 12).
pub const AGREEMENTS_EVERY: Duration = Duration::from_secs(600);
/// How often old records are purged.
pub const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// The server's jobs for `state`; `relay` is the SMTP relay if one is
/// configured (without, messages stay queued).
pub fn standard(state: &AppState, relay: Option<Relay>) -> Vec<Job> {
    let settings = state.settings.clone();
    let db = state.db.clone();
    let mut jobs = Vec::new();

    let (lists_db, hosts) = (db.clone(), settings.list_fetch_allowed_hosts.clone());
    jobs.push(
        Job::new("lists.fetch", crate::lists::FETCHER_PERIOD, move |_| {
            let (db, hosts) = (lists_db.clone(), hosts.clone());
            async move {
                let summary = crate::lists::fetch_due(&db, &hosts)
                    .await
                    .map_err(|e| format!("cannot fetch the due lists: {e}"))?;
                if summary.fetched > 0 {
                    tracing::info!(
                        fetched = summary.fetched,
                        new_versions = summary.new_versions,
                        failed = summary.failed,
                        "lists fetched"
                    );
                }
                Ok(())
            }
        })
        // Each list may take FETCH_TIMEOUT, one after the other.
        .with_lease(Duration::from_secs(3600)),
    );

    let (defence_db, defence_settings) = (db.clone(), settings.defence.clone());
    jobs.push(Job::new(
        "defence.compute",
        crate::defence::COMPUTE_EVERY,
        move |_| {
            let (db, settings) = (defence_db.clone(), defence_settings.clone());
            async move {
                let summary =
                    crate::defence::catch_up(&db, &settings, crate::defence::CATCH_UP_BUDGET)
                        .await
                        .map_err(|e| format!("territory list: {e}"))?;
                if summary.listed + summary.expired + summary.lifted > 0 {
                    tracing::info!(
                        listed = summary.listed,
                        expired = summary.expired,
                        lifted = summary.lifted,
                        incidents = summary.incidents,
                        behind = summary.more,
                        "territory list changed"
                    );
                }
                Ok(())
            }
        },
    ));

    let (silence_db, silence_settings) = (db.clone(), settings.clone());
    jobs.push(Job::new("sensors.silence", SILENCE_EVERY, move |_| {
        let (db, settings) = (silence_db.clone(), silence_settings.clone());
        async move {
            crate::sensors::alerts::check(
                &db,
                now_ms(),
                settings.silent_after_secs,
                &settings.public_url,
            )
            .await
            .map(|_| ())
            .map_err(|e| format!("silence check: {e}"))
        }
    }));

    if let Some(relay) = relay {
        let outbox_db = db.clone();
        jobs.push(Job::new("outbox.send", OUTBOX_EVERY, move |_| {
            let (db, relay) = (outbox_db.clone(), relay.clone());
            async move {
                outbox::send_due(&db, &relay, now_ms())
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("outbox: {e}"))
            }
        }));
    }

    let campaigns_state = state.clone();
    jobs.push(Job::new(
        "campaigns.purge",
        CAMPAIGN_PURGE_EVERY,
        move |_| {
            let state = campaigns_state.clone();
            async move {
                let purged = crate::phishing::purge_due_campaigns(&state)
                    .await
                    .map_err(|e| format!("campaign purge: {e}"))?;
                if purged > 0 {
                    tracing::info!(purged, "campaigns purged");
                }
                Ok(())
            }
        },
    ));

    let ending_state = state.clone();
    jobs.push(Job::new("agreements.end", AGREEMENTS_EVERY, move |_| {
        let state = ending_state.clone();
        async move {
            let summary = crate::agreements::ending::run(&state, crate::agreements::today())
                .await
                .map_err(|e| format!("agreements' end: {e}"))?;
            if summary.recorded > 0 {
                tracing::info!(
                    recorded = summary.recorded,
                    campaigns_purged = summary.campaigns_purged,
                    "agreements ended: end actions recorded"
                );
            }
            Ok(())
        }
    }));

    let reminders_state = state.clone();
    jobs.push(Job::new("agreements.remind", AGREEMENTS_EVERY, move |_| {
        let state = reminders_state.clone();
        async move {
            let summary =
                crate::agreements::reminders::run(&state, crate::agreements::today(), now_ms())
                    .await
                    .map_err(|e| format!("agreements' reminders: {e}"))?;
            if summary.reminders > 0 {
                tracing::info!(
                    reminders = summary.reminders,
                    emails = summary.emails,
                    "deadline reminders written to the outbox"
                );
            }
            Ok(())
        }
    }));

    let risk_state = state.clone();
    jobs.push(
        Job::new("risk.snapshot", crate::risk::SNAPSHOT_EVERY, move |_| {
            let state = risk_state.clone();
            async move {
                let kept = crate::risk::snapshot::take_due(&state)
                    .await
                    .map_err(|e| format!("risk snapshot: {e}"))?;
                if kept > 0 {
                    tracing::info!(communes = kept, "monthly risk snapshot kept");
                }
                Ok(())
            }
        })
        // The whole territory is assessed once a month: all of France takes
        // seconds, well within the lease.
        .with_lease(Duration::from_secs(600)),
    );

    let (purge_db, retention) = (db, settings.retention);
    jobs.push(Job::new("retention.purge", RETENTION_EVERY, move |_| {
        let db = purge_db.clone();
        async move {
            purge(&db, &retention, now_ms())
                .await
                .map(|_| ())
                .map_err(|e| format!("retention purge: {e}"))
        }
    }));
    jobs
}

/// Deletes what is older than its retention period at `now` (Unix ms);
/// returns the rows deleted.
pub async fn purge(
    db: &Db,
    retention: &crate::config::Retention,
    now: i64,
) -> Result<u64, sqlx::Error> {
    const DAY_MS: i64 = 24 * 3600 * 1000;
    let cutoff = |days: u32| now.saturating_sub(i64::from(days) * DAY_MS);
    let mut deleted = 0;
    let purges = [
        (retention.audit_days, "DELETE FROM audit_log WHERE at < $1"),
        (
            retention.incidents_days,
            "DELETE FROM incidents WHERE last_seen < $1",
        ),
        (
            retention.mail_days,
            // A campaign's mails go with the campaign's own purge: their
            // sending times are its figures until then (issue 11).
            "DELETE FROM outbox WHERE status <> 'queued' AND created_at < $1
                 AND campaign_id IS NULL",
        ),
    ];
    for (days, sql) in purges {
        if days == 0 {
            continue;
        }
        deleted += sqlx::query(sql)
            .bind(cutoff(days))
            .execute(&db.pool)
            .await?
            .rows_affected();
    }
    if deleted > 0 {
        tracing::info!(deleted, "old records purged");
    }
    Ok(deleted)
}
