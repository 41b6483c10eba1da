//! Fuzzes the layer 2–4 decoder: the first byte picks the link type, the
//! rest is the frame. `decode` must never panic, and whatever it returns
//! borrows from the frame it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_sensor::decode::{self, LinkType, Transport};

const LINK_TYPES: [LinkType; 7] = [
    LinkType::Ethernet,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::RawIp,
    LinkType::Ipv4,
    LinkType::Ipv6,
    LinkType::Null,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, frame)) = data.split_first() else {
        return;
    };
    let link = LINK_TYPES[usize::from(selector) % LINK_TYPES.len()];
    if let Ok(packet) = decode::decode(link, frame) {
        let payload = match packet.transport {
            Transport::Tcp(segment) => segment.payload,
            Transport::Udp(datagram) => datagram.payload,
            _ => &[],
        };
        assert!(payload.len() < frame.len(), "a payload is inside its frame");
    }
});
