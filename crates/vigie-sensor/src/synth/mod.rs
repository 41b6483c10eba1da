//! Synthetic traffic: well-formed frames and application messages built
//! from scratch, for the tests, the demo's generated captures and the
//! benchmark. Never used on the analysis path.

pub mod app;
mod frame;

pub use frame::FrameBuilder;
pub mod day;
pub mod traffic;
