//! Phishing-awareness campaigns (issue 11): when their messages may leave
//! (`schedule`) and whom they go to (`targets`).

pub mod schedule;
pub mod targets;
