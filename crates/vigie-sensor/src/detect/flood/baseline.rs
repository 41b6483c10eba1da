//! What the commune's link usually carries: for each kind of packet a flood
//! is made of (inbound SYN, UDP opened from outside, ICMP echo), the mean
//! number per second over the whole box, learned from capture time as an
//! exponential moving average of about `baseline_secs`.
//!
//! A town hall's link carries a few new connections a second, a large
//! site's thousands: a fixed threshold is either blind at the first or
//! noisy at the second (issue 16). The floods' thresholds follow this mean.
//!
//! What it must not do: learn from a flood. A second in which a target of
//! that kind was over its threshold (or the second after one, which the
//! meters may settle a moment later) is left out, so an attack never raises
//! the bar it is judged by. It keeps three numbers per kind, nothing per
//! address.

use super::FloodKind;

/// The learned means, one per [`FloodKind`].
pub struct Baseline {
    kinds: [Usual; 3],
    /// Weight of one second in the mean: 1 / `baseline_secs`.
    alpha: f64,
}

#[derive(Clone, Copy)]
struct Usual {
    /// The second being counted; `i64::MIN` before the first packet.
    second: i64,
    count: u64,
    mean: f64,
    /// The last second a target of this kind was over its threshold.
    last_busy: i64,
}

/// Beyond this many empty seconds the mean has decayed to nothing anyway;
/// bounds the exponent of the decay.
const MAX_GAP: i64 = 1 << 24;

impl Baseline {
    pub fn new(baseline_secs: u32) -> Self {
        Baseline {
            kinds: [Usual {
                second: i64::MIN,
                count: 0,
                mean: 0.0,
                last_busy: i64::MIN,
            }; 3],
            alpha: 1.0 / f64::from(baseline_secs.max(1)),
        }
    }

    /// Counts one packet of `kind` in `second` (the hot path: a compare and
    /// an add, unless the second changed).
    pub fn count(&mut self, kind: FloodKind, second: i64) {
        let alpha = self.alpha;
        let usual = &mut self.kinds[kind.index()];
        if usual.second != second {
            usual.roll(second, alpha);
        }
        usual.count += 1;
    }

    /// Folds the seconds before `second` into the means (every kind).
    pub fn roll(&mut self, second: i64) {
        let alpha = self.alpha;
        for usual in &mut self.kinds {
            if usual.second < second {
                usual.roll(second, alpha);
            }
        }
    }

    /// A target of `kind` was over its threshold in `second`.
    pub fn busy(&mut self, kind: FloodKind, second: i64) {
        let usual = &mut self.kinds[kind.index()];
        usual.last_busy = usual.last_busy.max(second);
    }

    /// The usual packets per second of `kind` on this box.
    pub fn mean(&self, kind: FloodKind) -> f64 {
        self.kinds[kind.index()].mean
    }

    /// The means, to save across a restart (SYN, UDP, ICMP).
    pub fn means(&self) -> [f64; 3] {
        self.kinds.map(|usual| usual.mean)
    }

    /// Continues from saved means; anything not a finite, non-negative
    /// number (a damaged state file) counts as nothing learned.
    pub fn restore(&mut self, means: [f64; 3]) {
        for (usual, mean) in self.kinds.iter_mut().zip(means) {
            usual.mean = if mean.is_finite() && mean >= 0.0 {
                mean
            } else {
                0.0
            };
        }
    }
}

impl Usual {
    fn roll(&mut self, second: i64, alpha: f64) {
        if self.second != i64::MIN && second > self.second {
            // The second just over, unless a flood was going on.
            if self.last_busy < self.second.saturating_sub(1) {
                self.mean += alpha * (self.count as f64 - self.mean);
            }
            // Seconds without a packet of this kind count as zero.
            let empty = (second - self.second - 1).min(MAX_GAP);
            if empty > 0 {
                self.mean *= (1.0 - alpha).powi(empty as i32);
            }
        }
        if second > self.second {
            self.second = second;
            self.count = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_follows_the_usual_rate_and_forgets_slowly() {
        let mut baseline = Baseline::new(60);
        for second in 0..600 {
            for _ in 0..20 {
                baseline.count(FloodKind::Syn, second);
            }
        }
        baseline.roll(600);
        let mean = baseline.mean(FloodKind::Syn);
        assert!((19.0..=20.0).contains(&mean), "{mean}");
        assert_eq!(baseline.mean(FloodKind::Udp), 0.0);
        // A quiet minute: the mean decays by about e.
        baseline.roll(660);
        let quiet = baseline.mean(FloodKind::Syn);
        assert!((6.5..=7.8).contains(&quiet), "{quiet}");
    }

    #[test]
    fn seconds_of_a_flood_are_not_learned() {
        let mut baseline = Baseline::new(60);
        for second in 0..100 {
            let packets = if second >= 50 { 5000 } else { 10 };
            for _ in 0..packets {
                baseline.count(FloodKind::Syn, second);
            }
            if second >= 50 {
                baseline.busy(FloodKind::Syn, second);
            }
        }
        baseline.roll(100);
        // Only the flood's first second (settled after it was learned)
        // got in: the mean stays far below the flood's rate.
        let mean = baseline.mean(FloodKind::Syn);
        assert!(mean < 120.0, "{mean}");
    }

    #[test]
    fn a_damaged_saved_mean_is_forgotten() {
        let mut baseline = Baseline::new(60);
        baseline.restore([12.5, f64::NAN, -3.0]);
        assert_eq!(baseline.means(), [12.5, 0.0, 0.0]);
    }
}
