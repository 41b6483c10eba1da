//! What the load generator records: per kind of request, the latency of
//! each answer counted from the time it was due (an open-loop measure: a
//! late send is latency too), and the failures by cause.

use std::collections::BTreeMap;
use std::time::Duration;

use super::traffic::Kind;

/// Latencies and failures of one kind of request.
#[derive(Default)]
pub struct Series {
    /// (minute of the run, latency) of each successful answer.
    pub answers: Vec<(u64, Duration)>,
    /// Failures by cause ("503", "délai dépassé", "connexion"...).
    pub errors: BTreeMap<String, u64>,
}

impl Series {
    pub fn latencies(&self) -> Vec<Duration> {
        let mut times: Vec<Duration> = self.answers.iter().map(|(_, t)| *t).collect();
        times.sort();
        times
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Everything recorded in a run.
#[derive(Default)]
pub struct Recorder {
    pub series: BTreeMap<Kind, Series>,
    /// How late the generator itself sent requests (its own lag behind
    /// the schedule), the worst seen.
    pub worst_send_lag: Duration,
}

impl Recorder {
    pub fn answer(&mut self, kind: Kind, minute: u64, latency: Duration) {
        self.series
            .entry(kind)
            .or_default()
            .answers
            .push((minute, latency));
    }

    pub fn failure(&mut self, kind: Kind, cause: String) {
        *self
            .series
            .entry(kind)
            .or_default()
            .errors
            .entry(cause)
            .or_default() += 1;
    }

    pub fn answers(&self) -> usize {
        self.series.values().map(|s| s.answers.len()).sum()
    }

    pub fn errors(&self) -> u64 {
        self.series.values().map(Series::error_count).sum()
    }

    /// The 99th percentile of all answers, minute by minute: whether the
    /// latency holds as the tables grow.
    pub fn p99_by_minute(&self) -> Vec<Duration> {
        let mut minutes: BTreeMap<u64, Vec<Duration>> = BTreeMap::new();
        for series in self.series.values() {
            for (minute, latency) in &series.answers {
                minutes.entry(*minute).or_default().push(*latency);
            }
        }
        minutes
            .into_values()
            .map(|mut times| {
                times.sort();
                quantile(&times, 0.99)
            })
            .collect()
    }
}

/// The `q` quantile of sorted values by the nearest-rank method (the
/// smallest value with at least `q` of the values at or below it); zero
/// for no values.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.clamp(1, sorted.len()) - 1)
        .copied()
        .unwrap_or_default()
}

pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(values_ms: &[u64], q: f64, expected_ms: u64) {
        let mut sorted: Vec<Duration> = values_ms
            .iter()
            .map(|&ms| Duration::from_millis(ms))
            .collect();
        sorted.sort();
        assert_eq!(
            quantile(&sorted, q),
            Duration::from_millis(expected_ms),
            "{values_ms:?} q={q}"
        );
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let hundred: Vec<u64> = (1..=100).collect();
        check(&hundred, 0.5, 50);
        check(&hundred, 0.99, 99);
        check(&hundred, 1.0, 100);
        check(&hundred, 0.0, 1);
        // One slow answer in a hundred is the p100, not the p99.
        let mut one_slow = vec![10; 99];
        one_slow.push(900);
        check(&one_slow, 0.99, 10);
        check(&one_slow, 1.0, 900);
        // Two in a hundred are.
        let mut two_slow = vec![10; 98];
        two_slow.extend([900, 950]);
        check(&two_slow, 0.99, 900);
        check(&[7], 0.99, 7);
        check(&[], 0.99, 0);
    }

    #[test]
    fn failures_are_counted_by_cause_and_minutes_apart() {
        let mut recorder = Recorder::default();
        recorder.answer(Kind::Batch, 0, Duration::from_millis(5));
        recorder.answer(Kind::Heartbeat, 1, Duration::from_millis(300));
        recorder.failure(Kind::Batch, "503".to_owned());
        recorder.failure(Kind::Batch, "503".to_owned());
        assert_eq!((recorder.answers(), recorder.errors()), (2, 2));
        assert_eq!(recorder.series[&Kind::Batch].errors["503"], 2);
        assert_eq!(
            recorder.p99_by_minute(),
            [Duration::from_millis(5), Duration::from_millis(300)]
        );
    }
}
