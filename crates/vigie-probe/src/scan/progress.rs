//! Progress of a run: hosts (discovery), ports (connect scan) and checks
//! (the protocol families), done out of total. Drawn as bars on a terminal
//! (indicatif), as a plain French line every few seconds otherwise, or not
//! at all (tests).
//!
//! What it must not do: slow the scan (counters are atomics; drawing is
//! indicatif's, rate-limited) or print a finding (that is the report's).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Time between two plain progress lines.
const LOG_EVERY: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Hosts,
    Ports,
    Checks,
}

const STAGES: [Stage; 3] = [Stage::Hosts, Stage::Ports, Stage::Checks];

impl Stage {
    fn label(self) -> &'static str {
        match self {
            Stage::Hosts => "hôtes",
            Stage::Ports => "ports",
            Stage::Checks => "vérifications",
        }
    }

    fn index(self) -> usize {
        match self {
            Stage::Hosts => 0,
            Stage::Ports => 1,
            Stage::Checks => 2,
        }
    }
}

#[derive(Debug)]
enum View {
    Bars {
        _multi: MultiProgress,
        bars: [ProgressBar; 3],
    },
    Log {
        last: Mutex<Instant>,
    },
    Hidden,
}

#[derive(Debug)]
pub struct Progress {
    done: [AtomicU64; 3],
    total: [AtomicU64; 3],
    view: View,
}

impl Progress {
    /// Bars if standard error is a terminal, plain lines otherwise.
    pub fn auto() -> Progress {
        if std::io::stderr().is_terminal() {
            Progress::bars()
        } else {
            Progress::log()
        }
    }

    /// Three bars on standard error.
    pub fn bars() -> Progress {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{prefix:>14} [{bar:32}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = |stage: Stage| {
            let bar = multi.add(ProgressBar::new(0));
            bar.set_style(style.clone());
            bar.set_prefix(stage.label());
            bar
        };
        let bars = STAGES.map(bar);
        Progress::with_view(View::Bars {
            _multi: multi,
            bars,
        })
    }

    /// A plain line on standard error now and then.
    pub fn log() -> Progress {
        Progress::with_view(View::Log {
            last: Mutex::new(Instant::now()),
        })
    }

    pub fn hidden() -> Progress {
        Progress::with_view(View::Hidden)
    }

    fn with_view(view: View) -> Progress {
        Progress {
            done: Default::default(),
            total: Default::default(),
            view,
        }
    }

    /// `count` more items to do at `stage`.
    pub fn add(&self, stage: Stage, count: u64) {
        self.total[stage.index()].fetch_add(count, Ordering::Relaxed);
        if let View::Bars { bars, .. } = &self.view {
            bars[stage.index()].inc_length(count);
        }
        self.maybe_log(false);
    }

    /// One item of `stage` done.
    pub fn done(&self, stage: Stage) {
        self.done[stage.index()].fetch_add(1, Ordering::Relaxed);
        if let View::Bars { bars, .. } = &self.view {
            bars[stage.index()].inc(1);
        }
        self.maybe_log(false);
    }

    /// (done, total) at `stage`.
    pub fn counts(&self, stage: Stage) -> (u64, u64) {
        let i = stage.index();
        (
            self.done[i].load(Ordering::Relaxed),
            self.total[i].load(Ordering::Relaxed),
        )
    }

    /// Leaves the bars drawn as they are, or prints a last line.
    pub fn finish(&self) {
        match &self.view {
            View::Bars { bars, .. } => bars.iter().for_each(ProgressBar::abandon),
            View::Log { .. } => self.maybe_log(true),
            View::Hidden => {}
        }
    }

    /// The plain line: "sonde : hôtes 12/254, ports 120/720, vérifications 3/14".
    pub fn line(&self) -> String {
        let parts: Vec<String> = STAGES
            .iter()
            .map(|&stage| {
                let (done, total) = self.counts(stage);
                format!("{} {done}/{total}", stage.label())
            })
            .collect();
        format!("sonde : {}", parts.join(", "))
    }

    fn maybe_log(&self, now: bool) {
        let View::Log { last } = &self.view else {
            return;
        };
        let mut last = last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if now || last.elapsed() >= LOG_EVERY {
            *last = Instant::now();
            eprintln!("{}", self.line());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_line() {
        let progress = Progress::hidden();
        progress.add(Stage::Hosts, 4);
        progress.done(Stage::Hosts);
        progress.add(Stage::Checks, 2);
        assert_eq!(progress.counts(Stage::Hosts), (1, 4));
        assert_eq!(
            progress.line(),
            "sonde : hôtes 1/4, ports 0/0, vérifications 0/2"
        );
    }
}
