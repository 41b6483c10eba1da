//! What gzip (tower-http's compression layer, in [`crate::router`]) may
//! compress: answers larger than [`ABOVE_BYTES`], except those already
//! compressed or meant for a PDF reader, and those a handler marks
//! [`Uncompressed`].
//!
//! What it must not do: spend more CPU than the bytes it saves are worth.
//! zlib sets up its whole state (tens of kilobytes, zeroed) for every
//! answer: for a page of a few kilobytes that setup is most of the cost.

use axum::body::HttpBody;
use axum::http::Response;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};

/// Answers smaller than this are sent as they are: gzip would save
/// little and cost a little CPU on every small API answer.
pub const ABOVE_BYTES: u16 = 2048;

/// A response extension: send this answer as it is, whatever its size.
/// For small answers served in bulk, where gzip costs more than it saves
/// (the phishing exercise's sign-in page, `phishing::links`).
#[derive(Clone, Copy, Debug)]
pub struct Uncompressed;

/// The layer's predicate.
pub fn predicate() -> impl Predicate {
    SizeAbove::new(ABOVE_BYTES)
        // Already compressed, or meant for a PDF reader.
        .and(NotForContentType::new("application/pdf"))
        .and(NotForContentType::new("application/gzip"))
        .and(NotForContentType::const_new("image/"))
        .and(NotMarked)
}

/// Compresses what is not marked [`Uncompressed`].
#[derive(Clone, Copy)]
struct NotMarked;

impl Predicate for NotMarked {
    fn should_compress<B>(&self, response: &Response<B>) -> bool
    where
        B: HttpBody,
    {
        response.extensions().get::<Uncompressed>().is_none()
    }
}
