//! Politeness: at most so many connections at once, and new connections no
//! faster than a rate, whatever the number of hosts or ports.
//!
//! What it must not do: let a connection start without a slot.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Concurrency and rate limit shared by discovery and the port scan.
#[derive(Debug)]
pub struct Pacer {
    permits: Arc<Semaphore>,
    next: Mutex<Instant>,
    interval: Duration,
}

impl Pacer {
    /// At most `connections` at once, at most `rate` new ones per second.
    pub fn new(connections: usize, rate: u32) -> Pacer {
        Pacer {
            permits: Arc::new(Semaphore::new(connections.max(1))),
            next: Mutex::new(Instant::now()),
            interval: Duration::from_secs(1) / rate.max(1),
        }
    }

    /// Waits for a free connection and for the rate; the connection may
    /// start now and lasts as long as the permit.
    pub async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        let permit = Arc::clone(&self.permits).acquire_owned().await.ok()?;
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(Instant::now());
            *next = at + self.interval;
            at
        };
        tokio::time::sleep_until(at).await;
        Some(permit)
    }

    /// Runs `work` on every item, each in its own task holding a slot, and
    /// keeps the `Some` answers. Finished tasks are reaped as it goes, so
    /// memory stays bounded by the number of slots, not of items.
    pub async fn each<I, T, F, Fut>(&self, items: I, work: F) -> Vec<T>
    where
        I: IntoIterator,
        F: Fn(I::Item) -> Fut,
        Fut: Future<Output = Option<T>> + Send + 'static,
        T: Send + 'static,
    {
        let mut tasks = JoinSet::new();
        let mut found = Vec::new();
        for item in items {
            let Some(permit) = self.slot().await else {
                break;
            };
            let job = work(item);
            tasks.spawn(async move {
                let answer = job.await;
                drop(permit);
                answer
            });
            while let Some(done) = tasks.try_join_next() {
                found.extend(reaped(done));
            }
        }
        while let Some(done) = tasks.join_next().await {
            found.extend(reaped(done));
        }
        found
    }
}

fn reaped<T>(done: Result<Option<T>, tokio::task::JoinError>) -> Option<T> {
    match done {
        Ok(answer) => answer,
        Err(error) => {
            tracing::error!(%error, "scan task failed");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn never_more_than_the_slots_at_once() {
        let pacer = Pacer::new(3, 10_000);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let found = pacer
            .each(0..40u32, |n| {
                let (running, peak) = (Arc::clone(&running), Arc::clone(&peak));
                async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    (n % 2 == 0).then_some(n)
                }
            })
            .await;
        assert_eq!(found.len(), 20);
        assert!(peak.load(Ordering::SeqCst) <= 3);
    }
}
