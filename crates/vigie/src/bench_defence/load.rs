//! The boxes' side of the delivery measure: N HTTP/1.1 keep-alive
//! connections (hyper's own client, one request in flight on each, closed
//! loop), each request made as a box's uplink makes it (reqwest's
//! headers: `accept`, `user-agent`, the bearer token; no
//! `accept-encoding`, the box asks for no compression) with the next of
//! the registered boxes' tokens, so every request is really
//! authenticated and the token lookups range over the whole table.
//!
//! Every byte the connection carries is counted below HTTP, so a
//! response's size is its status line, headers and body as served.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A request that takes longer is a failure ("délai dépassé").
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The box's user agent (`vigie_sensor::live::uplink`).
const USER_AGENT: &str = concat!("vigie-sensor/", env!("CARGO_PKG_VERSION"));

/// What every request of a phase asks, but for its token.
#[derive(Clone, Debug)]
pub struct Ask {
    pub method: Method,
    pub path: String,
    /// `If-None-Match`, as the box sends for its lists.
    pub etag: Option<String>,
    /// A JSON body (the heartbeat).
    pub body: Option<Bytes>,
    pub expected: StatusCode,
}

impl Ask {
    pub fn get(path: &str, expected: StatusCode) -> Ask {
        Ask {
            method: Method::GET,
            path: path.to_owned(),
            etag: None,
            body: None,
            expected,
        }
    }
}

/// What one request gave: status, bytes sent and received, the body.
pub struct One {
    pub status: StatusCode,
    pub etag: Option<String>,
    pub sent: u64,
    pub received: u64,
    pub body: Bytes,
}

/// What a phase measured.
#[derive(Default)]
pub struct Outcome {
    /// Latency of each expected answer, µs, sorted.
    pub latencies: Vec<u32>,
    /// Failures by cause (an unexpected status, "connexion", "délai dépassé").
    pub errors: BTreeMap<String, u64>,
    /// Bytes of the expected answers: sent (requests), received (responses).
    pub sent: u64,
    pub received: u64,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn answers(&self) -> u64 {
        self.latencies.len() as u64
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn per_second(&self) -> f64 {
        self.answers() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency at quantile `q` (0 to 1), ms.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        crate::bench_campaigns::load::quantile_ms(&self.latencies, q)
    }

    fn merge(&mut self, other: Outcome) {
        self.latencies.extend(other.latencies);
        for (cause, n) in other.errors {
            *self.errors.entry(cause).or_default() += n;
        }
        self.sent += other.sent;
        self.received += other.received;
    }
}

/// `connections` connections asking `ask` for `duration`, each request
/// with the next token.
pub async fn run(
    server: SocketAddr,
    ask: &Ask,
    tokens: &Arc<Vec<String>>,
    connections: usize,
    duration: Duration,
) -> Outcome {
    let start = Instant::now();
    let end = start + duration;
    let mut tasks = Vec::new();
    for index in 0..connections.max(1) {
        let (ask, tokens) = (ask.clone(), tokens.clone());
        tasks.push(tokio::spawn(async move {
            connection(server, &ask, &tokens, index, end).await
        }));
    }
    let mut outcome = Outcome::default();
    for task in tasks {
        match task.await {
            Ok(one) => outcome.merge(one),
            Err(_) => *outcome.errors.entry("tâche".to_owned()).or_default() += 1,
        }
    }
    outcome.elapsed = start.elapsed();
    outcome.latencies.sort_unstable();
    outcome
}

/// One request on a connection of its own.
pub async fn once(server: SocketAddr, ask: &Ask, token: &str) -> anyhow::Result<One> {
    let mut link = None;
    send(&mut link, server, ask, token)
        .await
        .map_err(|cause| anyhow::anyhow!("{} : {cause}", ask.path))
}

async fn connection(
    server: SocketAddr,
    ask: &Ask,
    tokens: &[String],
    index: usize,
    end: Instant,
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut link = None;
    // Connections walk the tokens from different places.
    let mut n = index * 7_919;
    while Instant::now() < end {
        let token = tokens
            .get(n % tokens.len().max(1))
            .map_or("", String::as_str);
        n += 1;
        let sent_at = Instant::now();
        let cause = match tokio::time::timeout(REQUEST_TIMEOUT, send(&mut link, server, ask, token))
            .await
        {
            Ok(Ok(one)) if one.status == ask.expected => {
                let micros = sent_at.elapsed().as_micros();
                outcome
                    .latencies
                    .push(u32::try_from(micros).unwrap_or(u32::MAX));
                outcome.sent += one.sent;
                outcome.received += one.received;
                continue;
            }
            Ok(Ok(one)) => one.status.as_u16().to_string(),
            Ok(Err(_)) => "connexion".to_owned(),
            Err(_) => "délai dépassé".to_owned(),
        };
        link = None;
        *outcome.errors.entry(cause).or_default() += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    outcome
}

/// A connection and its byte counters.
struct Link {
    sender: SendRequest<Full<Bytes>>,
    counters: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    read: AtomicU64,
    written: AtomicU64,
}

/// One request on the link (opened first if there is none), its answer
/// read whole so the connection can carry the next.
async fn send(
    link: &mut Option<Link>,
    server: SocketAddr,
    ask: &Ask,
    token: &str,
) -> Result<One, String> {
    if link.as_ref().is_none_or(|l| l.sender.is_closed()) {
        *link = Some(open(server).await?);
    }
    let Some(Link { sender, counters }) = link.as_mut() else {
        return Err("pas de connexion".to_owned());
    };
    sender.ready().await.map_err(|e| e.to_string())?;
    let mut request = Request::builder()
        .method(ask.method.clone())
        .uri(&ask.path)
        .header(header::ACCEPT, "*/*")
        .header(header::USER_AGENT, USER_AGENT)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::HOST, server.to_string());
    if let Some(etag) = &ask.etag {
        request = request.header(header::IF_NONE_MATCH, etag);
    }
    let body = ask.body.clone().unwrap_or_default();
    if ask.body.is_some() {
        request = request
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, body.len());
    }
    let request = request.body(Full::new(body)).map_err(|e| e.to_string())?;
    let (read, written) = counters.totals();
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let etag = response
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    let (read_after, written_after) = counters.totals();
    Ok(One {
        status,
        etag,
        sent: written_after - written,
        received: read_after - read,
        body,
    })
}

async fn open(server: SocketAddr) -> Result<Link, String> {
    let stream = TcpStream::connect(server)
        .await
        .map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let counters = Arc::new(Counters::default());
    let counted = Counted {
        stream,
        counters: counters.clone(),
    };
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(counted))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    Ok(Link { sender, counters })
}

impl Counters {
    fn totals(&self) -> (u64, u64) {
        (
            self.read.load(Ordering::Acquire),
            self.written.load(Ordering::Acquire),
        )
    }
}

/// A TCP stream that counts the bytes it carries.
struct Counted {
    stream: TcpStream,
    counters: Arc<Counters>,
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.stream).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            let read = (buf.filled().len() - before) as u64;
            this.counters.read.fetch_add(read, Ordering::AcqRel);
        }
        poll
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write(cx, buf);
        if let Poll::Ready(Ok(written)) = poll {
            this.counters
                .written
                .fetch_add(written as u64, Ordering::AcqRel);
        }
        poll
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
