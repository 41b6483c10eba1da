//! Scheduled work, claimed in the database so that replicas sharing one
//! PostgreSQL database run each job once per period (issue 9).
//!
//! Each job has a row in `jobs`: when it is next due (`next_run_at`) and who
//! holds it (`lease_owner` until `lease_expires_at`). A runner claims a due
//! job with one compare-and-swap `UPDATE` (the row must still be due at the
//! time it read, and not leased): on SQLite and PostgreSQL alike, only one
//! such statement can change the row. The holder runs the job, then moves
//! `next_run_at` to the next period and frees the lease. A runner that dies
//! holding a job loses it when the lease ends, and another takes it.
//!
//! What it must not do: run a job twice for one period (a job's lease must
//! outlast its longest run), or let one job's failure stop the others.

mod standard;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::db::{Db, now_ms, random_hex};

pub use standard::{purge, standard};

/// What a job returns: an error is logged and recorded on its row.
pub type JobResult = Result<(), String>;

type Task = Arc<dyn Fn(Run) -> Pin<Box<dyn Future<Output = JobResult> + Send>> + Send + Sync>;

/// The period a run is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// When this run was due (Unix ms): one value per period.
    pub scheduled_at: i64,
    /// When it was claimed (Unix ms).
    pub started_at: i64,
}

/// A piece of scheduled work.
#[derive(Clone)]
pub struct Job {
    name: String,
    every: Duration,
    lease: Duration,
    task: Task,
}

/// Default hold on a job while it runs: its runs must be shorter.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(600);

impl Job {
    /// `task` every `every`, the first time as soon as a runner sees it.
    pub fn new<F, Fut>(name: &str, every: Duration, task: F) -> Job
    where
        F: Fn(Run) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = JobResult> + Send + 'static,
    {
        Job {
            name: name.to_owned(),
            every,
            lease: DEFAULT_LEASE,
            task: Arc::new(move |run| Box::pin(task(run))),
        }
    }

    /// The job with a longer (or shorter) hold than [`DEFAULT_LEASE`].
    pub fn with_lease(mut self, lease: Duration) -> Job {
        self.lease = lease;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Claims and runs the due jobs of one process.
#[derive(Clone)]
pub struct Runner {
    db: Db,
    /// Names this process in `lease_owner`.
    owner: String,
    jobs: Arc<Vec<Job>>,
}

impl Runner {
    pub fn new(db: Db, jobs: Vec<Job>) -> Runner {
        Runner {
            db,
            owner: format!("{}-{}", std::process::id(), random_hex(6)),
            jobs: Arc::new(jobs),
        }
    }

    /// Gives every job a row, due now, unless it has one.
    pub async fn register(&self) -> Result<(), sqlx::Error> {
        let now = now_ms();
        for job in self.jobs.iter() {
            sqlx::query(
                "INSERT INTO jobs (name, next_run_at) VALUES ($1, $2)
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(&job.name)
            .bind(now)
            .execute(&self.db.pool)
            .await?;
        }
        Ok(())
    }

    /// Claims every job due now and starts each on a task of its own;
    /// returns the handles of those started.
    pub async fn start_due(&self) -> Result<Vec<tokio::task::JoinHandle<()>>, sqlx::Error> {
        let mut started = Vec::new();
        for job in self.jobs.iter() {
            let now = now_ms();
            let Some(run) = self.claim(job, now).await? else {
                continue;
            };
            let runner = self.clone();
            let job = job.clone();
            started.push(tokio::spawn(async move {
                let result = (job.task)(run).await;
                if let Err(e) = &result {
                    tracing::warn!(job = %job.name, "job failed: {e}");
                }
                if let Err(e) = runner.finish(&job, result.err()).await {
                    tracing::warn!(job = %job.name, "cannot record the job's end: {e}");
                }
            }));
        }
        Ok(started)
    }

    /// Claims `job` if it is due and free: the one UPDATE that can win.
    async fn claim(&self, job: &Job, now: i64) -> Result<Option<Run>, sqlx::Error> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT next_run_at, lease_expires_at FROM jobs WHERE name = $1")
                .bind(&job.name)
                .fetch_optional(&self.db.pool)
                .await?;
        let Some((due, lease_expires)) = row else {
            return Ok(None);
        };
        if due > now || lease_expires > now {
            return Ok(None);
        }
        let lease_ms = i64::try_from(job.lease.as_millis()).unwrap_or(i64::MAX / 2);
        let claimed = sqlx::query(
            "UPDATE jobs SET lease_owner = $1, lease_expires_at = $2, last_started_at = $3,
                 runs = runs + 1
             WHERE name = $4 AND next_run_at = $5 AND lease_expires_at <= $3",
        )
        .bind(&self.owner)
        .bind(now.saturating_add(lease_ms))
        .bind(now)
        .bind(&job.name)
        .bind(due)
        .execute(&self.db.pool)
        .await?;
        Ok((claimed.rows_affected() == 1).then_some(Run {
            scheduled_at: due,
            started_at: now,
        }))
    }

    /// Schedules `job`'s next period and frees it.
    async fn finish(&self, job: &Job, error: Option<String>) -> Result<(), sqlx::Error> {
        let now = now_ms();
        sqlx::query(
            "UPDATE jobs SET next_run_at = $1, lease_owner = NULL, lease_expires_at = 0,
                 last_finished_at = $2, last_error = $3
             WHERE name = $4 AND lease_owner = $5",
        )
        .bind(next_period(now, job.every))
        .bind(now)
        .bind(error)
        .bind(&job.name)
        .bind(&self.owner)
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// Registers the jobs, then looks for due ones every `tick` until the
    /// runtime stops; database errors are logged and the next tick goes on.
    pub fn spawn(self, tick: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(tick);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut registered = false;
            loop {
                ticks.tick().await;
                if !registered {
                    match self.register().await {
                        Ok(()) => registered = true,
                        Err(e) => {
                            tracing::warn!("cannot register the jobs: {e}");
                            continue;
                        }
                    }
                }
                if let Err(e) = self.start_due().await {
                    tracing::warn!("cannot claim the due jobs: {e}");
                }
            }
        })
    }
}

/// How often [`Runner::spawn`] looks for due jobs in `vigie serve`.
pub const TICK: Duration = Duration::from_secs(5);

/// The start of the first period after `now` (Unix ms), periods aligned on
/// the epoch so that every replica computes the same one.
fn next_period(now: i64, every: Duration) -> i64 {
    let every = i64::try_from(every.as_millis()).unwrap_or(i64::MAX).max(1);
    (now / every).saturating_add(1).saturating_mul(every)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_aligned() {
        let minute = Duration::from_secs(60);
        assert_eq!(next_period(0, minute), 60_000);
        assert_eq!(next_period(59_999, minute), 60_000);
        assert_eq!(next_period(60_000, minute), 120_000);
        assert_eq!(next_period(5, Duration::ZERO), 6);
    }
}
