//! The sensor's only link to the outside: HTTPS (rustls) to its observatory, with retries, backoff and jitter; enrolment, batches, heartbeats, lists.
