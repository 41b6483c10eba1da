//! Live capture from one or more interfaces through libpcap: AF_PACKET with
//! a TPACKET_V3 ring per interface, an optional BPF filter run in the
//! kernel, nanosecond timestamps and the kernel's drop counters. libpcap is
//! loaded at run time by `vigie-pcap` when the first capture opens, so
//! nothing else in Vigie needs it; without it, opening says which Debian
//! package to install.
//!
//! One thread reads every interface: the handles are non-blocking and the
//! thread sleeps in poll(2) on all their descriptors at once, then takes
//! frames round-robin so a busy interface cannot starve a quiet one. Reading
//! each handle in turn with a short timeout would instead sleep on a quiet
//! interface while frames wait on another.
//!
//! It must not interpret frames (the engine does) nor decide what a failed
//! interface means for the sensor (the daemon does): it only delivers them.

mod error;
mod options;

pub use error::{CaptureOpenError, LiveError, interface_exists};
pub use options::{CaptureOptions, DEFAULT_BUFFER_BYTES, DEFAULT_POLL_TIMEOUT, DEFAULT_SNAPLEN};

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use vigie_pcap::{Capture, Inactive};

use error::{ANY, classify_open_failure};
use options::check_options;

/// Frames taken in a row from one interface before looking at the next:
/// enough to make the cost of looking negligible, few enough that a busy
/// interface delays a quiet one by microseconds.
const BURST: u32 = 64;

/// One captured frame, in the terms `Engine::process` takes. It borrows the
/// capture until the next call to `next_frame`.
#[derive(Clone, Copy, Debug)]
pub struct LiveFrame<'a> {
    /// Nanoseconds since the Unix epoch, stamped by the kernel.
    pub ts_nanos: i64,
    /// The pcap link type of the interface (1 for Ethernet).
    pub linktype: u32,
    /// The captured bytes, at most the snaplen.
    pub data: &'a [u8],
    /// The frame's length on the wire.
    pub orig_len: u32,
}

/// The kernel's counters, summed over the interfaces, since the capture
/// was opened (64-bit: libpcap's 32-bit counters wrap, see `stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelStats {
    /// Frames that passed the filter, including those then dropped. On
    /// the loopback interface each packet counts twice (sent and received;
    /// libpcap delivers it once).
    pub received: u64,
    /// Frames lost because the ring was full: the sensor was too slow.
    pub dropped: u64,
    /// Frames the interface or its driver dropped before the capture saw
    /// them (read from the interface's counters, all traffic included).
    pub if_dropped: u64,
}

/// An open capture on one or more interfaces.
pub struct LiveCapture {
    sources: Vec<Source>,
    poll_timeout: Duration,
    /// Where the next round-robin pass starts, and how many frames in a
    /// row that interface has given.
    next: usize,
    burst: u32,
    /// The last frame, copied out of the kernel ring: a frame borrowed from
    /// one of several handles inside a retry loop cannot be returned under
    /// today's borrow checker. The copy is at most one snaplen per frame,
    /// a few percent of a core at 1 Gbit/s.
    frame: Vec<u8>,
}

/// One interface's handle and counters.
struct Source {
    interface: String,
    capture: Capture,
    linktype: u32,
    /// libpcap's counters at the previous `stats` call.
    last: [u32; 3],
    totals: KernelStats,
}

/// The header of the frame held in `LiveCapture::frame`.
struct Taken {
    ts_nanos: i64,
    linktype: u32,
    orig_len: u32,
}

impl LiveCapture {
    /// Opens every interface, applies the filter and makes the handles
    /// non-blocking. Needs root or CAP_NET_RAW; the privileges can be
    /// dropped once this returns, the open handles keep working.
    pub fn open(options: &CaptureOptions) -> Result<LiveCapture, CaptureOpenError> {
        check_options(options)?;
        let sources = options
            .interfaces
            .iter()
            .map(|interface| Source::open(interface, options))
            .collect::<Result<Vec<_>, _>>()?;
        let snaplen = usize::try_from(options.snaplen).unwrap_or(0);
        Ok(LiveCapture {
            sources,
            poll_timeout: options.poll_timeout,
            next: 0,
            burst: 0,
            frame: Vec::with_capacity(snaplen),
        })
    }

    /// The interfaces read, in the order given.
    pub fn interfaces(&self) -> impl Iterator<Item = &str> {
        self.sources.iter().map(|source| source.interface.as_str())
    }

    /// The next frame from any interface, or `None` once `poll_timeout` has
    /// passed without one, so the caller can act on the passing time. Meant
    /// for a tight loop: while frames are queued it makes no system call
    /// (libpcap reads the ring shared with the kernel) and copies one frame.
    pub fn next_frame(&mut self) -> Result<Option<LiveFrame<'_>>, LiveError> {
        let deadline = Instant::now() + self.poll_timeout;
        let mut failed = None;
        loop {
            if let Some(taken) = self.take_ready()? {
                return Ok(Some(LiveFrame {
                    ts_nanos: taken.ts_nanos,
                    linktype: taken.linktype,
                    data: &self.frame,
                    orig_len: taken.orig_len,
                }));
            }
            // poll flagged an error and libpcap had nothing to say about
            // it: polling again would only spin.
            if let Some(interface) = failed {
                return Err(LiveError::InterfaceFailed { interface });
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            failed = self.wait(deadline - now)?;
        }
    }

    /// The kernel's counters summed over the interfaces since opening.
    ///
    /// On Linux libpcap's counters are cumulative since the handle was
    /// opened (it adds up the kernel's PACKET_STATISTICS, which reset on
    /// each read) but 32-bit, so they wrap after 2^32 frames: about 80
    /// minutes at 1 Gbit/s of small packets. This keeps 64-bit totals from
    /// the differences, so it must be called more often than that (the
    /// daemon calls it for every batch).
    pub fn stats(&mut self) -> Result<KernelStats, LiveError> {
        let mut sum = KernelStats::default();
        for source in &mut self.sources {
            let totals = source.update_stats()?;
            sum.received += totals.received;
            sum.dropped += totals.dropped;
            sum.if_dropped += totals.if_dropped;
        }
        Ok(sum)
    }

    /// Takes one frame from the first interface, round-robin, that has one.
    fn take_ready(&mut self) -> Result<Option<Taken>, LiveError> {
        let count = self.sources.len();
        for step in 0..count {
            let index = (self.next + step) % count;
            let Some(source) = self.sources.get_mut(index) else {
                continue;
            };
            match source.capture.next_packet() {
                Ok(Some(packet)) => {
                    self.frame.clear();
                    self.frame.extend_from_slice(packet.data);
                    let taken = Taken {
                        ts_nanos: packet.ts_nanos,
                        linktype: source.linktype,
                        orig_len: packet.len,
                    };
                    self.advance(index, count);
                    return Ok(Some(taken));
                }
                // What a non-blocking handle answers when its ring is empty.
                Ok(None) => {}
                Err(error) => {
                    return Err(LiveError::Read {
                        interface: source.interface.clone(),
                        reason: error.to_string(),
                    });
                }
            }
        }
        Ok(None)
    }

    /// Stays on the interface that gave a frame for up to [`BURST`] frames:
    /// moving on after every frame would ask an idle interface each time,
    /// and libpcap answers that with a system call (a zero-timeout poll).
    fn advance(&mut self, index: usize, count: usize) {
        if index == self.next {
            self.burst += 1;
        } else {
            self.next = index;
            self.burst = 1;
        }
        if self.burst >= BURST {
            self.next = (index + 1) % count;
            self.burst = 0;
        }
    }

    /// Sleeps until a handle has frames or `timeout` passes. Returns the
    /// interface whose descriptor reported an error, if any.
    fn wait(&self, timeout: Duration) -> Result<Option<String>, LiveError> {
        let mut fds: Vec<PollFd<'_>> = self
            .sources
            .iter()
            .map(|source| PollFd::new(source.capture.as_fd(), PollFlags::POLLIN))
            .collect();
        match poll(&mut fds, poll_timeout(timeout)) {
            Ok(_) => {}
            // A signal (shutdown, reload): let the caller look at its flags.
            Err(Errno::EINTR) => return Ok(None),
            Err(errno) => return Err(LiveError::Poll(errno)),
        }
        let trouble = PollFlags::POLLERR | PollFlags::POLLHUP | PollFlags::POLLNVAL;
        let failed = fds
            .iter()
            .zip(&self.sources)
            .find(|(fd, _)| {
                fd.revents()
                    .is_some_and(|events| events.intersects(trouble))
            })
            .map(|(_, source)| source.interface.clone());
        Ok(failed)
    }
}

impl Source {
    fn open(interface: &str, options: &CaptureOptions) -> Result<Source, CaptureOpenError> {
        let failed = |error: vigie_pcap::Error| classify_open_failure(interface, &error);
        // In TPACKET_V3 the read timeout is how long the kernel holds a
        // partly filled block before handing it over.
        let block_timeout = i32::try_from(options.poll_timeout.as_millis())
            .unwrap_or(i32::MAX)
            .max(1);
        let mut setup = Inactive::create(interface).map_err(failed)?;
        setup.set_snaplen(options.snaplen).map_err(failed)?;
        setup
            .set_buffer_size(options.buffer_bytes)
            .map_err(failed)?;
        // libpcap refuses promiscuous mode on `any` (it is no device).
        let promiscuous = options.promiscuous && interface != ANY;
        setup.set_promisc(promiscuous).map_err(failed)?;
        setup.set_timeout(block_timeout).map_err(failed)?;
        // Linux libpcap always offers nanoseconds (pcap-linux.c).
        setup.set_nanosecond_precision().map_err(failed)?;
        let activated = setup.activate().map_err(failed)?;
        // A warning means a capture not set up as asked (promiscuous mode
        // refused, say): on a mirror port it would see nothing, quietly.
        if let Some(warning) = activated.warning {
            return Err(failed(vigie_pcap::Error::Pcap(warning)));
        }
        let mut capture = activated.capture;
        capture.set_nonblocking().map_err(failed)?;
        if let Some(expression) = &options.bpf {
            capture
                .set_filter(expression)
                .map_err(|error| CaptureOpenError::BadFilter {
                    interface: interface.to_owned(),
                    expression: expression.clone(),
                    reason: error.to_string(),
                })?;
        }
        let linktype = u32::try_from(capture.datalink()).unwrap_or(u32::MAX);
        Ok(Source {
            interface: interface.to_owned(),
            capture,
            linktype,
            last: [0; 3],
            totals: KernelStats::default(),
        })
    }

    fn update_stats(&mut self) -> Result<KernelStats, LiveError> {
        let stat = self.capture.stats().map_err(|error| LiveError::Stats {
            interface: self.interface.clone(),
            reason: error.to_string(),
        })?;
        let now = [stat.received, stat.dropped, stat.if_dropped];
        let [received, dropped, if_dropped] =
            std::array::from_fn(|i| u64::from(now[i].wrapping_sub(self.last[i])));
        self.last = now;
        self.totals.received += received;
        self.totals.dropped += dropped;
        self.totals.if_dropped += if_dropped;
        Ok(self.totals)
    }
}

/// Rounds up to whole milliseconds: rounding down would turn the last
/// fraction of a millisecond into a busy loop of zero-timeout polls.
fn poll_timeout(timeout: Duration) -> PollTimeout {
    let millis = timeout.as_nanos().div_ceil(1_000_000).max(1);
    PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_interface_yields_after_a_burst() {
        let mut capture = LiveCapture {
            sources: Vec::new(),
            poll_timeout: DEFAULT_POLL_TIMEOUT,
            next: 0,
            burst: 0,
            frame: Vec::new(),
        };
        for _ in 1..BURST {
            capture.advance(0, 2);
            assert_eq!(capture.next, 0);
        }
        capture.advance(0, 2);
        assert_eq!((capture.next, capture.burst), (1, 0));
        // Interface 1 was empty and 0 gave the frame: start again from 0.
        capture.advance(0, 2);
        assert_eq!((capture.next, capture.burst), (0, 1));
    }

    #[test]
    fn poll_timeouts_round_up_to_a_millisecond() {
        let millis = |d| i32::from(poll_timeout(d));
        assert_eq!(millis(Duration::from_micros(1)), 1);
        assert_eq!(millis(Duration::from_micros(1500)), 2);
        assert_eq!(millis(Duration::from_millis(200)), 200);
        assert_eq!(millis(Duration::from_secs(1 << 40)), i32::MAX);
    }
}
