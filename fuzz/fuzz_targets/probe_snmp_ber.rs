//! Fuzzes the SNMP BER response decoder and the product naming that reads
//! its values.

#![no_main]

use vigie_probe::protocols::infra::snmp::{self, ber};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(response) = ber::parse(data) {
        assert!(response.bindings.len() <= ber::MAX_BINDINGS);
        let object_id = match response.value(snmp::SYS_OBJECT_ID) {
            Some(ber::Value::Oid(arcs)) => Some(arcs.as_slice()),
            _ => None,
        };
        let descr = String::from_utf8_lossy(data);
        let _ = snmp::product(&descr, object_id);
        let _ = snmp::os(&descr);
    }
});
