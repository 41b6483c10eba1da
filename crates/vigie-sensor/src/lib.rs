//! The sensor's engine: reads packets (a capture file, or a live interface
//! through libpcap loaded at run time), decodes them, qualifies attacks
//! with independent detectors, and turns them into a `vigie.report/1`
//! report.
//!
//! What it must never do: let a payload, a URI, a header value, an internal
//! (home-net) address or a domain that is not on a threat list reach a
//! report. The only module that builds report incidents is [`incidents`],
//! and it only takes the external address, ports and counts.

pub mod analyze;
pub mod capture;
pub mod config;
pub mod decode;
pub mod detect;
pub mod engine;
pub mod flow;
pub mod homenet;
pub mod incidents;
pub mod live;
pub mod signatures;
pub mod summary;
pub mod synth;

pub use config::Config;
pub use engine::Engine;
