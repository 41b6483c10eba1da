//! Live capture on real interfaces: the loopback, and a veth pair between
//! two network namespaces the test creates and removes. Dropping privileges
//! is process-wide and cannot be undone, so those tests re-run this test
//! binary as a child process that does the drop; the parent checks its exit
//! status and output. Everything here needs root and says so when skipping.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use caps::{CapSet, Capability};
use nix::unistd::{Uid, User};
use vigie_sensor::engine::{Engine, Settings};
use vigie_sensor::live::capture::{
    CaptureOpenError, CaptureOptions, LiveCapture, LiveFrame, interface_exists,
};
use vigie_sensor::live::privilege::drop_privileges;

/// Selects which child role a re-run of this binary plays.
const CHILD_ENV: &str = "VIGIE_LIVE_CAPTURE_CHILD";
/// What a child prints once all its checks passed.
const CHILD_OK: &str = "live-capture child: all checks passed";
/// Generous: a loaded CI machine may be slow, the tests never wait this long
/// when they pass.
const DEADLINE: Duration = Duration::from_secs(30);
const LINKTYPE_ETHERNET: u32 = 1;

fn root_or_skip(test: &str) -> bool {
    let root = nix::unistd::geteuid().is_root();
    if !root {
        println!("{test}: skipped, live capture needs root (CI runs as root)");
    }
    root
}

/// True when this process is the child playing `role`; otherwise the test
/// is a no-op (it only makes sense inside its parent test).
fn child_role(role: &str) -> bool {
    let chosen = std::env::var(CHILD_ENV).is_ok_and(|value| value == role);
    if !chosen {
        println!("{role}: runs only as a child process of another test");
    }
    chosen
}

/// Re-runs this test binary on one test, as `role`, optionally through a
/// wrapper command (`ip netns exec NAME`).
fn run_child(test: &str, role: &str, wrapper: &[&str]) -> Output {
    let exe = std::env::current_exe().unwrap();
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(&exe);
            command
        }
        None => Command::new(&exe),
    };
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, role);
    command.output().unwrap()
}

fn assert_child_passed(output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains(CHILD_OK),
        "child failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
}

/// A receiving socket on a free port of `ip`, so the kernel answers no
/// ICMP error, and a socket to send to it from.
struct Udp {
    receiver: UdpSocket,
    sender: UdpSocket,
}

impl Udp {
    fn on(ip: Ipv4Addr) -> Udp {
        Udp {
            receiver: UdpSocket::bind((ip, 0)).unwrap(),
            sender: UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap(),
        }
    }

    fn port(&self) -> u16 {
        self.receiver.local_addr().unwrap().port()
    }

    fn filter(&self) -> String {
        format!("udp and dst port {}", self.port())
    }

    /// Sends `count` datagrams to `to` (the receiver's port), numbered.
    fn send(&self, to: Ipv4Addr, count: usize) {
        let target = SocketAddr::new(IpAddr::V4(to), self.port());
        for i in 0..count {
            let payload = format!("vigie-live-{i:04}");
            self.sender.send_to(payload.as_bytes(), target).unwrap();
        }
    }
}

/// A captured frame, owned.
struct Captured {
    ts_nanos: i64,
    linktype: u32,
    data: Vec<u8>,
    orig_len: u32,
}

impl Captured {
    fn of(frame: &LiveFrame<'_>) -> Captured {
        Captured {
            ts_nanos: frame.ts_nanos,
            linktype: frame.linktype,
            data: frame.data.to_vec(),
            orig_len: frame.orig_len,
        }
    }

    /// The IPv4 destination of an Ethernet frame.
    fn destination(&self) -> Ipv4Addr {
        assert_eq!(self.linktype, LINKTYPE_ETHERNET);
        assert_eq!(self.data[12..14], [0x08, 0x00], "not IPv4");
        let dst: [u8; 4] = self.data[30..34].try_into().unwrap();
        Ipv4Addr::from(dst)
    }

    /// The UDP payload of an Ethernet + IPv4 (no options) frame.
    fn payload(&self) -> &[u8] {
        &self.data[14 + 20 + 8..]
    }
}

/// Reads until `want` frames came, then until the capture has stayed quiet
/// for two poll timeouts, so that any extra frame would be seen too.
fn collect(capture: &mut LiveCapture, want: usize) -> Vec<Captured> {
    let start = Instant::now();
    let mut frames = Vec::new();
    let mut quiet = 0;
    while quiet < 2 && start.elapsed() < DEADLINE {
        match capture.next_frame().unwrap() {
            Some(frame) => frames.push(Captured::of(&frame)),
            None if frames.len() >= want => quiet += 1,
            None => {}
        }
    }
    frames
}

fn now_nanos() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since.as_nanos()).unwrap()
}

fn loopback(filter: String) -> CaptureOptions {
    CaptureOptions {
        bpf: Some(filter),
        ..CaptureOptions::on(["lo"])
    }
}

#[test]
fn loopback_delivers_every_datagram_to_the_engine() {
    if !root_or_skip("loopback_delivers_every_datagram_to_the_engine") {
        return;
    }
    const N: usize = 200;
    let udp = Udp::on(Ipv4Addr::LOCALHOST);
    let mut capture = LiveCapture::open(&loopback(udp.filter())).unwrap();
    assert_eq!(capture.interfaces().collect::<Vec<_>>(), ["lo"]);
    let before = now_nanos();
    udp.send(Ipv4Addr::LOCALHOST, N);
    let frames = collect(&mut capture, N);
    let after = now_nanos();

    assert_eq!(frames.len(), N, "exactly one frame per datagram");
    let mut engine = Engine::new(Settings::default());
    for (i, frame) in frames.iter().enumerate() {
        assert_eq!(frame.payload(), format!("vigie-live-{i:04}").as_bytes());
        assert_eq!(frame.orig_len as usize, frame.data.len());
        assert!(
            (before..=after).contains(&frame.ts_nanos),
            "timestamp {} outside [{before}, {after}]",
            frame.ts_nanos
        );
        engine.process(frame.ts_nanos, frame.linktype, &frame.data, frame.orig_len);
    }
    // Microsecond stamps would all be whole thousands of nanoseconds.
    assert!(frames.iter().any(|frame| frame.ts_nanos % 1000 != 0));
    let stats = engine.stats();
    assert_eq!(stats.packets, N as u64);
    assert_eq!(
        (stats.malformed, stats.not_ip, stats.unsupported_link),
        (0, 0, 0)
    );

    let kernel = capture.stats().unwrap();
    // The loopback shows the kernel each datagram twice, sent and received.
    assert!(kernel.received >= N as u64, "{kernel:?}");
    assert_eq!(kernel.dropped, 0, "{kernel:?}");
    // Cumulative: a second reading never goes down.
    let again = capture.stats().unwrap();
    assert!(again.received >= kernel.received);
}

#[test]
fn a_bad_filter_is_quoted_in_the_error() {
    if !root_or_skip("a_bad_filter_is_quoted_in_the_error") {
        return;
    }
    let error = LiveCapture::open(&loopback("udp port and".to_owned()))
        .err()
        .unwrap();
    match &error {
        CaptureOpenError::BadFilter {
            interface,
            expression,
            reason,
        } => {
            assert_eq!(
                (interface.as_str(), expression.as_str()),
                ("lo", "udp port and")
            );
            assert!(reason.contains("syntax error"), "{reason}");
        }
        other => panic!("expected BadFilter, got {other:?}"),
    }
    assert!(error.to_string().contains("« udp port and »"), "{error}");
}

#[test]
fn a_missing_interface_is_named() {
    // The interface check comes before the permission check: no root needed.
    assert!(interface_exists("lo"));
    assert!(!interface_exists("vigie-none0"));
    let error = LiveCapture::open(&CaptureOptions::on(["vigie-none0", "lo"]))
        .err()
        .unwrap();
    assert!(
        matches!(&error, CaptureOpenError::NoSuchInterface { interface } if interface == "vigie-none0"),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("« vigie-none0 » n'existe pas"),
        "{error}"
    );
}

/// Two namespaces joined by a veth pair, removed on drop: `lan` (10.66.201.1,
/// `vcap0`) where the capture runs, `peer` ([`PEER_IP`], `vcap1`).
struct VethPair {
    lan: String,
    peer: String,
}

const PEER_IP: Ipv4Addr = Ipv4Addr::new(10, 66, 201, 2);

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().unwrap();
    assert!(status.success(), "ip {}", args.join(" "));
}

impl VethPair {
    fn create() -> VethPair {
        let pid = std::process::id();
        let pair = VethPair {
            lan: format!("vigie-cap-lan-{pid}"),
            peer: format!("vigie-cap-peer-{pid}"),
        };
        let (lan, peer) = (pair.lan.as_str(), pair.peer.as_str());
        ip(&["netns", "add", lan]);
        ip(&["netns", "add", peer]);
        ip(&[
            "-n", lan, "link", "add", "vcap0", "type", "veth", "peer", "name", "vcap1", "netns",
            peer,
        ]);
        ip(&["-n", lan, "addr", "add", "10.66.201.1/24", "dev", "vcap0"]);
        ip(&["-n", peer, "addr", "add", "10.66.201.2/24", "dev", "vcap1"]);
        for (ns, dev) in [(lan, "lo"), (lan, "vcap0"), (peer, "lo"), (peer, "vcap1")] {
            ip(&["-n", ns, "link", "set", dev, "up"]);
        }
        pair.wait_until_reachable();
        pair
    }

    /// The link takes a moment to come up; the datagrams must not wait on it.
    fn wait_until_reachable(&self) {
        let start = Instant::now();
        while start.elapsed() < DEADLINE {
            let ping = Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &self.lan,
                    "ping",
                    "-c1",
                    "-W1",
                    "10.66.201.2",
                ])
                .output()
                .unwrap();
            if ping.status.success() {
                return;
            }
        }
        panic!("10.66.201.2 never answered from {}", self.lan);
    }
}

impl Drop for VethPair {
    fn drop(&mut self) {
        // Deleting a namespace deletes the veth end inside it, and its peer.
        for ns in [&self.lan, &self.peer] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

#[test]
fn two_interfaces_deliver_frames_from_both() {
    if !root_or_skip("two_interfaces_deliver_frames_from_both") {
        return;
    }
    let pair = VethPair::create();
    let output = run_child(
        "child_captures_lo_and_veth",
        "two-interfaces",
        &["ip", "netns", "exec", &pair.lan],
    );
    assert_child_passed(&output);
}

#[test]
fn child_captures_lo_and_veth() {
    if !child_role("two-interfaces") {
        return;
    }
    const M: usize = 50;
    let udp = Udp::on(Ipv4Addr::UNSPECIFIED);
    let options = CaptureOptions {
        bpf: Some(udp.filter()),
        ..CaptureOptions::on(["lo", "vcap0"])
    };
    let mut capture = LiveCapture::open(&options).unwrap();
    udp.send(Ipv4Addr::LOCALHOST, M);
    udp.send(PEER_IP, M);
    let frames = collect(&mut capture, 2 * M);
    let to = |ip| frames.iter().filter(|f| f.destination() == ip).count();
    assert_eq!((to(Ipv4Addr::LOCALHOST), to(PEER_IP)), (M, M));
    assert_eq!(frames.len(), 2 * M);
    assert!(capture.stats().unwrap().received >= 2 * M as u64);
    println!("{CHILD_OK}");
}

#[test]
fn dropping_to_nobody_keeps_the_open_capture() {
    if !root_or_skip("dropping_to_nobody_keeps_the_open_capture") {
        return;
    }
    assert_child_passed(&run_child("child_drops_everything", "drop-all", &[]));
}

/// Opens a capture on lo as root, drops to `nobody` keeping nothing, and
/// checks that root is gone for good while the open capture still works.
#[test]
fn child_drops_everything() {
    if !child_role("drop-all") {
        return;
    }
    const N: usize = 20;
    let nobody = User::from_name("nobody").unwrap().unwrap();
    let udp = Udp::on(Ipv4Addr::LOCALHOST);
    let mut capture = LiveCapture::open(&loopback(udp.filter())).unwrap();

    drop_privileges("nobody", &[]).unwrap();

    assert_eq!(
        (nix::unistd::getuid(), nix::unistd::geteuid()),
        (nobody.uid, nobody.uid)
    );
    assert!(nix::unistd::setuid(Uid::from_raw(0)).is_err());
    for set in [
        CapSet::Effective,
        CapSet::Permitted,
        CapSet::Inheritable,
        CapSet::Ambient,
    ] {
        assert!(caps::read(None, set).unwrap().is_empty(), "{set:?}");
    }
    let reopen = LiveCapture::open(&loopback(udp.filter())).err().unwrap();
    assert!(
        matches!(reopen, CaptureOpenError::PermissionDenied { .. }),
        "{reopen:?}"
    );
    assert!(reopen.to_string().contains("CAP_NET_RAW"), "{reopen}");

    udp.send(Ipv4Addr::LOCALHOST, N);
    assert_eq!(collect(&mut capture, N).len(), N);
    println!("{CHILD_OK}");
}

#[test]
fn a_kept_capability_reaches_child_processes() {
    if !root_or_skip("a_kept_capability_reaches_child_processes") {
        return;
    }
    assert_child_passed(&run_child("child_keeps_net_admin", "keep-net-admin", &[]));
}

/// Drops from root keeping CAP_NET_RAW and CAP_NET_ADMIN (as the systemd
/// unit grants them), then, no longer root, drops CAP_NET_RAW: the second
/// call takes the unprivileged path. CAP_NET_ADMIN must then be ambient, so
/// a program started afterwards (`nft` in filter mode) holds it.
#[test]
fn child_keeps_net_admin() {
    if !child_role("keep-net-admin") {
        return;
    }
    use Capability::{CAP_NET_ADMIN, CAP_NET_RAW};
    let nobody = User::from_name("nobody").unwrap().unwrap();
    let udp = Udp::on(Ipv4Addr::LOCALHOST);

    drop_privileges("nobody", &[CAP_NET_RAW, CAP_NET_ADMIN]).unwrap();
    assert_eq!(nix::unistd::geteuid(), nobody.uid);
    assert!(nix::unistd::setuid(Uid::from_raw(0)).is_err());
    // CAP_NET_RAW is effective: opening a capture still works.
    drop(LiveCapture::open(&loopback(udp.filter())).unwrap());

    drop_privileges("nobody", &[CAP_NET_ADMIN]).unwrap();
    let error = LiveCapture::open(&loopback(udp.filter())).err().unwrap();
    assert!(
        matches!(error, CaptureOpenError::PermissionDenied { .. }),
        "{error:?}"
    );
    let only_admin = [CAP_NET_ADMIN].into_iter().collect();
    assert_eq!(caps::read(None, CapSet::Ambient).unwrap(), only_admin);

    // CAP_NET_ADMIN is bit 12: a child process holds exactly it.
    let status = Command::new("cat")
        .arg("/proc/self/status")
        .output()
        .unwrap();
    let status = String::from_utf8(status.stdout).unwrap();
    for line in ["CapEff:\t0000000000001000", "CapAmb:\t0000000000001000"] {
        assert!(status.lines().any(|l| l == line), "{line} not in\n{status}");
    }
    // Asking for a capability no longer held is a clear error.
    let error = drop_privileges("nobody", &[CAP_NET_RAW]).unwrap_err();
    assert!(error.to_string().contains("CAP_NET_RAW"), "{error}");
    println!("{CHILD_OK}");
}

/// Not a test: measures how fast one thread takes frames from the loopback
/// and runs them through the engine. `cargo test -p vigie-sensor --test
/// live_capture -- --ignored --nocapture throughput`.
#[test]
#[ignore]
fn throughput() {
    if !root_or_skip("throughput") {
        return;
    }
    const DATAGRAMS: usize = 2_000_000;
    const SIZE: usize = 1_000;
    let udp = Udp::on(Ipv4Addr::LOCALHOST);
    println!("before opening: {}", resident());
    let mut capture = LiveCapture::open(&loopback(udp.filter())).unwrap();
    println!("capture open: {}", resident());
    let target = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), udp.port());
    let sender = udp.sender.try_clone().unwrap();
    let sending = std::thread::spawn(move || {
        let payload = [0x5a_u8; SIZE];
        for _ in 0..DATAGRAMS {
            let _ = sender.send_to(&payload, target);
        }
    });
    let mut engine = Engine::new(Settings::default());
    let start = Instant::now();
    let cpu_start = thread_cpu_nanos();
    let mut quiet = 0;
    while quiet < 3 {
        match capture.next_frame().unwrap() {
            Some(frame) => {
                engine.process(frame.ts_nanos, frame.linktype, frame.data, frame.orig_len);
            }
            None => quiet += 1,
        }
    }
    let cpu = (thread_cpu_nanos() - cpu_start) as f64;
    sending.join().unwrap();
    let elapsed = start.elapsed().as_secs_f64() - 3.0 * 0.2;
    let stats = engine.stats();
    let kernel = capture.stats().unwrap();
    println!(
        "{} frames in {elapsed:.2} s: {:.0} frames/s, {:.2} Gbit/s; \
         reader thread {:.0} ns of CPU per frame; kernel {kernel:?}; {}",
        stats.packets,
        stats.packets as f64 / elapsed,
        stats.bytes as f64 * 8.0 / elapsed / 1e9,
        cpu / stats.packets as f64,
        resident(),
    );
}

/// The process's resident memory line, ring included.
fn resident() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|line| line.starts_with("VmRSS:"));
    line.unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// CPU time of the calling thread (first field of schedstat, nanoseconds).
fn thread_cpu_nanos() -> u64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    text.split_whitespace().next().unwrap().parse().unwrap()
}
