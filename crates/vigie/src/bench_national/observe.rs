//! Where the machine's time goes during a run: CPU seconds of the
//! replicas, of PostgreSQL's processes, of this load generator and of
//! everything else on the machine (other people's builds), read from
//! /proc; and what PostgreSQL's busy connections wait on, sampled from
//! `pg_stat_activity`. The evidence for a p99 over its target.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::Row;

/// Linux reports process times in USER_HZ ticks, 100 a second on every
/// architecture the kernel exports to user space.
const TICKS_PER_SECOND: f64 = 100.0;
const SAMPLE_EVERY: Duration = Duration::from_millis(500);

/// CPU seconds by group over a run.
#[derive(Default)]
pub struct CpuUse {
    pub replicas: f64,
    pub postgres: f64,
    pub generator: f64,
    pub machine_busy: f64,
    pub machine_total: f64,
}

impl CpuUse {
    /// What the rest of the machine used: busy time that is none of ours.
    pub fn others(&self) -> f64 {
        (self.machine_busy - self.replicas - self.postgres - self.generator).max(0.0)
    }
}

/// One minute of the run, beside its p99: what the rest of the machine
/// took, and how many of PostgreSQL's connections were waiting on the
/// write-ahead log (its flush to disk at each commit).
#[derive(Clone, Copy, Default)]
pub struct Minute {
    pub other_cores: f64,
    pub wal_waiting: f64,
}

/// What a run's sampling found.
#[derive(Default)]
pub struct Observed {
    pub cpu: CpuUse,
    /// Busy connections per (state, wait), summed over the samples.
    pub waits: BTreeMap<String, u64>,
    pub samples: u64,
    pub minutes: Vec<Minute>,
}

/// Samples until stopped; `finish` gives the totals.
pub struct Watch {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Observed>,
}

/// Readings of the previous sample, to count what happened since.
struct Readings {
    machine: (u64, u64),
    generator: u64,
    replicas: u64,
    /// Per PostgreSQL process, its ticks when last seen (a backend born
    /// during the run counts from 0; one that ends keeps its last reading).
    postgres: HashMap<u32, u64>,
}

impl Readings {
    fn now(replicas: &[u32], previous: Option<&Readings>) -> Readings {
        let postgres = postgres_pids()
            .into_iter()
            .map(|p| (p, process_ticks(p)))
            .collect();
        // A replica's ticks vanish with it: keep the last reading.
        let replicas: u64 = replicas.iter().map(|&p| process_ticks(p)).sum();
        Readings {
            machine: machine_ticks(),
            generator: process_ticks(std::process::id()),
            replicas: replicas.max(previous.map_or(0, |p| p.replicas)),
            postgres,
        }
    }

    /// (machine busy, replicas, postgres, generator) ticks since `before`.
    fn since(&self, before: &Readings) -> (u64, u64, u64, u64) {
        let postgres = self
            .postgres
            .iter()
            .map(|(pid, t)| t.saturating_sub(before.postgres.get(pid).copied().unwrap_or(0)))
            .sum();
        (
            self.machine.0.saturating_sub(before.machine.0),
            self.replicas.saturating_sub(before.replicas),
            postgres,
            self.generator.saturating_sub(before.generator),
        )
    }
}

impl Watch {
    /// Starts sampling the `replicas` and PostgreSQL; `activity` is a
    /// connection pool to the bench database, `database` its name.
    pub fn start(replicas: Vec<u32>, activity: sqlx::AnyPool, database: String) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let started = std::time::Instant::now();
            let first = Readings::now(&replicas, None);
            let mut previous = Readings::now(&replicas, None);
            let mut observed = Observed::default();
            let (mut postgres, mut per_minute) = (0u64, Vec::<(f64, u64, u64)>::new());
            while !flag.load(Ordering::Relaxed) {
                tokio::time::sleep(SAMPLE_EVERY).await;
                let mut now = Readings::now(&replicas, Some(&previous));
                // Backends gone since the last sample keep their reading.
                for (pid, ticks) in &previous.postgres {
                    now.postgres.entry(*pid).or_insert(*ticks);
                }
                let (busy, rep, pg, generator) = now.since(&previous);
                postgres += pg;
                let minute = (started.elapsed().as_secs() / 60) as usize;
                if per_minute.len() <= minute {
                    per_minute.resize(minute + 1, (0.0, 0, 0));
                }
                let slot = &mut per_minute[minute];
                slot.0 += busy.saturating_sub(rep + pg + generator) as f64;
                if let Some(wal) = sample_waits(&activity, &database, &mut observed.waits).await {
                    observed.samples += 1;
                    slot.1 += wal;
                    slot.2 += 1;
                }
                previous = now;
            }
            let last = Readings::now(&replicas, Some(&previous));
            let seconds = |ticks: u64| ticks as f64 / TICKS_PER_SECOND;
            let (busy, rep, _, generator) = last.since(&first);
            observed.cpu = CpuUse {
                replicas: seconds(rep),
                postgres: seconds(postgres),
                generator: seconds(generator),
                machine_busy: seconds(busy),
                machine_total: seconds(last.machine.1.saturating_sub(first.machine.1)),
            };
            let sample_seconds = SAMPLE_EVERY.as_secs_f64();
            observed.minutes = per_minute
                .into_iter()
                .map(|(other, wal, samples)| Minute {
                    other_cores: seconds(other as u64) / (samples.max(1) as f64 * sample_seconds),
                    wal_waiting: wal as f64 / samples.max(1) as f64,
                })
                .collect();
            observed
        });
        Watch { stop, task }
    }

    /// Stops sampling and gives what it found.
    pub async fn finish(self) -> Observed {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or_default()
    }
}

/// Adds one sample of the bench database's connections that are doing
/// something (running a statement, or inside a transaction waiting for
/// the application) to `waits`, by state and wait event; how many of them
/// wait on the write-ahead log, or None when the sample failed.
async fn sample_waits(
    pool: &sqlx::AnyPool,
    database: &str,
    waits: &mut BTreeMap<String, u64>,
) -> Option<u64> {
    let rows = sqlx::query(
        "SELECT state || ' / ' || COALESCE(wait_event_type || ':' || wait_event, 'CPU') AS what,
                COUNT(*) AS n
         FROM pg_stat_activity
         WHERE datname = $1 AND pid <> pg_backend_pid()
           AND state IN ('active', 'idle in transaction')
         GROUP BY 1",
    )
    .bind(database)
    .fetch_all(pool)
    .await;
    let rows = rows.ok()?;
    let mut wal = 0;
    for row in rows {
        if let (Ok(what), Ok(n)) = (row.try_get::<String, _>("what"), row.try_get::<i64, _>("n")) {
            let n = u64::try_from(n).unwrap_or(0);
            if what.contains("WAL") {
                wal += n;
            }
            *waits.entry(what).or_default() += n;
        }
    }
    Some(wal)
}

/// utime + stime of a process, in ticks; 0 when it is gone.
pub fn process_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The command name is in parentheses and may hold spaces: the fields
    // are counted after the last ')'. utime and stime are fields 14 and 15,
    // the 12th and 13th after it.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// The processes named `postgres` (the postmaster and its backends).
fn postgres_pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim_end() == "postgres")
        })
        .collect()
}

/// (busy, total) ticks of the whole machine, from /proc/stat's `cpu` line.
fn machine_ticks() -> (u64, u64) {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return (0, 0);
    };
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return (0, 0);
    };
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is
    // already inside user).
    let get = |i: usize| values.get(i).copied().unwrap_or(0);
    let idle = get(3) + get(4);
    let total: u64 = (0..8).map(get).sum();
    (total.saturating_sub(idle), total)
}

/// The load averages, as `uptime` prints them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".to_owned())
}
