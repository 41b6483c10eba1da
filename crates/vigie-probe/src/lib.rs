//! The network probe ("sonde réseau"): plugged into a commune's LAN for a
//! scan period, it finds the live hosts of its scope, their services, and
//! the weaknesses of passwords, workstations and servers, and ranks the ten
//! most critical with the action to take.
//!
//! What it must never do: send a packet outside its scope, run outside the
//! agreement's working hours (unless `--lab`), change or lock anything on a
//! target (password trials stay under a per-account budget), or write a
//! password that worked into its results.

pub mod bytes;
pub mod catalog;
pub mod credentials;
pub mod protocols;
pub mod rank;
pub mod scan;
pub mod scope;
pub mod target;
pub mod trials;
pub mod upload;
