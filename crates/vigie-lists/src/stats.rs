//! What loading one list found: entries by kind, what was set aside and
//! why, and the first few bad lines, so that the operator gets one clear
//! warning per file instead of a failed start.

use std::fmt;

/// How many bad lines are kept per list for the warning; the rest are only
/// counted.
pub const MAX_PROBLEMS: usize = 5;
/// How much of a bad line the warning quotes.
const EXCERPT_CHARS: usize = 60;

/// One bad line of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineProblem {
    /// 1-based line number in the file.
    pub line: usize,
    /// Why the line was skipped.
    pub reason: &'static str,
    /// The start of the line, as written.
    pub excerpt: String,
}

impl fmt::Display for LineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: {} ({:?})",
            self.line, self.reason, self.excerpt
        )
    }
}

/// What one list (one file, or one `add_list` call) contributed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListStats {
    /// The list's label (the file name without its extension).
    pub label: String,
    /// True for an allowlist.
    pub allowlist: bool,
    /// Single addresses loaded.
    pub ips: usize,
    /// CIDR blocks and ranges loaded.
    pub cidrs: usize,
    /// Domain names loaded.
    pub domains: usize,
    /// Blocks that were nothing but whole special-use ranges (private,
    /// loopback, link-local, multicast...): bogon filters, never an
    /// attacker's identity, left out.
    pub ignored_special: usize,
    /// Valid indicators of a kind that cannot be matched on traffic (file
    /// or certificate hashes in abuse.ch feeds).
    pub unsupported: usize,
    /// Lines that could not be understood and were skipped.
    pub malformed: usize,
    /// The first [`MAX_PROBLEMS`] malformed lines.
    pub problems: Vec<LineProblem>,
}

/// What one `IntelBuilder::add_list` or `add_allowlist` call loaded.
pub type LoadStats = ListStats;

impl ListStats {
    pub(crate) fn new(label: &str, allowlist: bool) -> ListStats {
        ListStats {
            label: label.to_owned(),
            allowlist,
            ..ListStats::default()
        }
    }

    /// Entries loaded (addresses, blocks and domains).
    pub fn entries(&self) -> usize {
        self.ips + self.cidrs + self.domains
    }

    pub(crate) fn malformed_line(&mut self, line: usize, reason: &'static str, text: &str) {
        self.malformed += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(LineProblem {
                line,
                reason,
                excerpt: text.chars().take(EXCERPT_CHARS).collect(),
            });
        }
    }
}

impl fmt::Display for ListStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}: {} addresses, {} blocks, {} domains; {} special-use ignored, \
             {} unsupported, {} malformed",
            self.label,
            if self.allowlist { " (allowlist)" } else { "" },
            self.ips,
            self.cidrs,
            self.domains,
            self.ignored_special,
            self.unsupported,
            self.malformed,
        )?;
        for problem in &self.problems {
            write!(f, "; {problem}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_first_problems() {
        let mut stats = ListStats::new("firehol_level1", false);
        for line in 1..=8 {
            stats.malformed_line(line, "bad", &"x".repeat(100));
        }
        assert_eq!(stats.malformed, 8);
        assert_eq!(stats.problems.len(), MAX_PROBLEMS);
        assert_eq!(stats.problems[4].line, 5);
        assert_eq!(stats.problems[0].excerpt.len(), EXCERPT_CHARS);
        assert!(stats.to_string().starts_with(
            "firehol_level1: 0 addresses, 0 blocks, 0 domains; 0 special-use ignored, \
             0 unsupported, 8 malformed; line 1: bad"
        ));
    }
}
