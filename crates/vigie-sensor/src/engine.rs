//! Placeholder while the module is written.
pub struct Engine;
