//! A proxy that loses one acknowledgement: it stands between the box and
//! the observatory in the observatory's namespace, holding the
//! observatory's certificate, and relays HTTP/1.1 exchanges. The first
//! batch carrying incidents that the observatory answers `stored` gets no
//! answer: the proxy closes the box's connection instead, as a network cut
//! right after the observatory committed the batch would. The box must
//! send the batch again and the observatory answer `duplicate`.
//!
//! It only ever connects to the observatory's address it is given.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use nix::sched::{CloneFlags, setns};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{
    ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection, StreamOwned,
};
use serde_json::Value;

use super::observatory::Certificates;

/// Limit of a message head; the observatory's and the box's are far smaller.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// A batch the box posted, as the proxy saw it.
#[derive(Clone, Debug)]
#[allow(dead_code)] // read through Debug in failure messages
pub struct Posted {
    pub seq: i64,
    pub incidents: usize,
    /// The observatory's `status` (`stored`, `duplicate`) or its HTTP status.
    pub answer: String,
}

#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub batches: Vec<Posted>,
    /// The batch whose answer the box never got.
    pub cut: Option<i64>,
}

pub struct AckCutter {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
    thread: Option<JoinHandle<()>>,
}

struct Relay {
    upstream: SocketAddr,
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
    seen: Arc<Mutex<Seen>>,
}

impl AckCutter {
    /// Listens on `listen` inside namespace `ns`, relaying to `upstream`.
    pub fn start(
        ns: &str,
        listen: SocketAddr,
        upstream: SocketAddr,
        certs: &Certificates,
    ) -> AckCutter {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certs.key_der.clone()));
        let mut server = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(certs.cert_der.clone())], key)
            .expect("proxy certificate");
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(certs.ca_der.clone()))
            .expect("test CA");
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let relay = Arc::new(Relay {
            upstream,
            server: Arc::new(server),
            client: Arc::new(client),
            seen: Arc::clone(&seen),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let (ready, started) = mpsc::channel();
        let ns = ns.to_owned();
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || accept_loop(&ns, listen, relay, stop, ready))
        };
        match started.recv() {
            Ok(Ok(())) => {}
            Ok(Err(problem)) => panic!("the proxy cannot start: {problem}"),
            Err(_) => panic!("the proxy thread died"),
        }
        AckCutter {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    pub fn seen(&self) -> Seen {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for AckCutter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Enters the namespace (this thread only, and the threads it starts),
/// then accepts connections until told to stop.
fn accept_loop(
    ns: &str,
    listen: SocketAddr,
    relay: Arc<Relay>,
    stop: Arc<AtomicBool>,
    ready: mpsc::Sender<Result<(), String>>,
) {
    let listener = std::fs::File::open(format!("/var/run/netns/{ns}"))
        .map_err(|e| format!("namespace {ns}: {e}"))
        .and_then(|file| {
            setns(file, CloneFlags::CLONE_NEWNET).map_err(|e| format!("setns {ns}: {e}"))
        })
        .and_then(|()| TcpListener::bind(listen).map_err(|e| format!("bind {listen}: {e}")))
        .and_then(|l| {
            l.set_nonblocking(true)
                .map(|()| l)
                .map_err(|e| e.to_string())
        });
    let listener = match listener {
        Ok(listener) => {
            let _ = ready.send(Ok(()));
            listener
        }
        Err(problem) => {
            let _ = ready.send(Err(problem));
            return;
        }
    };
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((socket, _)) => {
                let relay = Arc::clone(&relay);
                std::thread::spawn(move || {
                    if let Err(problem) = relay.serve(socket) {
                        eprintln!("proxy: {problem}");
                    }
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => eprintln!("proxy: accept: {e}"),
        }
    }
}

impl Relay {
    /// Relays the exchanges of one connection of the box.
    fn serve(&self, socket: TcpStream) -> Result<(), String> {
        socket
            .set_read_timeout(Some(IO_TIMEOUT))
            .map_err(|e| e.to_string())?;
        let connection =
            ServerConnection::new(Arc::clone(&self.server)).map_err(|e| e.to_string())?;
        let mut box_side = BufReader::new(StreamOwned::new(connection, socket));
        loop {
            let Some(request) = read_message(&mut box_side)? else {
                return Ok(());
            };
            let batch = posted_batch(&request);
            let response = self.forward(&request.raw)?;
            if let Some((seq, incidents)) = batch {
                let answer = serde_json::from_slice::<Value>(&response.body)
                    .ok()
                    .and_then(|v| v["status"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| response.head.lines().next().unwrap_or("").to_owned());
                let mut seen = self.seen.lock().map_err(|_| "poisoned")?;
                let cut = seen.cut.is_none() && incidents > 0 && answer == "stored";
                seen.batches.push(Posted {
                    seq,
                    incidents,
                    answer,
                });
                if cut {
                    // Stored on the observatory; the box never hears of it.
                    seen.cut = Some(seq);
                    let _ = box_side.get_mut().sock.shutdown(Shutdown::Both);
                    return Ok(());
                }
            }
            let stream = box_side.get_mut();
            stream
                .write_all(&response.raw)
                .map_err(|e| format!("to the box: {e}"))?;
            stream.flush().map_err(|e| format!("to the box: {e}"))?;
        }
    }

    /// Sends one request to the observatory on a new connection and reads
    /// its answer.
    fn forward(&self, request: &[u8]) -> Result<Message, String> {
        let socket = TcpStream::connect_timeout(&self.upstream, IO_TIMEOUT)
            .map_err(|e| format!("connect {}: {e}", self.upstream))?;
        socket
            .set_read_timeout(Some(IO_TIMEOUT))
            .map_err(|e| e.to_string())?;
        let name = ServerName::IpAddress(self.upstream.ip().into());
        let connection =
            ClientConnection::new(Arc::clone(&self.client), name).map_err(|e| e.to_string())?;
        let mut observatory = BufReader::new(StreamOwned::new(connection, socket));
        let stream = observatory.get_mut();
        stream
            .write_all(request)
            .map_err(|e| format!("to the observatory: {e}"))?;
        stream
            .flush()
            .map_err(|e| format!("to the observatory: {e}"))?;
        read_message(&mut observatory)?
            .ok_or_else(|| "the observatory closed without answering".to_owned())
    }
}

/// An HTTP/1.1 message: its head, its body, and its bytes as received.
struct Message {
    head: String,
    body: Vec<u8>,
    raw: Vec<u8>,
}

/// (seq, incidents) of a `POST /api/v1/reports`.
fn posted_batch(request: &Message) -> Option<(i64, usize)> {
    let first = request.head.lines().next()?;
    if !first.starts_with("POST /api/v1/reports ") {
        return None;
    }
    let report: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let seq = report["seq"].as_i64().unwrap_or(-1);
    let incidents = report["incidents"].as_array().map_or(0, Vec::len);
    Some((seq, incidents))
}

/// Reads one message; None when the peer closed between messages.
fn read_message(reader: &mut impl BufRead) -> Result<Option<Message>, String> {
    let mut raw = Vec::new();
    let mut head = String::new();
    loop {
        let mut line = Vec::new();
        let n = reader.read_until(b'\n', &mut line).or_else(|e| {
            // A peer closing without TLS close_notify, between messages.
            if raw.is_empty() {
                Ok(0)
            } else {
                Err(e.to_string())
            }
        })?;
        if n == 0 {
            return if raw.is_empty() {
                Ok(None)
            } else {
                Err("truncated head".into())
            };
        }
        raw.extend_from_slice(&line);
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        head.push_str(&String::from_utf8_lossy(&line));
        if raw.len() > MAX_HEAD {
            return Err("head too long".into());
        }
    }
    let header = |name: &str| {
        head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        read_chunked(reader, &mut raw, &mut body)?;
    } else if let Some(length) = header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| format!("content-length {length}"))?;
        if length > MAX_BODY {
            return Err(format!("body of {length} bytes"));
        }
        body.resize(length, 0);
        reader
            .read_exact(&mut body)
            .map_err(|e| format!("body: {e}"))?;
        raw.extend_from_slice(&body);
    }
    Ok(Some(Message { head, body, raw }))
}

fn read_chunked(
    reader: &mut impl BufRead,
    raw: &mut Vec<u8>,
    body: &mut Vec<u8>,
) -> Result<(), String> {
    loop {
        let mut line = Vec::new();
        reader
            .read_until(b'\n', &mut line)
            .map_err(|e| e.to_string())?;
        raw.extend_from_slice(&line);
        let text = String::from_utf8_lossy(&line);
        let size = text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| format!("chunk size {size:?}"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                let mut trailer = Vec::new();
                reader
                    .read_until(b'\n', &mut trailer)
                    .map_err(|e| e.to_string())?;
                raw.extend_from_slice(&trailer);
                if trailer == b"\r\n" || trailer == b"\n" || trailer.is_empty() {
                    return Ok(());
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Err("chunked body too long".into());
        }
        let mut chunk = vec![0; size + 2];
        reader
            .read_exact(&mut chunk)
            .map_err(|e| format!("chunk: {e}"))?;
        raw.extend_from_slice(&chunk);
        body.extend_from_slice(&chunk[..size]);
    }
}
