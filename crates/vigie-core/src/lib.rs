//! Vigie's shared vocabulary: attack categories, severities, directions, the
//! versioned `vigie.report/1` wire format that sensors send to the
//! observatory, and the Europe/Paris local day every count is filed under.
//!
//! This crate does no I/O: it is linked by the sensor, the server and the
//! probe alike, so it must stay small and dependency-light.

pub mod day;
pub mod defence;
pub mod heartbeat;
pub mod lists;
pub mod probe;
pub mod report;

pub use day::{LOCAL_TZ, local_day, local_day_start_ms};
pub use heartbeat::{HEARTBEAT_SCHEMA, Heartbeat, ListVersion};
pub use report::{
    BlockedCount, Category, DailyCount, DefendedCount, Direction, Incident, REPORT_SCHEMA, Report,
    ReportError, Severity,
};
