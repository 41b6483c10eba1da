//! Phishing-awareness campaigns (issue 11): scenarios as data, sent to a commune's agents and élus, keeping only what the agreement lists.
pub mod scenarios;
