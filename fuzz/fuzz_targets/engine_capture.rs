//! Fuzzes the whole sensor path: capture bytes → reader → decoders →
//! detectors → report. Any input must give a valid report, never a panic.

#![no_main]

use std::sync::{Arc, OnceLock};

use vigie_sensor::capture::CaptureReader;
use vigie_sensor::engine::{Engine, Settings};
use vigie_sensor::intel::Intel;

fn intel() -> Arc<Intel> {
    static INTEL: OnceLock<Arc<Intel>> = OnceLock::new();
    INTEL
        .get_or_init(|| {
            let mut builder = Intel::builder();
            builder.add_list("fuzz", "203.0.113.0/24\n198.51.100.7\nevil.example\n");
            Arc::new(builder.build())
        })
        .clone()
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::new(data) else {
        return;
    };
    let mut engine = Engine::new(Settings {
        intel: intel(),
        host_key: [0; 32],
        ..Settings::default()
    });
    let _ = engine.read_capture(&mut reader);
    let report = engine.finish();
    assert!(report.validate().is_ok(), "{:?}", report.validate());
});
