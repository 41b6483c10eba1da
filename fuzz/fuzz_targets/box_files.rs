//! Fuzzes what the live box reads from its own disk and from its
//! observatory: the configuration (TOML), the checkpoint, a spooled batch,
//! the lists manifest and a heartbeat. Any bytes must give a value or an
//! error, never a panic, and what parses must survive a round trip.

#![no_main]

use std::path::Path;

use vigie_core::lists::ListManifest;
use vigie_core::{Heartbeat, Report};
use vigie_sensor::live::box_config::BoxConfig;
use vigie_sensor::live::checkpoint::SensorState;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(config) = BoxConfig::from_toml(&text, Path::new("/etc/vigie/sensor.toml"))
        && let Ok(written) = config.to_toml()
    {
        let again = BoxConfig::from_toml(&written, Path::new("/etc/vigie/sensor.toml"));
        assert!(
            again.is_ok(),
            "a written configuration must load: {written}"
        );
    }
    if let Ok(state) = serde_json::from_slice::<SensorState>(data) {
        let bytes = serde_json::to_vec(&state).unwrap();
        assert!(serde_json::from_slice::<SensorState>(&bytes).is_ok());
    }
    if let Ok(report) = serde_json::from_slice::<Report>(data) {
        let _ = report.validate();
    }
    if let Ok(manifest) = serde_json::from_slice::<ListManifest>(data) {
        let _ = manifest.validate();
    }
    if let Ok(heartbeat) = serde_json::from_slice::<Heartbeat>(data) {
        let _ = heartbeat.validate();
    }
});
