//! Fuzzes the whole sensor path: capture bytes → reader → decoders →
//! detectors → report. Any input must give a valid report, never a panic.

#![no_main]

use std::sync::{Arc, OnceLock};

use vigie_lists::Intel;
use vigie_sensor::capture::CaptureReader;
use vigie_sensor::engine::{Engine, Settings};
use vigie_sensor::signatures::Signatures;

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

fn config() -> vigie_sensor::Config {
    static CONFIG: OnceLock<vigie_sensor::Config> = OnceLock::new();
    CONFIG.get_or_init(vigie_sensor::Config::default).clone()
}

/// Built once: compiling the automaton per input would leave no time to fuzz.
fn signatures() -> Arc<Signatures> {
    static SIGNATURES: OnceLock<Arc<Signatures>> = OnceLock::new();
    SIGNATURES
        .get_or_init(|| Arc::new(Signatures::builtin()))
        .clone()
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::new(data) else {
        return;
    };
    let mut engine = Engine::new(Settings {
        config: config(),
        home: Default::default(),
        intel: intel(),
        signatures: signatures(),
        host_key: [0; 32],
    });
    let _ = engine.read_capture(&mut reader);
    let report = engine.finish();
    assert!(report.validate().is_ok(), "{:?}", report.validate());
});
