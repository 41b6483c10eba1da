//! Offline analysis of a capture file: the engine run over every frame.

use std::path::Path;

use vigie_core::Report;

use crate::capture::{CaptureError, CaptureReader};
use crate::engine::{Engine, Settings};

/// The report of a capture, and the error that stopped the reading early,
/// if any: a truncated or corrupt file still gives the report of every
/// packet before the damage.
pub struct Analysis {
    pub report: Report,
    pub stopped_by: Option<CaptureError>,
}

/// Analyses the capture at `path`. Fails only when the file cannot be
/// opened or is not a capture at all.
pub fn analyze_file(path: &Path, settings: Settings) -> Result<Analysis, CaptureError> {
    let mut reader = CaptureReader::open(path)?;
    let mut engine = Engine::new(settings);
    let stopped_by = engine.read_capture(&mut reader).err();
    Ok(Analysis {
        report: engine.finish(),
        stopped_by,
    })
}
