//! The box's configuration file (`/etc/vigie/sensor.toml`): commune, observatory, trust, capture, spool, mode, detection thresholds.
