//! What can go wrong when opening or reading a live capture, and the check
//! that tells a missing interface from the other failures.
//!
//! Opening errors are what an installer reads when the box does not start,
//! so they are in plain French and say what to do. libpcap only gives text
//! for its failures, so the kind of failure is read from the interface list
//! and from that text; the text itself is always kept in the message. A
//! machine without libpcap is told which Debian package to install.

use std::fs;

use thiserror::Error;

/// Why a capture could not be opened. Shown to whoever starts the sensor.
#[derive(Debug, Error)]
pub enum CaptureOpenError {
    #[error("aucune interface de capture n'est indiquée")]
    NoInterface,
    #[error("l'interface « {0} » est indiquée deux fois : chaque paquet serait compté deux fois")]
    DuplicateInterface(String),
    #[error("réglage de capture invalide : {what} = {value} ({why})")]
    BadOption {
        what: &'static str,
        value: String,
        why: &'static str,
    },
    #[error("l'interface réseau « {interface} » n'existe pas sur cette machine (voir `ip link`)")]
    NoSuchInterface { interface: String },
    #[error(
        "pas le droit de capturer sur l'interface « {interface} » : lancer le capteur en root \
         ou avec la capacité CAP_NET_RAW (AmbientCapabilities=CAP_NET_RAW dans l'unité systemd) \
         [{reason}]"
    )]
    PermissionDenied { interface: String, reason: String },
    #[error("filtre BPF invalide « {expression} » sur l'interface « {interface} » : {reason}")]
    BadFilter {
        interface: String,
        expression: String,
        reason: String,
    },
    #[error("impossible d'ouvrir la capture sur l'interface « {interface} » : {reason}")]
    Open { interface: String, reason: String },
    #[error(
        "la bibliothèque de capture libpcap est introuvable sur cette machine : installer le \
         paquet Debian libpcap0.8 (apt-get install libpcap0.8) [{reason}]"
    )]
    NoLibpcap { reason: String },
}

/// A failure while capturing; logged by the daemon, which decides whether
/// to stop (systemd then restarts the sensor).
#[derive(Debug, Error)]
pub enum LiveError {
    #[error("reading from interface {interface} failed: {reason}")]
    Read { interface: String, reason: String },
    #[error("interface {interface} reported an error condition (down or removed?)")]
    InterfaceFailed { interface: String },
    #[error("waiting for packets failed: poll: {0}")]
    Poll(nix::errno::Errno),
    #[error("reading the kernel counters of interface {interface} failed: {reason}")]
    Stats { interface: String, reason: String },
}

/// The pseudo-interface through which libpcap captures on every interface.
pub(super) const ANY: &str = "any";
/// Linux interface names are at most 15 bytes (IFNAMSIZ - 1).
const MAX_NAME_LEN: usize = 15;
/// The interfaces of the calling process's network namespace, with their
/// counters. Unlike `/sys/class/net`, it follows the namespace the process
/// is in even when sysfs was mounted for another one.
const NET_DEV: &str = "/proc/self/net/dev";

/// Whether `name` is an interface libpcap can capture on in this network
/// namespace (`any` included). Used to turn a failed open into a clear
/// "does not exist", and by the daemon to check its configuration.
pub fn interface_exists(name: &str) -> bool {
    if name == ANY {
        return true;
    }
    if !is_valid_name(name) {
        return false;
    }
    fs::read_to_string(NET_DEV).is_ok_and(|table| listed_in_net_dev(&table, name))
}

/// The kernel's rules for an interface name (net/core/dev.c, dev_valid_name).
fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name != "."
        && name != ".."
        && !name
            .bytes()
            .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace())
}

/// Whether `/proc/net/dev`'s table lists `name`: two header lines, then one
/// line per interface, `  name: counters...`.
fn listed_in_net_dev(table: &str, name: &str) -> bool {
    table
        .lines()
        .skip(2)
        .filter_map(|line| line.split_once(':'))
        .any(|(listed, _)| listed.trim() == name)
}

/// Sorts a failed activation into the error an installer can act on.
pub(super) fn classify_open_failure(
    interface: &str,
    error: &vigie_pcap::Error,
) -> CaptureOpenError {
    let reason = match error {
        vigie_pcap::Error::Unavailable { reason } => {
            return CaptureOpenError::NoLibpcap {
                reason: reason.clone(),
            };
        }
        other => other.to_string(),
    };
    if !interface_exists(interface) {
        return CaptureOpenError::NoSuchInterface {
            interface: interface.to_owned(),
        };
    }
    // libpcap 1.10 (pcap-linux.c): "You don't have permission to perform
    // this capture on that device (socket: Operation not permitted)".
    let lowered = reason.to_ascii_lowercase();
    if lowered.contains("permission") || lowered.contains("not permitted") {
        return CaptureOpenError::PermissionDenied {
            interface: interface.to_owned(),
            reason,
        };
    }
    CaptureOpenError::Open {
        interface: interface.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NET_DEV_SAMPLE: &str = "\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  123456     789    0    0    0     0          0         0   123456     789    0    0    0     0       0          0
  eth0: 9876543   21098    0    3    0     0          0        12  1234567    8765    0    0    0     0       0          0
veth-long-name1:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
";

    #[test]
    fn net_dev_table_lists_interfaces() {
        for (name, listed) in [
            ("lo", true),
            ("eth0", true),
            ("veth-long-name1", true),
            ("eth1", false),
            ("Inter-", false),
            ("face", false),
            ("", false),
        ] {
            assert_eq!(listed_in_net_dev(NET_DEV_SAMPLE, name), listed, "{name:?}");
        }
    }

    #[test]
    fn invalid_names_never_exist() {
        for name in ["", ".", "..", "../etc", "eth0:1", "a b", "sixteen-chars-xx"] {
            assert!(!is_valid_name(name), "{name:?}");
            assert!(!interface_exists(name), "{name:?}");
        }
        assert!(is_valid_name("fifteen-chars-x"));
        assert!(interface_exists(ANY));
    }

    #[test]
    fn loopback_exists_and_made_up_names_do_not() {
        assert!(interface_exists("lo"));
        assert!(!interface_exists("vigie-none0"));
    }

    #[test]
    fn open_failures_are_sorted() {
        let denied = vigie_pcap::Error::Pcap(
            "You don't have permission to perform this capture on that device \
             (socket: Operation not permitted)"
                .into(),
        );
        let missing = vigie_pcap::Error::Pcap("No such device exists".into());
        let other = vigie_pcap::Error::Pcap("Message too long".into());
        assert!(matches!(
            classify_open_failure("lo", &denied),
            CaptureOpenError::PermissionDenied { .. }
        ));
        assert!(matches!(
            classify_open_failure("vigie-none0", &missing),
            CaptureOpenError::NoSuchInterface { .. }
        ));
        let error = classify_open_failure("lo", &other);
        assert!(matches!(error, CaptureOpenError::Open { .. }));
        assert_eq!(
            error.to_string(),
            "impossible d'ouvrir la capture sur l'interface « lo » : Message too long"
        );
    }

    #[test]
    fn a_missing_libpcap_names_the_package_to_install() {
        let reason = "libpcap.so.0.8: cannot open shared object file: No such file or directory";
        let missing = vigie_pcap::Error::Unavailable {
            reason: reason.to_owned(),
        };
        // Before the interface check: the interface may well exist.
        let error = classify_open_failure("vigie-none0", &missing);
        assert!(matches!(error, CaptureOpenError::NoLibpcap { .. }));
        let message = error.to_string();
        assert!(message.contains("libpcap est introuvable"), "{message}");
        assert!(message.contains("apt-get install libpcap0.8"), "{message}");
        assert!(message.contains(reason), "{message}");
    }
}
