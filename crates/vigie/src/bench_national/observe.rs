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

/// Samples until stopped; `finish` gives the totals.
pub struct Watch {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(CpuUse, BTreeMap<String, u64>, u64)>,
}

impl Watch {
    /// Starts sampling the `replicas` and PostgreSQL; `activity` is a
    /// connection pool to the bench database, `database` its name.
    pub fn start(replicas: Vec<u32>, activity: sqlx::AnyPool, database: String) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let start_machine = machine_ticks();
            let start_self = process_ticks(std::process::id());
            let start_replicas: u64 = replicas.iter().map(|&p| process_ticks(p)).sum();
            // Per PostgreSQL process: ticks when first seen (0 if it was
            // born during the run) and last seen, so a backend that ends
            // during the run still counts.
            let first: HashMap<u32, u64> = postgres_pids()
                .into_iter()
                .map(|p| (p, process_ticks(p)))
                .collect();
            let mut last = first.clone();
            let mut replicas_last = start_replicas;
            let mut waits: BTreeMap<String, u64> = BTreeMap::new();
            let mut samples = 0u64;
            while !flag.load(Ordering::Relaxed) {
                tokio::time::sleep(SAMPLE_EVERY).await;
                for pid in postgres_pids() {
                    last.insert(pid, process_ticks(pid));
                }
                // A replica's ticks vanish with it: keep the last reading.
                let now: u64 = replicas.iter().map(|&p| process_ticks(p)).sum();
                replicas_last = replicas_last.max(now);
                if sample_waits(&activity, &database, &mut waits).await {
                    samples += 1;
                }
            }
            let postgres: u64 = last
                .iter()
                .map(|(pid, ticks)| ticks.saturating_sub(first.get(pid).copied().unwrap_or(0)))
                .sum();
            let (busy_end, total_end) = machine_ticks();
            let seconds = |ticks: u64| ticks as f64 / TICKS_PER_SECOND;
            let cpu = CpuUse {
                replicas: seconds(replicas_last.saturating_sub(start_replicas)),
                postgres: seconds(postgres),
                generator: seconds(
                    process_ticks(std::process::id()).saturating_sub(start_self),
                ),
                machine_busy: seconds(busy_end.saturating_sub(start_machine.0)),
                machine_total: seconds(total_end.saturating_sub(start_machine.1)),
            };
            (cpu, waits, samples)
        });
        Watch { stop, task }
    }

    /// Stops sampling: CPU by group, and the busy connections seen per
    /// (state, wait) with the number of samples taken.
    pub async fn finish(self) -> (CpuUse, BTreeMap<String, u64>, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or_default()
    }
}

/// Adds one sample of the bench database's connections that are doing
/// something (running a statement, or inside a transaction waiting for
/// the application) to `waits`, by state and wait event.
async fn sample_waits(
    pool: &sqlx::AnyPool,
    database: &str,
    waits: &mut BTreeMap<String, u64>,
) -> bool {
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
    let Ok(rows) = rows else {
        return false;
    };
    for row in rows {
        if let (Ok(what), Ok(n)) = (row.try_get::<String, _>("what"), row.try_get::<i64, _>("n")) {
            *waits.entry(what).or_default() += u64::try_from(n).unwrap_or(0);
        }
    }
    true
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
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
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
