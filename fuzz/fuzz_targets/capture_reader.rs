//! Fuzzes the capture reader: any bytes must give frames, a clean end or an
//! error, never a panic, an endless loop or an outsized frame.

#![no_main]

use vigie_sensor::capture::{CaptureReader, MAX_CAPLEN};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::new(data) else {
        return;
    };
    // Every frame consumes at least 12 bytes of input (a pcapng block), so
    // more turns than input bytes would mean the reader is looping.
    for _ in 0..=data.len() {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                assert!(frame.data.len() <= MAX_CAPLEN as usize);
                assert!(reader.offset() <= data.len() as u64);
            }
            Ok(None) => {
                assert!(matches!(reader.next_frame(), Ok(None)));
                return;
            }
            Err(error) => {
                assert!(error.offset() <= data.len() as u64);
                assert!(reader.next_frame().is_err());
                return;
            }
        }
    }
    panic!("the reader did not finish {} bytes", data.len());
});
