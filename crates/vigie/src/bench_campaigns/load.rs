//! The load generator of the tracking bench: N HTTP/1.1 keep-alive
//! connections (hyper's own client, one request in flight on each, no
//! pool or retry behind it), each requesting as fast as answered (closed
//! loop) or at a fixed pace (open loop: the latency is counted from when
//! the request was due, so a late send is latency too). Every answer's
//! latency is kept, and every request that did not get the expected
//! status is counted by cause.
//!
//! Requests look like a browser's: a user agent and `Accept-Language`
//! (without it the server takes a fetch for a mail scanner's), and
//! `Accept-Encoding: gzip` for the tracking links.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A request that takes longer is a failure ("délai dépassé").
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Of ten tracking requests: five openings, four clicks, one submission
/// (people open more than they click, and click more than they type).
const MIX: [Kind; 10] = [
    Kind::Open,
    Kind::Click,
    Kind::Open,
    Kind::Click,
    Kind::Open,
    Kind::Submit,
    Kind::Open,
    Kind::Click,
    Kind::Open,
    Kind::Click,
];

/// What a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `GET /o/{token}`: the image.
    Open,
    /// `GET /c/{token}`: the link, answered with the landing page.
    Click,
    /// `POST /c/{token}`: the form, answered 303.
    Submit,
    /// The reference: `GET /static/vigie.css`.
    Static,
}

impl Kind {
    fn expected(self) -> StatusCode {
        match self {
            Kind::Submit => StatusCode::SEE_OTHER,
            _ => StatusCode::OK,
        }
    }
}

/// What to request.
#[derive(Clone)]
pub enum Traffic {
    /// The tracking links of these tokens, in the [`MIX`].
    Tracking(Arc<Vec<String>>),
    /// The stylesheet, for the reference.
    Static,
}

impl Traffic {
    /// The `n`th request of connection `connection`.
    fn request(&self, connection: usize, n: u64) -> (Kind, String) {
        match self {
            Traffic::Static => (Kind::Static, "/static/vigie.css".to_owned()),
            Traffic::Tracking(tokens) => {
                let kind = MIX[(n % MIX.len() as u64) as usize];
                // Connections walk the tokens from different places.
                let index = (connection as u64 * 7919 + n) % tokens.len().max(1) as u64;
                let token = tokens.get(index as usize).map_or("", String::as_str);
                let path = match kind {
                    Kind::Open => format!("/o/{token}"),
                    _ => format!("/c/{token}"),
                };
                (kind, path)
            }
        }
    }
}

/// One run of the generator.
pub struct Run {
    pub server: SocketAddr,
    pub traffic: Traffic,
    pub connections: usize,
    pub duration: Duration,
    /// Requests per second in all, open loop; `None`: closed loop.
    pub rate: Option<u32>,
}

/// What a run measured.
#[derive(Default)]
pub struct Outcome {
    /// Latency of each expected answer, µs.
    pub latencies: Vec<u32>,
    /// Expected answers by kind of request.
    pub answered: BTreeMap<Kind, u64>,
    /// Failures by cause (an unexpected status, "connexion", "délai
    /// dépassé").
    pub errors: BTreeMap<String, u64>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl Outcome {
    pub fn answers(&self) -> u64 {
        self.answered.values().sum()
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn per_second(&self) -> f64 {
        self.answers() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency at quantile `q` (0 to 1), ms; `latencies` sorted.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        quantile_ms(&self.latencies, q)
    }

    fn merge(&mut self, other: Outcome) {
        self.latencies.extend(other.latencies);
        for (kind, n) in other.answered {
            *self.answered.entry(kind).or_default() += n;
        }
        for (cause, n) in other.errors {
            *self.errors.entry(cause).or_default() += n;
        }
    }
}

/// Runs the generator for `run.duration`.
pub async fn run(run: &Run) -> Outcome {
    let start = Instant::now();
    let end = start + run.duration;
    let connections = run.connections.max(1);
    // Each connection's pace, and a stagger so they do not send together.
    let interval = run
        .rate
        .map(|rate| Duration::from_secs_f64(connections as f64 / f64::from(rate.max(1))));
    let mut tasks = Vec::with_capacity(connections);
    for index in 0..connections {
        let first = start
            + interval.map_or(Duration::ZERO, |i| {
                i.mul_f64(index as f64 / connections as f64)
            });
        let (server, traffic) = (run.server, run.traffic.clone());
        tasks.push(tokio::spawn(async move {
            connection(server, traffic, index, first, end, interval).await
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

/// One connection's requests, one after the other, reconnecting after a
/// failure.
async fn connection(
    server: SocketAddr,
    traffic: Traffic,
    index: usize,
    first: Instant,
    end: Instant,
    interval: Option<Duration>,
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut sender: Option<SendRequest<Empty<Bytes>>> = None;
    let mut due = first;
    let mut n = 0u64;
    loop {
        let sent_at = match interval {
            Some(interval) => {
                if due >= end {
                    break;
                }
                // Behind schedule, the next request leaves at once: a
                // timer, even one already due, waits for the timer's next
                // millisecond tick, and a connection could never catch up.
                if due > Instant::now() {
                    tokio::time::sleep_until(due.into()).await;
                }
                let at = due;
                due += interval;
                at
            }
            None => {
                let now = Instant::now();
                if now >= end {
                    break;
                }
                now
            }
        };
        let (kind, path) = traffic.request(index, n);
        n += 1;
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, send(&mut sender, server, kind, &path));
        match answer.await {
            Ok(Ok(status)) if status == kind.expected() => {
                let micros = sent_at.elapsed().as_micros();
                outcome
                    .latencies
                    .push(u32::try_from(micros).unwrap_or(u32::MAX));
                *outcome.answered.entry(kind).or_default() += 1;
            }
            Ok(Ok(status)) => {
                *outcome
                    .errors
                    .entry(status.as_u16().to_string())
                    .or_default() += 1;
            }
            Ok(Err(())) => {
                sender = None;
                *outcome.errors.entry("connexion".to_owned()).or_default() += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(_) => {
                sender = None;
                *outcome
                    .errors
                    .entry("délai dépassé".to_owned())
                    .or_default() += 1;
            }
        }
    }
    outcome
}

/// One request on the connection (opened first if there is none); its
/// answer read whole so the connection can carry the next.
async fn send(
    sender: &mut Option<SendRequest<Empty<Bytes>>>,
    server: SocketAddr,
    kind: Kind,
    path: &str,
) -> Result<StatusCode, ()> {
    if sender.as_ref().is_none_or(SendRequest::is_closed) {
        *sender = Some(open(server).await?);
    }
    let Some(connection) = sender.as_mut() else {
        return Err(());
    };
    connection.ready().await.map_err(|_| ())?;
    let method = if kind == Kind::Submit {
        Method::POST
    } else {
        Method::GET
    };
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, server.to_string())
        .header(
            header::USER_AGENT,
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        )
        .header(header::ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9");
    if kind != Kind::Static {
        // The reference asks for the stylesheet as it is: gzipping its
        // 9 KB at each request is not the HTTP floor it stands for.
        request = request.header(header::ACCEPT_ENCODING, "gzip, deflate");
    }
    if kind == Kind::Submit {
        // The landing form's fields have no name: a browser posts nothing.
        request = request
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::CONTENT_LENGTH, "0");
    }
    let request = request.body(Empty::new()).map_err(|_| ())?;
    let response = connection.send_request(request).await.map_err(|_| ())?;
    let status = response.status();
    response.into_body().collect().await.map_err(|_| ())?;
    Ok(status)
}

async fn open(server: SocketAddr) -> Result<SendRequest<Empty<Bytes>>, ()> {
    let stream = TcpStream::connect(server).await.map_err(|_| ())?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| ())?;
    tokio::spawn(connection);
    Ok(sender)
}

/// The value at quantile `q` (0 to 1) of latencies in µs, sorted, in ms
/// (0 when there are none); the defence bench's load uses it too.
pub fn quantile_ms(sorted_us: &[u32], q: f64) -> f64 {
    let index = ((sorted_us.len() as f64 - 1.0) * q).round().max(0.0) as usize;
    sorted_us
        .get(index)
        .map_or(0.0, |&us| f64::from(us) / 1000.0)
}
