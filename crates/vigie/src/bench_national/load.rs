//! The open-loop load: each request leaves at the time the schedule says,
//! whether or not earlier ones have been answered (boxes do not wait for
//! each other), and its latency counts from that time. What delivers a
//! request is given by the caller: HTTP to the replicas, or the bare
//! insert of the reference.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::stats::Recorder;
use super::traffic::{self, Event, Kind};

/// How long a request may take before it counts as failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `plan`, calling `deliver` for each event at its time; `deliver`
/// answers `Err(cause)` for a failure.
pub async fn drive<F, Fut>(plan: &[Event], deliver: F) -> Recorder
where
    F: Fn(Event) -> Fut,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let recorder = Arc::new(Mutex::new(Recorder::default()));
    // A short lead so that the first events are not already late.
    let start = Instant::now() + Duration::from_millis(200);
    let mut tasks = tokio::task::JoinSet::new();
    let mut worst_lag = Duration::ZERO;
    for &event in plan {
        let due = start + Duration::from_millis(event.at_ms);
        tokio::time::sleep_until(due.into()).await;
        worst_lag = worst_lag.max(Instant::now().saturating_duration_since(due));
        let delivery = deliver(event);
        let recorder = recorder.clone();
        tasks.spawn(async move {
            let outcome = delivery.await;
            let latency = Instant::now().saturating_duration_since(due);
            if let Ok(mut recorder) = recorder.lock() {
                match outcome {
                    Ok(()) => recorder.answer(event.kind, event.minute, latency),
                    Err(cause) => recorder.failure(event.kind, cause),
                }
            }
        });
        // Reap what has finished, so the set holds only what is in flight.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let mut recorder = match Arc::try_unwrap(recorder) {
        Ok(mutex) => mutex.into_inner().unwrap_or_default(),
        Err(_) => Recorder::default(),
    };
    recorder.worst_send_lag = worst_lag;
    recorder
}

/// The HTTP side: the boxes' tokens, the replicas, and the connections a
/// load balancer would hold to each (several source addresses, as the
/// observatory caps the connections of one address).
pub struct Http {
    tokens: Vec<String>,
    /// Per replica: its base URL and its clients.
    replicas: Vec<(String, Vec<reqwest::Client>)>,
    /// The first batch's sequence number (a box numbers its batches from
    /// the clock, in milliseconds).
    seq_base: u64,
    started_at: DateTime<Utc>,
}

/// Source addresses (clients) per replica.
const LANES: u8 = 16;

impl Http {
    pub fn new(tokens: Vec<String>, bases: &[String]) -> anyhow::Result<Http> {
        let mut replicas = Vec::new();
        for (r, base) in bases.iter().enumerate() {
            let mut clients = Vec::new();
            for lane in 0..LANES {
                let source = Ipv4Addr::new(127, 0, 20 + u8::try_from(r)?, 1 + lane);
                clients.push(
                    reqwest::Client::builder()
                        .local_address(IpAddr::V4(source))
                        .timeout(REQUEST_TIMEOUT)
                        // The server closes a keep-alive connection idle for
                        // its header timeout (10 s): a client reusing one
                        // as it closes loses the request, so the client
                        // lets them go first.
                        .pool_idle_timeout(Duration::from_secs(5))
                        .build()?,
                );
            }
            replicas.push((base.clone(), clients));
        }
        let now = Utc::now();
        Ok(Http {
            tokens,
            replicas,
            seq_base: u64::try_from(now.timestamp_millis()).unwrap_or(0),
            started_at: now - chrono::Duration::hours(30),
        })
    }

    /// Sends `event`: box `sensor` always goes to the same replica, as a
    /// load balancer hashing on the source would send it.
    pub fn deliver(&self, event: Event) -> impl Future<Output = Result<(), String>> + use<> {
        let sensor = event.sensor as usize;
        let replica = &self.replicas[sensor % self.replicas.len()];
        let lanes = &replica.1;
        let client = lanes[(sensor / self.replicas.len()) % lanes.len()].clone();
        let url = format!("{}{}", replica.0, event.kind.path());
        let token = self.tokens.get(sensor).cloned().unwrap_or_default();
        let (seq, started_at) = (self.seq_base + event.minute, self.started_at);
        async move {
            let body = match event.kind {
                Kind::Batch => serde_json::to_vec(&traffic::report(
                    event.sensor,
                    event.minute,
                    seq,
                    Utc::now(),
                )),
                Kind::Heartbeat => {
                    serde_json::to_vec(&traffic::heartbeat(event.sensor, event.minute, started_at))
                }
            }
            .map_err(|e| format!("JSON : {e}"))?;
            let response = client
                .post(url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| transport_cause(&e))?;
            let status = response.status();
            let text = response.text().await.map_err(|e| transport_cause(&e))?;
            if !status.is_success() {
                return Err(format!("HTTP {}", status.as_u16()));
            }
            if text.contains("duplicate") {
                return Err("doublon".to_owned());
            }
            Ok(())
        }
    }
}

fn transport_cause(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "délai dépassé".to_owned()
    } else if error.is_connect() {
        "connexion impossible".to_owned()
    } else {
        "transport interrompu".to_owned()
    }
}
