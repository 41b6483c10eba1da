//! The flood limit (issue 14): token buckets per client ([`ClientAddr`],
//! IPv6 by /64) in this process's memory, in a table of fixed capacity.
//!
//! Two buckets per client. *Guesses* (an enrolment code, a sign-in form, a
//! bearer token the server refused) are few and slow: they make guessing a
//! one-time code or a token hopeless. *Anonymous* requests (everything
//! without a bearer token: pages, static files) are many and fast: only a
//! flood runs out of them. A sensor or probe with a valid token is never
//! slowed. Requests made in-process (no connection, as `vigie demo` fills
//! the observatory) are not counted.
//!
//! What it must never do: grow with the number of addresses an attacker
//! uses (the table forgets its oldest clients), or replace the sign-in
//! counters, which are in the database and shared by replicas.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ClientAddr;
use crate::state::FloodLimits;

/// The per-process flood table, shared by every request of one router.
pub struct Flood {
    trusted_proxies: Vec<std::net::IpAddr>,
    guesses: Mutex<Buckets>,
    anonymous: Mutex<Buckets>,
}

impl Flood {
    pub fn new(limits: &FloodLimits, trusted_proxies: Vec<std::net::IpAddr>) -> Flood {
        Flood {
            trusted_proxies,
            guesses: Mutex::new(Buckets::new(
                limits.guess_burst,
                limits.guess_every,
                limits.clients / 2,
            )),
            anonymous: Mutex::new(Buckets::new(
                limits.anonymous_burst,
                limits.anonymous_every,
                limits.clients / 2,
            )),
        }
    }
}

/// What a request costs.
enum Kind {
    /// A guess: takes one from the guesses.
    Guess,
    /// Carries a bearer token: refused only while the client's guesses
    /// are spent (it has just had tokens refused).
    Bearer,
    /// Takes one from the anonymous bucket.
    Anonymous,
    /// A provider's link (`/prestataire/{token}`), a commune's training
    /// link (`/formation/{token}…`), a phishing exercise's (`/c/{token}`,
    /// `/o/{token}`), a calendar feed (`/calendrier/{token}.ics`):
    /// anonymous, refused while the client's guesses are
    /// spent; a link that does not exist (404) costs a guess, so links
    /// cannot be tried in bulk.
    Link,
}

impl Kind {
    fn of(request: &Request) -> Kind {
        let path = request.uri().path();
        let guess = request.method() == Method::POST
            && (path == "/api/v1/sensors/enroll" || path == "/connexion");
        if guess {
            Kind::Guess
        } else if path.starts_with("/prestataire/")
            || path.starts_with("/formation/")
            || path.starts_with("/c/")
            || path.starts_with("/o/")
            || (path.starts_with("/calendrier/") && path.ends_with(".ics"))
        {
            Kind::Link
        } else if request.headers().contains_key(header::AUTHORIZATION) {
            Kind::Bearer
        } else {
            Kind::Anonymous
        }
    }
}

/// Middleware: counts the request against its client, 429 with
/// `Retry-After` when the client is out of tokens.
pub async fn limit(State(flood): State<Arc<Flood>>, request: Request, next: Next) -> Response {
    if request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_none()
    {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let client = ClientAddr::of(&parts, &flood.trusted_proxies).key();
    let request = Request::from_parts(parts, body);
    let kind = Kind::of(&request);
    let now = Instant::now();
    let admitted = match kind {
        Kind::Guess => lock(&flood.guesses).take(&client, now),
        Kind::Bearer => lock(&flood.guesses).peek(&client, now),
        Kind::Anonymous => lock(&flood.anonymous).take(&client, now),
        Kind::Link => lock(&flood.guesses)
            .peek(&client, now)
            .and_then(|()| lock(&flood.anonymous).take(&client, now)),
    };
    if let Err(wait) = admitted {
        return too_many(request.uri().path(), wait);
    }
    let response = next.run(request).await;
    let refused = match kind {
        Kind::Bearer => response.status() == StatusCode::UNAUTHORIZED,
        Kind::Link => response.status() == StatusCode::NOT_FOUND,
        _ => false,
    };
    if refused {
        // A refused token, a link that does not exist: a guess too.
        let _ = lock(&flood.guesses).take(&client, Instant::now());
    }
    response
}

/// The table is only ever left consistent: a panic elsewhere while it was
/// held does not make it unusable.
fn lock(buckets: &Mutex<Buckets>) -> std::sync::MutexGuard<'_, Buckets> {
    buckets
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// 429, French, JSON under `/api/`, a page elsewhere (`web::errors`).
fn too_many(path: &str, wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let message = format!("Trop de requêtes : réessayez dans {seconds} s.");
    let mut response = if path.starts_with("/api/") {
        (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(serde_json::json!({ "error": message })),
        )
            .into_response()
    } else {
        crate::error::ErrorPage::attach(StatusCode::TOO_MANY_REQUESTS.into_response(), message)
    };
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets by client key in two generations: when the current one is
/// full it becomes the previous one and the oldest generation is
/// forgotten (a forgotten client starts again with a full bucket).
struct Buckets {
    burst: f64,
    every: Duration,
    generation: usize,
    current: HashMap<String, Bucket>,
    previous: HashMap<String, Bucket>,
}

impl Buckets {
    fn new(burst: u32, every: Duration, generation: usize) -> Buckets {
        Buckets {
            burst: f64::from(burst.max(1)),
            every: every.max(Duration::from_micros(1)),
            generation: generation.max(1),
            current: HashMap::new(),
            previous: HashMap::new(),
        }
    }

    /// Takes one token, or says how long until there is one.
    fn take(&mut self, key: &str, now: Instant) -> Result<(), Duration> {
        let every = self.every;
        let bucket = self.refilled(key, now);
        bucket.tokens -= 1.0;
        if bucket.tokens >= 0.0 {
            return Ok(());
        }
        // Refused: the token is not spent, the wait is for one whole.
        bucket.tokens += 1.0;
        Err(every.mul_f64(1.0 - bucket.tokens))
    }

    /// Whether a token is left, without taking it.
    fn peek(&mut self, key: &str, now: Instant) -> Result<(), Duration> {
        let every = self.every;
        let bucket = self.refilled(key, now);
        if bucket.tokens >= 1.0 {
            Ok(())
        } else {
            Err(every.mul_f64(1.0 - bucket.tokens))
        }
    }

    fn refilled(&mut self, key: &str, now: Instant) -> &mut Bucket {
        if !self.current.contains_key(key) {
            let known = self.previous.remove(key);
            if self.current.len() >= self.generation {
                self.previous = std::mem::take(&mut self.current);
            }
            if let Some(known) = known {
                self.current.insert(key.to_owned(), known);
            }
        }
        let (burst, every) = (self.burst, self.every);
        let bucket = self.current.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let earned = now.saturating_duration_since(bucket.at).as_secs_f64() / every.as_secs_f64();
        bucket.tokens = (bucket.tokens + earned).min(burst);
        bucket.at = now;
        bucket
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_then_refills() {
        let start = Instant::now();
        let mut buckets = Buckets::new(3, Duration::from_secs(2), 10);
        for _ in 0..3 {
            assert!(buckets.take("a", start).is_ok());
        }
        let wait = buckets.take("a", start).unwrap_err();
        assert_eq!(wait, Duration::from_secs(2));
        assert!(buckets.peek("a", start).is_err());
        assert!(buckets.take("b", start).is_ok(), "another client");
        assert!(buckets.take("a", start + Duration::from_secs(2)).is_ok());
        assert!(buckets.take("a", start + Duration::from_secs(2)).is_err());
    }

    #[test]
    fn the_table_never_holds_more_than_two_generations() {
        let now = Instant::now();
        let mut buckets = Buckets::new(1, Duration::from_secs(60), 100);
        for i in 0..10_000 {
            let _ = buckets.take(&format!("198.51.100.{i}"), now);
            assert!(buckets.len() <= 200, "{}", buckets.len());
        }
        // A recent client is still remembered.
        assert!(buckets.take("198.51.100.9999", now).is_err());
    }
}
