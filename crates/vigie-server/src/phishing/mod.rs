//! Phishing-awareness campaigns (issue 11): when their messages may leave
//! (`schedule`).

pub mod schedule;
