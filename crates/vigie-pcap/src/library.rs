//! Finding libpcap at run time and binding the functions the capture uses.
//!
//! The library is opened once, the first time a capture is created, and
//! kept for the life of the process: the function pointers copied out of
//! it stay valid because it is never closed.

use std::ffi::{c_char, c_int, c_long, c_uint, c_void};
use std::sync::OnceLock;

use libloading::Library;

use crate::Error;

/// The names tried, in order: Debian's runtime package `libpcap0.8` ships
/// `libpcap.so.0.8` (a link to the current `.so.1.x`), other distributions
/// `libpcap.so.1`; `libpcap.so` is the development link, last resort.
pub(crate) const CANDIDATES: [&str; 3] = ["libpcap.so.0.8", "libpcap.so.1", "libpcap.so"];

/// pcap.h: the size of the buffer `pcap_create` and `pcap_setnonblock`
/// write their error message into.
pub(crate) const ERRBUF_SIZE: usize = 256;
/// pcap.h: the generic failure, whose message `pcap_geterr` holds.
pub(crate) const PCAP_ERROR: c_int = -1;
/// pcap.h: the generic warning, whose message `pcap_geterr` holds.
pub(crate) const PCAP_WARNING: c_int = 1;
/// pcap.h: `PCAP_TSTAMP_PRECISION_NANO`.
pub(crate) const TSTAMP_PRECISION_NANO: c_int = 1;
/// pcap.h: `PCAP_NETMASK_UNKNOWN`, for `pcap_compile` when the interface's
/// netmask is not known (only `ip broadcast` needs it).
pub(crate) const NETMASK_UNKNOWN: u32 = 0xffff_ffff;

/// libpcap's `pcap_t`, only ever handled through a pointer.
#[repr(C)]
pub(crate) struct RawPcap {
    _opaque: [u8; 0],
}

/// `struct timeval` on Linux: `time_t` and `suseconds_t` are `long`. (The
/// 64-bit `time_t` of Debian's 32-bit armhf port since trixie is not
/// handled, as in the `pcap` crate this replaces.)
#[repr(C)]
pub(crate) struct TimeVal {
    pub tv_sec: c_long,
    pub tv_usec: c_long,
}

/// `struct pcap_pkthdr`.
#[repr(C)]
pub(crate) struct PktHdr {
    pub ts: TimeVal,
    pub caplen: u32,
    pub len: u32,
}

/// `struct pcap_stat` as on Linux (no Windows-only fields).
#[repr(C)]
#[derive(Default)]
pub(crate) struct Stat {
    pub ps_recv: c_uint,
    pub ps_drop: c_uint,
    pub ps_ifdrop: c_uint,
}

/// `struct bpf_program`: filled by `pcap_compile`, freed by `pcap_freecode`.
#[repr(C)]
pub(crate) struct BpfProgram {
    pub bf_len: c_uint,
    pub bf_insns: *mut c_void,
}

type SetInt = unsafe extern "C" fn(*mut RawPcap, c_int) -> c_int;

/// The functions used, with their prototypes from pcap.h.
pub(crate) struct Libpcap {
    pub create: unsafe extern "C" fn(*const c_char, *mut c_char) -> *mut RawPcap,
    pub set_snaplen: SetInt,
    pub set_buffer_size: SetInt,
    pub set_promisc: SetInt,
    pub set_timeout: SetInt,
    pub set_tstamp_precision: SetInt,
    pub activate: unsafe extern "C" fn(*mut RawPcap) -> c_int,
    pub setnonblock: unsafe extern "C" fn(*mut RawPcap, c_int, *mut c_char) -> c_int,
    pub compile:
        unsafe extern "C" fn(*mut RawPcap, *mut BpfProgram, *const c_char, c_int, u32) -> c_int,
    pub setfilter: unsafe extern "C" fn(*mut RawPcap, *mut BpfProgram) -> c_int,
    pub freecode: unsafe extern "C" fn(*mut BpfProgram),
    pub datalink: unsafe extern "C" fn(*mut RawPcap) -> c_int,
    pub next_ex: unsafe extern "C" fn(*mut RawPcap, *mut *mut PktHdr, *mut *const u8) -> c_int,
    pub stats: unsafe extern "C" fn(*mut RawPcap, *mut Stat) -> c_int,
    pub get_selectable_fd: unsafe extern "C" fn(*mut RawPcap) -> c_int,
    pub geterr: unsafe extern "C" fn(*mut RawPcap) -> *mut c_char,
    pub statustostr: unsafe extern "C" fn(c_int) -> *const c_char,
    pub close: unsafe extern "C" fn(*mut RawPcap),
    /// Never closed: the pointers above point into it.
    _library: Library,
}

/// libpcap, loaded on first use. A failure is kept too: a library missing
/// at the first try is missing for good (the process would need a restart
/// to see a newly installed one anyway, as with a linked library).
pub(crate) fn libpcap() -> Result<&'static Libpcap, Error> {
    static LIBPCAP: OnceLock<Result<Libpcap, Error>> = OnceLock::new();
    LIBPCAP
        .get_or_init(|| load(&CANDIDATES))
        .as_ref()
        .map_err(Clone::clone)
}

/// Opens the first of `names` that loads and binds its functions. The
/// error lists every name's failure, as the dynamic loader worded it.
fn load(names: &[&str]) -> Result<Libpcap, Error> {
    let mut failures = Vec::new();
    for name in names {
        // SAFETY: loading a library runs its initialisers. libpcap's only
        // set up its own state; it is the system's libpcap, chosen by
        // name from the loader's usual paths like any linked library.
        match unsafe { Library::new(name) } {
            Ok(library) => {
                return bind(library).map_err(|error| Error::Unavailable {
                    reason: format!("{name}: {error}"),
                });
            }
            Err(error) => failures.push(error.to_string()),
        }
    }
    Err(Error::Unavailable {
        reason: failures.join("; "),
    })
}

fn bind(library: Library) -> Result<Libpcap, libloading::Error> {
    // SAFETY: each type is the prototype pcap.h gives the symbol named
    // beside it (pcap(3PCAP)), so calling through the pointer is calling
    // the function as declared. The pointers are copied out of their
    // `Symbol`s but stay valid: the library is moved into the returned
    // value, which lives in a static and is never dropped.
    unsafe {
        Ok(Libpcap {
            create: *library.get(b"pcap_create\0")?,
            set_snaplen: *library.get(b"pcap_set_snaplen\0")?,
            set_buffer_size: *library.get(b"pcap_set_buffer_size\0")?,
            set_promisc: *library.get(b"pcap_set_promisc\0")?,
            set_timeout: *library.get(b"pcap_set_timeout\0")?,
            set_tstamp_precision: *library.get(b"pcap_set_tstamp_precision\0")?,
            activate: *library.get(b"pcap_activate\0")?,
            setnonblock: *library.get(b"pcap_setnonblock\0")?,
            compile: *library.get(b"pcap_compile\0")?,
            setfilter: *library.get(b"pcap_setfilter\0")?,
            freecode: *library.get(b"pcap_freecode\0")?,
            datalink: *library.get(b"pcap_datalink\0")?,
            next_ex: *library.get(b"pcap_next_ex\0")?,
            stats: *library.get(b"pcap_stats\0")?,
            get_selectable_fd: *library.get(b"pcap_get_selectable_fd\0")?,
            geterr: *library.get(b"pcap_geterr\0")?,
            statustostr: *library.get(b"pcap_statustostr\0")?,
            close: *library.get(b"pcap_close\0")?,
            _library: library,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_library_says_what_was_tried() {
        let names = ["libvigie-none.so.0", "libvigie-none.so"];
        let Err(Error::Unavailable { reason }) = load(&names) else {
            panic!("a library that does not exist was loaded");
        };
        for name in names {
            assert!(reason.contains(name), "{reason}");
        }
        // glibc's words; the sensor shows them after its own.
        assert!(reason.contains("No such file"), "{reason}");
    }
}
