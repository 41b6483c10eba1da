//! libpcap, loaded at run time, for the live sensor's capture.
//!
//! Linking libpcap would make every build of Vigie need its development
//! package and every run its library, though only the live box captures.
//! This crate instead opens the system's libpcap (`dlopen`) the first time
//! a capture is created and wraps the few functions the live capture uses
//! in a safe API: a handle closed on drop, packets borrowed until the next
//! read, errors as values. Without libpcap, creating a capture returns
//! [`Error::Unavailable`] and nothing else is affected.
//!
//! It is the workspace's only unsafe code (the other crates forbid it):
//! calling C through pointers loaded at run time cannot be checked by the
//! compiler. Every unsafe block says why it holds; nothing here interprets
//! packets or decides what a failure means (the sensor does).

mod library;

use std::ffi::{CStr, CString, c_char, c_int};
use std::os::fd::{AsFd, BorrowedFd, RawFd};
use std::ptr::{self, NonNull};

use library::{
    BpfProgram, ERRBUF_SIZE, Libpcap, NETMASK_UNKNOWN, PCAP_ERROR, PCAP_WARNING, PktHdr, RawPcap,
    Stat, TSTAMP_PRECISION_NANO, libpcap,
};

const NANOS_PER_SEC: i64 = 1_000_000_000;
const NANOS_PER_MICRO: i64 = 1_000;

/// What went wrong, with libpcap's own words where it gave some.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// libpcap could not be loaded: none of the names tried was found, or
    /// the one found lacks a function. `reason` is the dynamic loader's.
    #[error("libpcap could not be loaded: {reason}")]
    Unavailable {
        /// Each name tried and why it failed.
        reason: String,
    },
    /// A libpcap call failed; its message.
    #[error("{0}")]
    Pcap(String),
    /// A string for libpcap has a NUL byte in it, which C cannot pass.
    #[error("the {0} contains a NUL byte")]
    Nul(&'static str),
}

/// A capture being set up: `pcap_create` done, not activated yet.
pub struct Inactive {
    handle: Handle,
    nanos: bool,
}

/// Whether activation went as asked. libpcap activates some captures
/// with a warning: it works, but not quite as set up (e.g. promiscuous
/// mode refused).
pub struct Activated {
    /// The capture, ready to read.
    pub capture: Capture,
    /// libpcap's warning, if it gave one.
    pub warning: Option<String>,
}

/// An activated capture.
pub struct Capture {
    handle: Handle,
    /// From `pcap_get_selectable_fd`, owned by libpcap: open until
    /// `pcap_close`.
    fd: RawFd,
    /// Whether timestamps are in nanoseconds rather than microseconds.
    nanos: bool,
}

/// One packet, borrowed from libpcap's buffer (the kernel ring) until the
/// next call on its capture.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// Nanoseconds since the Unix epoch, as stamped by the kernel.
    pub ts_nanos: i64,
    /// The packet's length on the wire.
    pub len: u32,
    /// The captured bytes, at most the snaplen.
    pub data: &'a [u8],
}

/// libpcap's counters since the capture was activated (32-bit: they wrap).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets that passed the filter.
    pub received: u32,
    /// Packets dropped because the buffer was full.
    pub dropped: u32,
    /// Packets the interface or its driver dropped.
    pub if_dropped: u32,
}

impl Inactive {
    /// Creates a capture on `device` (an interface name, or `any`); loads
    /// libpcap on first use. Needs no privilege: activation does.
    pub fn create(device: &str) -> Result<Inactive, Error> {
        let lib = libpcap()?;
        let device = CString::new(device).map_err(|_| Error::Nul("device name"))?;
        let mut errbuf = [0 as c_char; ERRBUF_SIZE];
        // SAFETY: `device` is a NUL-terminated string and `errbuf` has the
        // PCAP_ERRBUF_SIZE bytes pcap_create may write; both outlive the call.
        let raw = unsafe { (lib.create)(device.as_ptr(), errbuf.as_mut_ptr()) };
        match NonNull::new(raw) {
            Some(raw) => Ok(Inactive {
                handle: Handle { raw, lib },
                nanos: false,
            }),
            None => Err(Error::Pcap(message_in(&errbuf))),
        }
    }

    /// The most bytes kept of each packet.
    pub fn set_snaplen(&mut self, bytes: i32) -> Result<(), Error> {
        self.handle.set(self.handle.lib.set_snaplen, bytes)
    }

    /// The size of the kernel's buffer (the ring), in bytes.
    pub fn set_buffer_size(&mut self, bytes: i32) -> Result<(), Error> {
        self.handle.set(self.handle.lib.set_buffer_size, bytes)
    }

    /// Whether to see frames not addressed to this machine (a mirror port).
    pub fn set_promisc(&mut self, on: bool) -> Result<(), Error> {
        self.handle
            .set(self.handle.lib.set_promisc, c_int::from(on))
    }

    /// The read timeout; with TPACKET_V3, how long the kernel holds a
    /// partly filled block.
    pub fn set_timeout(&mut self, millis: i32) -> Result<(), Error> {
        self.handle.set(self.handle.lib.set_timeout, millis)
    }

    /// Asks for timestamps in nanoseconds (Linux always offers them).
    pub fn set_nanosecond_precision(&mut self) -> Result<(), Error> {
        let set = self.handle.lib.set_tstamp_precision;
        self.handle.set(set, TSTAMP_PRECISION_NANO)?;
        self.nanos = true;
        Ok(())
    }

    /// Starts capturing (needs root or CAP_NET_RAW). A failure closes the
    /// handle.
    pub fn activate(self) -> Result<Activated, Error> {
        let Inactive { handle, nanos } = self;
        // SAFETY: the handle is open (closed only on drop) and not activated
        // yet: this consumes the only `Inactive` holding it.
        let status = unsafe { (handle.lib.activate)(handle.raw.as_ptr()) };
        if status < 0 {
            return Err(Error::Pcap(handle.status_message(status)));
        }
        let warning = (status > 0).then(|| handle.status_message(status));
        // SAFETY: the handle is open and activated.
        let fd = unsafe { (handle.lib.get_selectable_fd)(handle.raw.as_ptr()) };
        if fd < 0 {
            return Err(Error::Pcap(
                "no descriptor to poll on this capture".to_owned(),
            ));
        }
        Ok(Activated {
            capture: Capture { handle, fd, nanos },
            warning,
        })
    }
}

impl Capture {
    /// Makes reads return at once when no packet is ready.
    pub fn set_nonblocking(&mut self) -> Result<(), Error> {
        let mut errbuf = [0 as c_char; ERRBUF_SIZE];
        // SAFETY: the handle is open and `errbuf` has the PCAP_ERRBUF_SIZE
        // bytes pcap_setnonblock may write.
        let status = unsafe {
            (self.handle.lib.setnonblock)(self.handle.raw.as_ptr(), 1, errbuf.as_mut_ptr())
        };
        if status < 0 {
            return Err(Error::Pcap(message_in(&errbuf)));
        }
        Ok(())
    }

    /// Compiles `expression` (tcpdump syntax, optimised) and runs it in the
    /// kernel on this capture.
    pub fn set_filter(&mut self, expression: &str) -> Result<(), Error> {
        let expression = CString::new(expression).map_err(|_| Error::Nul("filter"))?;
        let lib = self.handle.lib;
        let raw = self.handle.raw.as_ptr();
        let mut program = BpfProgram {
            bf_len: 0,
            bf_insns: ptr::null_mut(),
        };
        // SAFETY: the handle is open; `program` is a valid place for the
        // result and `expression` a NUL-terminated string, both outliving
        // the call.
        let status =
            unsafe { (lib.compile)(raw, &mut program, expression.as_ptr(), 1, NETMASK_UNKNOWN) };
        if status < 0 {
            return Err(Error::Pcap(self.handle.last_error()));
        }
        // SAFETY: `program` was filled by a successful pcap_compile; the
        // kernel (or libpcap) takes a copy of it.
        let status = unsafe { (lib.setfilter)(raw, &mut program) };
        let result = if status < 0 {
            Err(Error::Pcap(self.handle.last_error()))
        } else {
            Ok(())
        };
        // SAFETY: `program` was filled by pcap_compile and is freed once,
        // here; pcap_setfilter no longer needs it (pcap_freecode(3PCAP)).
        unsafe { (lib.freecode)(&mut program) };
        result
    }

    /// The link type (DLT_*; 1 for Ethernet).
    pub fn datalink(&self) -> i32 {
        // SAFETY: the handle is open and activated.
        unsafe { (self.handle.lib.datalink)(self.handle.raw.as_ptr()) }
    }

    /// The next packet, or `None` when none is ready (a non-blocking
    /// capture) or the read timeout passed. The packet borrows the capture:
    /// libpcap reuses its buffer on the next call.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, Error> {
        let mut header: *mut PktHdr = ptr::null_mut();
        let mut data: *const u8 = ptr::null();
        // SAFETY: the handle is open and activated; `header` and `data` are
        // valid places for the two pointers pcap_next_ex sets.
        let status =
            unsafe { (self.handle.lib.next_ex)(self.handle.raw.as_ptr(), &mut header, &mut data) };
        if status == 0 {
            return Ok(None);
        }
        if status < 0 {
            return Err(Error::Pcap(self.handle.status_message(status)));
        }
        if header.is_null() || data.is_null() {
            return Err(Error::Pcap("pcap_next_ex gave no packet".to_owned()));
        }
        // SAFETY: on success pcap_next_ex points `header` at a pcap_pkthdr
        // and `data` at its `caplen` bytes, both in libpcap's buffer and
        // valid until the next call on this handle. The returned packet
        // borrows `self` mutably, so no such call can happen while it lives.
        let (header, data) = unsafe {
            let header = &*header;
            let length = usize::try_from(header.caplen).unwrap_or(0);
            (header, std::slice::from_raw_parts(data, length))
        };
        Ok(Some(Packet {
            ts_nanos: self.timestamp_nanos(header),
            len: header.len,
            data,
        }))
    }

    /// libpcap's counters since activation.
    pub fn stats(&mut self) -> Result<Stats, Error> {
        let mut stat = Stat::default();
        // SAFETY: the handle is open and activated; `stat` is a pcap_stat as
        // laid out on Linux, where pcap_stats fills its three fields.
        let status = unsafe { (self.handle.lib.stats)(self.handle.raw.as_ptr(), &mut stat) };
        if status < 0 {
            return Err(Error::Pcap(self.handle.last_error()));
        }
        Ok(Stats {
            received: stat.ps_recv,
            dropped: stat.ps_drop,
            if_dropped: stat.ps_ifdrop,
        })
    }

    #[allow(clippy::useless_conversion)] // time_t is i32 on some 32-bit targets
    fn timestamp_nanos(&self, header: &PktHdr) -> i64 {
        let seconds = i64::from(header.ts.tv_sec);
        let fraction = i64::from(header.ts.tv_usec);
        let fraction = if self.nanos {
            fraction
        } else {
            fraction.saturating_mul(NANOS_PER_MICRO)
        };
        seconds
            .saturating_mul(NANOS_PER_SEC)
            .saturating_add(fraction)
    }
}

impl AsFd for Capture {
    /// The descriptor to poll(2) for packets.
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the descriptor belongs to the pcap handle, which keeps it
        // open until pcap_close in `Handle::drop`; the borrow cannot
        // outlive `self`, hence the handle.
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }
}

/// An open `pcap_t`, closed on drop.
struct Handle {
    raw: NonNull<RawPcap>,
    lib: &'static Libpcap,
}

// SAFETY: a pcap_t has no tie to the thread that made it (libpcap keeps
// no thread-local state for it); it must only not be used from two threads
// at once, which `Handle` not being `Sync` and every call going through
// `&mut self` or a single owner ensure. The live sensor opens its capture
// before dropping privileges and may read it from another thread.
unsafe impl Send for Handle {}

impl Handle {
    /// Calls one of the `pcap_set_*` functions, which return 0 or a status.
    fn set(
        &self,
        function: unsafe extern "C" fn(*mut RawPcap, c_int) -> c_int,
        value: c_int,
    ) -> Result<(), Error> {
        // SAFETY: the handle is open and not activated (only `Inactive`
        // calls this); `function` is one of the pcap_set_* functions, which
        // take the handle and an int.
        let status = unsafe { function(self.raw.as_ptr(), value) };
        if status != 0 {
            return Err(Error::Pcap(self.status_message(status)));
        }
        Ok(())
    }

    /// The text for a status: `pcap_geterr`'s message for PCAP_ERROR and
    /// PCAP_WARNING, which always set one. For the specific codes libpcap
    /// may set a more detailed message there (with the errno, e.g.
    /// "socket: Operation not permitted"): kept when present, else
    /// `pcap_statustostr`.
    fn status_message(&self, status: c_int) -> String {
        let detail = self.last_error();
        if status == PCAP_ERROR || status == PCAP_WARNING || !detail.is_empty() {
            return detail;
        }
        // SAFETY: pcap_statustostr takes any int and returns a pointer to a
        // static (or, for unknown codes, per-thread) NUL-terminated string.
        let text = unsafe { (self.lib.statustostr)(status) };
        if text.is_null() {
            return format!("libpcap status {status}");
        }
        // SAFETY: not null, NUL-terminated, valid until the next call on
        // this thread; copied out at once.
        unsafe { CStr::from_ptr(text) }
            .to_string_lossy()
            .into_owned()
    }

    /// `pcap_geterr`: the last error (or warning) message on this handle.
    fn last_error(&self) -> String {
        // SAFETY: the handle is open; pcap_geterr returns its error buffer.
        let text = unsafe { (self.lib.geterr)(self.raw.as_ptr()) };
        if text.is_null() {
            return String::new();
        }
        // SAFETY: the handle's buffer is NUL-terminated and lives as long
        // as the handle; copied out at once.
        unsafe { CStr::from_ptr(text) }
            .to_string_lossy()
            .into_owned()
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: `raw` came from pcap_create and this is the only place
        // that closes it, once, when its only owner goes.
        unsafe { (self.lib.close)(self.raw.as_ptr()) }
    }
}

/// The message libpcap wrote into an error buffer.
fn message_in(errbuf: &[c_char; ERRBUF_SIZE]) -> String {
    let bytes: Vec<u8> = errbuf
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c.to_ne_bytes()[0])
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn captures_can_move_to_another_thread() {
        assert_send::<Inactive>();
        assert_send::<Capture>();
    }

    #[test]
    fn error_buffers_stop_at_the_nul() {
        let mut errbuf = [0 as c_char; ERRBUF_SIZE];
        for (slot, byte) in errbuf.iter_mut().zip(b"No such device exists\0junk") {
            *slot = c_char::from_ne_bytes([*byte]);
        }
        assert_eq!(message_in(&errbuf), "No such device exists");
        assert_eq!(message_in(&[0; ERRBUF_SIZE]), "");
    }

    /// Creating and setting up a capture needs libpcap but no privilege;
    /// without libpcap the error says so.
    #[test]
    fn a_capture_is_set_up_or_libpcap_is_missing() {
        let mut capture = match Inactive::create("lo") {
            Ok(capture) => capture,
            Err(Error::Unavailable { reason }) => {
                println!("libpcap is not installed: {reason}");
                return;
            }
            Err(error) => panic!("pcap_create failed: {error}"),
        };
        assert_eq!(capture.set_snaplen(65_535), Ok(()));
        assert_eq!(capture.set_buffer_size(1 << 20), Ok(()));
        assert_eq!(capture.set_promisc(false), Ok(()));
        assert_eq!(capture.set_timeout(200), Ok(()));
        assert_eq!(capture.set_nanosecond_precision(), Ok(()));
        assert!(capture.nanos);
        assert_eq!(
            Inactive::create("l\0o").err(),
            Some(Error::Nul("device name"))
        );
    }
}
