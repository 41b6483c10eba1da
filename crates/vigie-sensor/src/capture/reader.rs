//! Placeholder while the module is written.
pub struct CaptureReader;
pub struct Frame;
#[derive(Debug)]
pub struct CaptureError;
