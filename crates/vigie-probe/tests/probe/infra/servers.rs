//! Scripted fake servers on 127.0.0.1 that record what the probe sends,
//! and the plumbing to start real Debian services for the live tests.

use std::net::{TcpListener as StdTcpListener, UdpSocket as StdUdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;

/// How a fake answers one chunk of what it received (None: stay silent).
pub type Script = fn(&[u8]) -> Option<Vec<u8>>;

/// A TCP fake: sends `greeting` on connect, answers each chunk with
/// `script`, and reports each connection's received bytes when it ends.
pub async fn tcp_fake(
    greeting: Option<&'static [u8]>,
    script: Script,
) -> (u16, mpsc::UnboundedReceiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let sender = sender.clone();
            tokio::spawn(async move {
                if let Some(greeting) = greeting {
                    let _ = stream.write_all(greeting).await;
                }
                let mut received = Vec::new();
                let mut buffer = [0u8; 8192];
                loop {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            received.extend_from_slice(&buffer[..n]);
                            if let Some(answer) = script(&buffer[..n])
                                && stream.write_all(&answer).await.is_err()
                            {
                                break;
                            }
                        }
                    }
                }
                let _ = sender.send(received);
            });
        }
    });
    (port, receiver)
}

/// A UDP fake answering each datagram with `script`.
pub async fn udp_fake(script: Script) -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut buffer = [0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buffer).await {
            if let Some(answer) = script(&buffer[..n]) {
                let _ = socket.send_to(&answer, from).await;
            }
        }
    });
    port
}

pub fn free_tcp_port() -> u16 {
    StdTcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn free_udp_port() -> u16 {
    StdUdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether the live tests can run: root, and every binary installed.
/// Prints the reason when they cannot.
pub fn live_ready(test: &str, binaries: &[&str]) -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:\t0\t")))
        .unwrap_or(false);
    if !root {
        eprintln!("skipped {test}: needs root to start Debian services");
        return false;
    }
    for binary in binaries {
        if which(binary).is_none() {
            eprintln!("skipped {test}: {binary} is not installed (apt-get install it)");
            return false;
        }
    }
    true
}

pub fn which(binary: &str) -> Option<PathBuf> {
    let paths = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&format!("{paths}:/usr/sbin:/usr/bin:/sbin"))
        .map(|dir| dir.join(binary))
        .find(|path| path.is_file())
}

/// A started service, killed (by its own pid) and reaped when dropped.
pub struct Service {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Service {
    /// Starts `binary`; `dir` (its private files) lives as long as it.
    pub fn start(
        dir: tempfile::TempDir,
        binary: &str,
        args: &[&str],
        env: &[(&str, &Path)],
    ) -> Service {
        let mut command = Command::new(which(binary).unwrap());
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        Service {
            child: command.spawn().unwrap(),
            _dir: dir,
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (a bounded number of short sleeps) until `ready` says yes.
pub fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    for _ in 0..150 {
        if ready() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{what} did not start");
}

pub fn tcp_open(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}
