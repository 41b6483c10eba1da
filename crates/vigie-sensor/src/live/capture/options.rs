//! How a live capture is set up: the options, their recommended values and
//! the checks made before any interface is touched. Nothing here opens a
//! capture.

use std::collections::HashSet;
use std::time::Duration;

use super::CaptureOpenError;

/// Bytes kept of each frame. AF_PACKET sees frames after GRO, so on a busy
/// link one "frame" can be up to 64 KiB of merged segments; keeping it whole
/// lets the decoders see a TLS ClientHello that spans two segments (one with
/// a post-quantum key share is about 1.8 KB). It costs no memory: with
/// TPACKET_V3 libpcap sizes the ring's blocks at 256 KiB whatever the
/// snaplen and the kernel packs each frame at its captured length.
pub const DEFAULT_SNAPLEN: i32 = 65_535;
/// Kernel ring per interface. 32 MiB holds about a quarter of a second of
/// 1 Gbit/s traffic, enough to ride out a batch, a checkpoint or a list
/// swap, and keeps the whole sensor under its 128 MB budget.
pub const DEFAULT_BUFFER_BYTES: i32 = 32 * 1024 * 1024;
/// How long `next_frame` waits for a frame before handing control back.
pub const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_millis(200);

/// Ethernet + VLAN tag + IPv6 + the longest TCP header (14 + 4 + 40 + 60):
/// any shorter and the detectors lose ports and flags.
const MIN_SNAPLEN: i32 = 118;
/// libpcap's MAXIMUM_SNAPLEN; it silently lowers anything above.
const MAX_SNAPLEN: i32 = 262_144;
/// Below this the ring overflows on the first burst; libpcap's own default
/// is 2 MiB.
const MIN_BUFFER_BYTES: i32 = 1024 * 1024;

/// How to capture. `Default` gives the recommended values and no interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureOptions {
    /// Interfaces to read (`eth1`, `br0`, or libpcap's `any`).
    pub interfaces: Vec<String>,
    /// A BPF expression (tcpdump syntax) applied in the kernel.
    pub bpf: Option<String>,
    pub snaplen: i32,
    /// Kernel ring size per interface, in bytes.
    pub buffer_bytes: i32,
    /// Needed on a mirror port, whose frames are not addressed to the box.
    pub promiscuous: bool,
    pub poll_timeout: Duration,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            interfaces: Vec::new(),
            bpf: None,
            snaplen: DEFAULT_SNAPLEN,
            buffer_bytes: DEFAULT_BUFFER_BYTES,
            promiscuous: true,
            poll_timeout: DEFAULT_POLL_TIMEOUT,
        }
    }
}

impl CaptureOptions {
    /// The default options on these interfaces.
    pub fn on<I, S>(interfaces: I) -> CaptureOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        CaptureOptions {
            interfaces: interfaces.into_iter().map(Into::into).collect(),
            ..CaptureOptions::default()
        }
    }
}

pub(super) fn check_options(options: &CaptureOptions) -> Result<(), CaptureOpenError> {
    if options.interfaces.is_empty() {
        return Err(CaptureOpenError::NoInterface);
    }
    let mut seen = HashSet::new();
    if let Some(twice) = options.interfaces.iter().find(|name| !seen.insert(*name)) {
        return Err(CaptureOpenError::DuplicateInterface(twice.clone()));
    }
    let bad = |what, value: String, why| Err(CaptureOpenError::BadOption { what, value, why });
    if !(MIN_SNAPLEN..=MAX_SNAPLEN).contains(&options.snaplen) {
        let why = "entre 118 et 262144 octets";
        return bad("snaplen", options.snaplen.to_string(), why);
    }
    if options.buffer_bytes < MIN_BUFFER_BYTES {
        let why = "au moins 1 Mio";
        return bad("buffer_bytes", options.buffer_bytes.to_string(), why);
    }
    if options.poll_timeout.is_zero() {
        let why = "au moins 1 ms";
        return bad("poll_timeout", "0".to_owned(), why);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_rejects(change: impl FnOnce(&mut CaptureOptions), what: &str) {
        let mut options = CaptureOptions::on(["lo"]);
        change(&mut options);
        match check_options(&options) {
            Err(CaptureOpenError::BadOption { what: got, .. }) => assert_eq!(got, what),
            other => panic!("{what}: expected BadOption, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid() {
        let options = CaptureOptions::on(["eth1", "eth2"]);
        assert_eq!(options.interfaces, ["eth1", "eth2"]);
        assert_eq!(options.snaplen, 65_535);
        assert_eq!(options.buffer_bytes, 32 << 20);
        assert!(options.promiscuous);
        assert!(check_options(&options).is_ok());
    }

    #[test]
    fn bad_options_are_refused_before_opening() {
        check_rejects(|o| o.snaplen = 64, "snaplen");
        check_rejects(|o| o.snaplen = 300_000, "snaplen");
        check_rejects(|o| o.buffer_bytes = 4096, "buffer_bytes");
        check_rejects(|o| o.poll_timeout = Duration::ZERO, "poll_timeout");
        let none = CaptureOptions::default();
        assert!(matches!(
            check_options(&none),
            Err(CaptureOpenError::NoInterface)
        ));
        let twice = CaptureOptions::on(["eth1", "eth2", "eth1"]);
        match check_options(&twice) {
            Err(CaptureOpenError::DuplicateInterface(name)) => assert_eq!(name, "eth1"),
            other => panic!("expected DuplicateInterface, got {other:?}"),
        }
    }
}
