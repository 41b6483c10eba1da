//! The box in production: live capture, persisted state, on-disk spool,
//! HTTPS uplink to the observatory, lists from the observatory, filter
//! mode. The engine it runs is the same as for `--pcap`, unchanged.
//! libpcap is loaded at run time when the capture opens (`vigie-pcap`):
//! nothing else here, nor `--pcap`, needs it to build or run.

pub mod box_config;
pub mod capture;
pub mod checkpoint;
pub mod daemon;
pub mod filter;
pub mod lists;
pub mod privilege;
pub mod spool;
pub mod territory;
pub mod uplink;
