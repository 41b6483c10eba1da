//! The sensor engine on captures, and the live box's lists and uplink.
//!
//! One test binary for the crate's integration tests: each module was a
//! binary of its own, and linking each against every dependency cost CI
//! minutes and gigabytes.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

mod engine;
mod live_lists;
mod live_uplink;
