//! Where the machine's CPU went during a phase: the server's threads (its
//! own runtime, named [`SERVER_THREADS`], and SQLite's worker threads,
//! which only the server uses then), the rest of this process (the load
//! generator), and everything else on the machine; from /proc, in cores
//! (1.0: one core busy for the whole phase).

/// The name of the server runtime's threads.
pub const SERVER_THREADS: &str = "vigie-serveur";

/// Ticks read at one instant.
#[derive(Clone, Copy, Default)]
pub struct Sample {
    server: u64,
    process: u64,
    machine_busy: u64,
    machine_total: u64,
}

/// Cores used between two samples.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cores {
    pub server: f64,
    pub generator: f64,
    pub others: f64,
}

pub fn sample() -> Sample {
    let (machine_busy, machine_total) = machine_ticks();
    Sample {
        server: server_ticks(),
        process: stat_ticks("/proc/self/stat"),
        machine_busy,
        machine_total,
    }
}

impl Sample {
    /// Cores used from `self` to `later`.
    pub fn cores_until(&self, later: &Sample) -> Cores {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from) as f64;
        let total = later
            .machine_total
            .saturating_sub(self.machine_total)
            .max(1) as f64;
        let share = |ticks: u64| ticks as f64 / total * cpus;
        let server = later.server.saturating_sub(self.server);
        let process = later.process.saturating_sub(self.process);
        let busy = later.machine_busy.saturating_sub(self.machine_busy);
        Cores {
            server: share(server),
            generator: share(process.saturating_sub(server)),
            others: share(busy.saturating_sub(process)),
        }
    }
}

/// Ticks of this process's threads named [`SERVER_THREADS`] or sqlx's
/// SQLite workers.
fn server_ticks() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm")).is_ok_and(|comm| {
                let comm = comm.trim_end();
                comm == SERVER_THREADS || comm.starts_with("sqlx-sqlite")
            })
        })
        .map(|task| stat_ticks(&task.path().join("stat").to_string_lossy()))
        .sum()
}

/// utime + stime of a `/proc/…/stat` file, in ticks; 0 if unreadable.
fn stat_ticks(path: &str) -> u64 {
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0;
    };
    // The name is in parentheses and may hold spaces: utime and stime are
    // the 12th and 13th fields after the last ')'.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    field(11).unwrap_or(0) + field(12).unwrap_or(0)
}

/// (busy, total) ticks of all CPUs, from /proc/stat's `cpu` line.
fn machine_ticks() -> (u64, u64) {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return (0, 0);
    };
    let Some(line) = stat.lines().find(|line| line.starts_with("cpu ")) else {
        return (0, 0);
    };
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = values.iter().take(8).sum();
    // idle and iowait are the 4th and 5th.
    let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
    (total.saturating_sub(idle), total)
}
