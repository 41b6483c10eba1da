//! The live sensor: capture thread running the engine, periodic batches into the spool, an uplink thread delivering them.
