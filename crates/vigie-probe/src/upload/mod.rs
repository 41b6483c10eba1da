//! The probe's way to the observatory: the upload of the `vigie.probe/1`
//! document with a personal token, over HTTPS to the observatory named
//! (plain HTTP only to this machine, for tests), trusting only the
//! certificate chosen. The report for people (HTML, PDF, terminal) is
//! rendered by `vigie-docs`.
//!
//! What it must never do: send the personal token anywhere but to the
//! observatory named, or in clear over a network.

mod send;
mod trust;

pub use send::{ENDPOINT, UploadAnswer, UploadError, upload};
pub use trust::Trust;
