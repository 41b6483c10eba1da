//! The protocol modules: each examines the open ports it knows (identifies
//! the service from its banner or handshake, then runs its checks) and
//! returns a [`crate::target::PortResult`]. Parsers of received bytes are
//! pure functions, fuzzed.
//!
//! Each family module exposes `claims(port, transport) -> bool`,
//! `claims_banner(first_bytes) -> bool` and
//! `examine(target, ctx) -> Option<PortResult>` routing to its protocols.

pub mod infra;
pub mod remote;
pub mod web;
