//! The probe's checks against real and scripted services, its scan and its reports.
//!
//! One test binary for the crate's integration tests: each module was a
//! binary of its own, and linking each against every dependency cost CI
//! minutes and gigabytes.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

mod infra;
mod remote;
mod scan;
mod support;
mod upload;
mod web;
