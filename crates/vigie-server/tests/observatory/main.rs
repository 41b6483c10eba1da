//! The observatory over HTTP, as browsers, scripts and sensors use it.
//!
//! One test binary for the crate's integration tests: each module was a
//! binary of its own, and linking each against every dependency cost CI
//! minutes and gigabytes.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

mod access;
mod accounts;
mod agreements;
mod audits;
mod browser;
mod calendar;
mod campaign_pages;
mod campaigns;
mod common;
mod credentials;
mod crisis;
mod cybermeteo;
mod defence;
mod elearning;
mod error_pages;
mod exports;
mod hardening;
mod heartbeat;
mod ingest_bounds;
mod jobs;
mod kit;
mod lists;
mod mail;
mod migrations;
mod password_links;
mod pipeline;
mod probe_scope;
mod probes;
mod register;
mod relay_session;
mod risk;
mod risk_sharing;
mod sensors;
mod sign_in_limits;
mod territory;
mod tls;
