//! Fuzzes the MongoDB OP_MSG reply and BSON decoders: any bytes give a
//! document or an error, never a panic or unbounded recursion.

#![no_main]

use vigie_probe::protocols::infra::mongodb::{self, bson};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(document) = mongodb::parse_reply(data) {
        let _ = document.is_ok();
    }
    if let Ok((document, length)) = bson::parse(data) {
        assert!(length <= data.len());
        // What was decoded encodes again without panicking.
        let _ = document.encode();
    }
});
