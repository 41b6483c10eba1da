//! How long the uplink waits before retrying: exponential from 1 s to a cap
//! of 5 minutes, with full jitter so that the boxes of a territory cut off
//! together do not all come back at the same second. Holds no I/O.

use std::time::Duration;

/// The first retry waits at most this long.
pub const BACKOFF_START: Duration = Duration::from_secs(1);
/// No retry waits longer than this.
pub const BACKOFF_CAP: Duration = Duration::from_secs(300);

/// Successive delays for retrying one failing operation.
#[derive(Clone, Debug)]
pub struct Backoff {
    /// The ceiling of the next delay; doubles after each one.
    ceiling: Duration,
    start: Duration,
    cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

impl Backoff {
    /// From [`BACKOFF_START`] up to [`BACKOFF_CAP`].
    pub fn new() -> Backoff {
        Backoff::with_bounds(BACKOFF_START, BACKOFF_CAP)
    }

    /// Delays from `start` doubling up to `cap` (tests use short ones).
    pub fn with_bounds(start: Duration, cap: Duration) -> Backoff {
        let start = start.min(cap);
        Backoff {
            ceiling: start,
            start,
            cap,
        }
    }

    /// The delay before the next try: uniformly random in [0, ceiling]
    /// ("full jitter"), the ceiling doubling each time up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling;
        self.ceiling = (self.ceiling * 2).min(self.cap);
        jitter(ceiling)
    }

    /// After a success: the next failure starts again from the shortest delay.
    pub fn reset(&mut self) {
        self.ceiling = self.start;
    }

    /// The ceiling the next delay is drawn under.
    pub fn ceiling(&self) -> Duration {
        self.ceiling
    }
}

/// A random duration in [0, ceiling], in milliseconds. Without system
/// randomness the whole ceiling: still a correct, if synchronised, delay.
fn jitter(ceiling: Duration) -> Duration {
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    match getrandom::u64() {
        Ok(random) if millis < u64::MAX => Duration::from_millis(random % (millis + 1)),
        _ => ceiling,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_under_a_doubling_ceiling_up_to_the_cap() {
        let mut backoff = Backoff::new();
        let expected_ceilings = [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300];
        for secs in expected_ceilings {
            assert_eq!(backoff.ceiling(), Duration::from_secs(secs));
            let delay = backoff.next_delay();
            assert!(delay <= Duration::from_secs(secs), "{delay:?} > {secs} s");
        }
        backoff.reset();
        assert_eq!(backoff.ceiling(), BACKOFF_START);
        assert!(backoff.next_delay() <= BACKOFF_START);
    }

    #[test]
    fn delays_are_jittered() {
        // 200 draws in [0, 300 s] by the millisecond: all equal would mean
        // no jitter (probability about 300000^-199).
        let mut backoff = Backoff::with_bounds(BACKOFF_CAP, BACKOFF_CAP);
        let delays: Vec<Duration> = (0..200).map(|_| backoff.next_delay()).collect();
        assert!(delays.iter().all(|d| *d <= BACKOFF_CAP));
        assert!(delays.iter().any(|d| *d != delays[0]));
        // Full jitter reaches the low half of the range, not just near the ceiling.
        assert!(delays.iter().any(|d| *d < BACKOFF_CAP / 2));
    }

    #[test]
    fn a_start_above_the_cap_is_capped() {
        let mut backoff = Backoff::with_bounds(Duration::from_secs(10), Duration::from_secs(3));
        assert!(backoff.next_delay() <= Duration::from_secs(3));
        assert_eq!(backoff.ceiling(), Duration::from_secs(3));
    }
}
