//! pcapng Interface Description Blocks (draft-ietf-opsawg-pcapng §4.2): the
//! link type, snapshot length and clock of one capture interface, and the
//! exact conversion of that clock's timestamps to nanoseconds.
//!
//! It must not use floating point (timestamps stay exact, including 2^-n
//! resolutions) nor trust an option's length.

use super::super::reader::ByteOrder;

/// §4.2: link type (2), reserved (2), snapshot length (4) after the block
/// type and length.
const FIXED_LEN: usize = 16;
/// §3.5 opt_endofopt.
const OPT_END: u16 = 0;
/// §4.2 if_tsresol: the timestamp resolution.
const OPT_TSRESOL: u16 = 9;
/// §4.2 if_tsoffset: seconds to add to every timestamp.
const OPT_TSOFFSET: u16 = 14;
/// §4.2: without if_tsresol, timestamps count microseconds (10^-6 s).
const DEFAULT_TSRESOL: u8 = 6;
const NANOS_PER_SEC: u64 = 1_000_000_000;

/// What a packet needs from the interface it was captured on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Interface {
    pub linktype: u32,
    /// 0 means no limit (§4.2).
    pub snaplen: u32,
    pub clock: Clock,
}

/// Converts an interface's 64-bit timestamps to Unix nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Clock {
    units: Units,
    /// if_tsoffset, in seconds.
    offset_secs: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Units {
    /// A whole number of nanoseconds per tick: 10^-n with n <= 9, and 1 s.
    Nanos(u64),
    /// Any finer or binary resolution: this many ticks per second (>= 2).
    PerSecond(u128),
}

impl Clock {
    /// The clock of an if_tsresol byte (§4.2): the most significant bit
    /// clear means 10^-n seconds per tick, set means 2^-n, n being the
    /// remaining bits.
    pub fn new(tsresol: u8, offset_secs: i64) -> Self {
        let exponent = u32::from(tsresol & 0x7f);
        let base: u128 = if tsresol & 0x80 == 0 { 10 } else { 2 };
        let units = match base.checked_pow(exponent) {
            Some(per_second) if u128::from(NANOS_PER_SEC).is_multiple_of(per_second) => {
                Units::Nanos(NANOS_PER_SEC / per_second as u64)
            }
            Some(per_second) => Units::PerSecond(per_second),
            // Beyond 10^-38 s a 64-bit timestamp is below a nanosecond.
            None => Units::PerSecond(u128::MAX),
        };
        Clock { units, offset_secs }
    }

    /// Nanoseconds since the Unix epoch, truncated to the nanosecond and
    /// clamped to what an i64 holds (years 1677 to 2262).
    pub fn nanos(&self, ts: u64) -> i64 {
        let since_offset = match self.units {
            // < 2^64 * 10^9 < 2^94: no overflow in i128.
            Units::Nanos(per_tick) => i128::from(ts) * i128::from(per_tick),
            Units::PerSecond(per_second) => {
                let ts = u128::from(ts);
                let secs = ts / per_second;
                let frac = ts % per_second * u128::from(NANOS_PER_SEC) / per_second;
                // Both terms < 2^94 since ts < 2^64.
                i128::try_from(secs * u128::from(NANOS_PER_SEC) + frac).unwrap_or(i128::MAX)
            }
        };
        let nanos = since_offset + i128::from(self.offset_secs) * i128::from(NANOS_PER_SEC);
        i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
    }
}

/// Reads an Interface Description Block (whole, trailing length included);
/// the error is a problem to report at the block's offset.
pub(super) fn parse(block: &[u8], order: ByteOrder) -> Result<Interface, String> {
    let (Some(linktype), Some(snaplen)) = (order.u16(block, 8), order.u32(block, 12)) else {
        return Err("interface description block too short".into());
    };
    let options = block
        .get(FIXED_LEN..block.len().saturating_sub(4))
        .unwrap_or_default();
    let mut tsresol = DEFAULT_TSRESOL;
    let mut offset_secs = 0;
    for_each_option(options, order, |code, value| {
        match (code, value) {
            (OPT_TSRESOL, &[byte]) => tsresol = byte,
            (OPT_TSRESOL, _) => return Err(bad_option_len("if_tsresol", value.len(), 1)),
            (OPT_TSOFFSET, _) => match order.u64(value, 0) {
                Some(secs) if value.len() == 8 => offset_secs = secs as i64,
                _ => return Err(bad_option_len("if_tsoffset", value.len(), 8)),
            },
            _ => {}
        }
        Ok(())
    })?;
    Ok(Interface {
        linktype: u32::from(linktype),
        snaplen,
        clock: Clock::new(tsresol, offset_secs),
    })
}

fn bad_option_len(name: &str, len: usize, expected: usize) -> String {
    format!("{name} option of {len} bytes, expected {expected}")
}

/// Calls `f` with the code and value of each option (§3.5): a code, a
/// length, then the value padded to 32 bits, up to opt_endofopt or the end.
fn for_each_option(
    mut options: &[u8],
    order: ByteOrder,
    mut f: impl FnMut(u16, &[u8]) -> Result<(), String>,
) -> Result<(), String> {
    while let (Some(code), Some(len)) = (order.u16(options, 0), order.u16(options, 2)) {
        if code == OPT_END {
            break;
        }
        let len = usize::from(len);
        let Some(value) = options.get(4..4 + len) else {
            return Err(format!(
                "option {code} of {len} bytes runs past the end of its block"
            ));
        };
        f(code, value)?;
        // The last option's padding may be missing; nothing follows then.
        options = options
            .get(4 + len.next_multiple_of(4)..)
            .unwrap_or_default();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(tsresol: u8, offset_secs: i64, ts: u64, expected: i64) {
        assert_eq!(
            Clock::new(tsresol, offset_secs).nanos(ts),
            expected,
            "tsresol {tsresol:#x}, ts {ts}"
        );
    }

    #[test]
    fn decimal_resolutions() {
        check(6, 0, 1_700_000_000_123_456, 1_700_000_000_123_456_000);
        check(9, 0, 1_700_000_000_123_456_789, 1_700_000_000_123_456_789);
        check(0, 0, 3, 3_000_000_000);
        check(3, 0, 1_500, 1_500_000_000);
        // Finer than a nanosecond: truncated to the nanosecond.
        check(12, 0, 1_700_000_000_123_456_789, 1_700_000_000_123_456);
        check(12, 0, 999, 0);
        check(127, 0, u64::MAX, 0);
    }

    #[test]
    fn binary_resolutions_are_exact() {
        // 2^-20 s ticks: 3.5 s is 3 * 2^20 + 2^19 ticks.
        check(0x80 | 20, 0, 3 << 20 | 1 << 19, 3_500_000_000);
        // 2^-30 s: one tick is 0.93 ns, truncated; 2^30 + 2^29 ticks is 1.5 s.
        check(0x80 | 30, 0, 1, 0);
        check(0x80 | 30, 0, (1 << 30) + (1 << 29), 1_500_000_000);
        // 2^-3 s: 0.125 s is a whole number of nanoseconds.
        check(0x80 | 3, 0, 9, 1_125_000_000);
        check(0x80, 0, 2, 2_000_000_000);
        check(0xff, 0, u64::MAX, 0);
    }

    #[test]
    fn offset_and_clamping() {
        check(6, 100, 1_000_000, 101_000_000_000);
        check(6, -2, 1_000_000, -1_000_000_000);
        check(9, i64::MAX, 1, i64::MAX);
        check(0, i64::MIN, 0, i64::MIN);
        check(0, 0, u64::MAX, i64::MAX);
    }

    fn idb(options: &[u8]) -> Vec<u8> {
        let mut block = vec![1, 0, 0, 0, 0, 0, 0, 0, 113, 0, 0, 0, 0xff, 0xff, 0, 0];
        block.extend_from_slice(options);
        block.extend_from_slice(&[0; 4]);
        block
    }

    #[test]
    fn parses_options() {
        let got = parse(
            &idb(&[
                9, 0, 1, 0, 9, 0, 0, 0, 14, 0, 8, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ]),
            ByteOrder::Little,
        );
        let expected = Interface {
            linktype: 113,
            snaplen: 65535,
            clock: Clock::new(9, 10),
        };
        assert_eq!(got, Ok(expected));
        // Unknown options are skipped; nothing is read after opt_endofopt.
        let got = parse(
            &idb(&[2, 0, 3, 0, b'e', b't', b'h', 0, 0, 0, 0, 0, 9, 0, 2]),
            ByteOrder::Little,
        );
        assert_eq!(got.map(|i| i.clock), Ok(Clock::new(6, 0)));
    }

    #[test]
    fn rejects_bad_options() {
        let cases: [(&[u8], &str); 3] = [
            (
                &[9, 0, 2, 0, 9, 9, 0, 0],
                "if_tsresol option of 2 bytes, expected 1",
            ),
            (
                &[14, 0, 4, 0, 1, 0, 0, 0],
                "if_tsoffset option of 4 bytes, expected 8",
            ),
            (
                &[2, 0, 9, 0, 1, 2, 3, 4],
                "option 2 of 9 bytes runs past the end of its block",
            ),
        ];
        for (options, expected) in cases {
            assert_eq!(
                parse(&idb(options), ByteOrder::Little),
                Err(expected.to_string())
            );
        }
    }
}
