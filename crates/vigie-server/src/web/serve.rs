//! The server loop (issue 14): accepts TCP connections, plain or TLS
//! (tokio-rustls), and serves each with hyper: HTTP/1.1, and HTTP/2 when a
//! TLS client asks for it by ALPN. The limits are [`ConnectionLimits`]:
//! a cap on open connections overall and per client, a time for the
//! headers, for a whole request, for the TLS handshake, for an idle
//! connection. Every request carries its peer address as
//! `ConnectInfo<SocketAddr>`, which [`super::ClientAddr`] reads.
//!
//! What it must never do: let one client hold more than its share of the
//! connections, keep a connection that sends nothing, spin when accept
//! fails (out of file descriptors), or log at the pace an attacker sets.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use super::clients::{ClientSlots, open_file_room};
use crate::state::ConnectionLimits;
use crate::tls::ServerConfig;
use crate::{AppState, web};

/// After a failed accept (out of file descriptors, most often), the loop
/// waits this long: connections closing meanwhile give descriptors back.
const ACCEPT_PAUSE: Duration = Duration::from_millis(50);
/// At most one log line per this long for refused connections or failed
/// accepts; the line says how many there were.
const LOG_EVERY: Duration = Duration::from_secs(5);
/// How often a connection checks whether it has been idle too long.
const IDLE_CHECK: Duration = Duration::from_secs(1);
/// Requests one HTTP/2 connection may have in flight.
const MAX_STREAMS: u32 = 64;
/// Largest header block an HTTP/2 client may send (hyper's HTTP/1.1
/// parser has its own limits: 100 headers, a bounded buffer).
const MAX_HEADER_LIST: u32 = 64 * 1024;

/// Serves the application on `listener`, over TLS when `tls` is given,
/// until Ctrl-C or SIGTERM; then lets open connections finish for
/// `shutdown_grace`.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
) -> io::Result<()> {
    serve_until(state, listener, tls, crate::shutdown_signal()).await
}

/// [`serve`] until `shutdown` resolves.
pub async fn serve_until(
    state: AppState,
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let limits = state.settings.connections.clone();
    let slots = ClientSlots::new(limits.per_client, state.settings.trusted_proxies.clone());
    let mut app = crate::router(state);
    if tls.is_some() {
        app = app.layer(axum::middleware::map_response(
            web::headers::strict_transport,
        ));
    }
    let max = max_connections(limits.max_connections);
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(
        max_connections = max,
        per_client = limits.per_client,
        "listening on {scheme}://{}",
        listener.local_addr()?
    );
    let open = Arc::new(Semaphore::new(max));
    let (stop, stopped) = watch::channel(false);
    let served = Served {
        app,
        limits: limits.clone(),
        tls: tls.map(TlsAcceptor::from),
        stopped,
    };
    let mut refused = Throttle::default();
    let mut failed = Throttle::default();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    if let Some(count) = failed.note() {
                        tracing::warn!(count, "accept error: {error}");
                    }
                    tokio::time::sleep(ACCEPT_PAUSE).await;
                    continue;
                }
            },
        };
        // Beyond a cap the connection is closed at once: its descriptor is
        // back and the backlog keeps draining.
        let Ok(slot) = open.clone().try_acquire_owned() else {
            drop(stream);
            if let Some(count) = refused.note() {
                tracing::warn!(count, max, "connections refused: too many open");
            }
            continue;
        };
        let Some(client_slot) = slots.take(peer.ip()) else {
            drop(stream);
            if let Some(count) = refused.note() {
                tracing::warn!(count, client = %peer.ip(), "connections refused: too many from one client");
            }
            continue;
        };
        let served = served.clone();
        tokio::spawn(async move {
            served.connection(stream, peer).await;
            drop((slot, client_slot));
        });
    }
    drop(listener);
    let _ = stop.send(true);
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.shutdown_grace, open.acquire_many(all))
        .await
        .is_err()
    {
        tracing::info!("stopping with connections still open");
    }
    Ok(())
}

/// The configured cap, lowered to leave room below the open-file limit.
fn max_connections(configured: usize) -> usize {
    let room = open_file_room(configured);
    if room < configured {
        tracing::warn!(
            configured,
            room,
            "the open-file limit (ulimit -n) lowers the connection cap"
        );
    }
    configured.min(room).max(1)
}

/// What every connection task needs.
#[derive(Clone)]
struct Served {
    app: Router,
    limits: ConnectionLimits,
    tls: Option<TlsAcceptor>,
    stopped: watch::Receiver<bool>,
}

impl Served {
    async fn connection(self, stream: TcpStream, peer: SocketAddr) {
        let _ = stream.set_nodelay(true);
        match self.tls.clone() {
            None => self.http(TokioIo::new(stream), peer, true).await,
            Some(acceptor) => {
                let handshake = tokio::time::timeout(
                    self.limits.tls_handshake_timeout,
                    acceptor.accept(stream),
                );
                match handshake.await {
                    Ok(Ok(tls)) => self.http(TokioIo::new(tls), peer, false).await,
                    Ok(Err(error)) => tracing::debug!(%peer, "TLS handshake failed: {error}"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                }
            }
        }
    }

    /// Serves requests on one connection until the client leaves, a
    /// timeout cuts it, or the server stops.
    async fn http<I>(self, io: I, peer: SocketAddr, http1_only: bool)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        // hyper arms this timer whenever it waits for a request head: at
        // the start and after each answer, so it also ends idle HTTP/1.1
        // keep-alive connections.
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_read_timeout);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(MAX_STREAMS)
            .max_header_list_size(MAX_HEADER_LIST);
        let builder = if http1_only {
            builder.http1_only()
        } else {
            builder
        };
        let activity = Arc::new(Activity::new());
        let service = {
            let (app, activity) = (self.app.clone(), activity.clone());
            hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                let busy = Activity::begin(&activity);
                let answer = app.clone().oneshot(request);
                async move {
                    let response = answer.await;
                    drop(busy);
                    response
                }
            })
        };
        let connection = builder.serve_connection(io, service);
        tokio::pin!(connection);
        let mut stopped = self.stopped;
        let mut tick = tokio::time::interval(IDLE_CHECK);
        let mut closing = false;
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%peer, "connection ended: {error}");
                    }
                    return;
                }
                _ = stopped.changed(), if !closing => {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
                _ = tick.tick(), if !closing => {
                    if activity.idle_for() > self.limits.idle_timeout {
                        closing = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
        }
    }
}

/// Requests in flight on one connection, and when the last one ended.
struct Activity {
    state: Mutex<(usize, Instant)>,
}

/// One request in flight; its end is noted when dropped.
struct Busy(Arc<Activity>);

impl Activity {
    fn new() -> Activity {
        Activity {
            state: Mutex::new((0, Instant::now())),
        }
    }

    fn begin(this: &Arc<Activity>) -> Busy {
        this.update(|state| state.0 += 1);
        Busy(this.clone())
    }

    fn idle_for(&self) -> Duration {
        let (in_flight, since) = *self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if in_flight > 0 {
            Duration::ZERO
        } else {
            since.elapsed()
        }
    }

    fn update(&self, change: impl FnOnce(&mut (usize, Instant))) {
        change(
            &mut self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.update(|state| {
            state.0 = state.0.saturating_sub(1);
            state.1 = Instant::now();
        });
    }
}

/// Says when to log a repeated event: at most once per [`LOG_EVERY`], with
/// the number of events since the last line.
#[derive(Default)]
struct Throttle {
    last: Option<Instant>,
    count: u64,
}

impl Throttle {
    fn note(&mut self) -> Option<u64> {
        self.count += 1;
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < LOG_EVERY)
        {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_refusals_is_one_line_per_period() {
        let mut throttle = Throttle::default();
        assert_eq!(throttle.note(), Some(1));
        for _ in 0..1000 {
            assert_eq!(throttle.note(), None);
        }
        throttle.last = throttle.last.map(|last| last - LOG_EVERY);
        assert_eq!(throttle.note(), Some(1001));
    }
}
