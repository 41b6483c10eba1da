//! The territory's attacking sources as a STIX 2.1 bundle (OASIS STIX
//! 2.1, sections 4 to 6), for the regional CSIRT: an `identity` for the
//! territory, and per address an `indicator` (pattern `[ipv4-addr:value
//! = '…']` or `ipv6-addr`) with a `sighting` of it by the territory
//! (first and last seen, incidents, communes reached). Pure: the same
//! sources and range give the same bytes.
//!
//! Identifiers are UUIDv5 (RFC 9562, section 5.5; STIX 2.1 section 2.9
//! allows any RFC 4122 UUID for domain objects): the identity's from the
//! observatory's public address, an indicator's from the identity and the
//! address, so a re-export names the same address with the same id and a
//! CSIRT's platform updates it instead of adding a copy.
//!
//! What it must never do: name a commune, carry an internal address or
//! an internal host's hash (only [`Source`]s leave, already filtered), or
//! vary with anything but its inputs.

use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use super::sources::Source;
use crate::cybermeteo::category_label;

/// The namespace STIX 2.1 gives deterministic identifiers (section
/// 2.9), under which the territory's identity is named.
const STIX_NAMESPACE: [u8; 16] = [
    0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c, 0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7,
];
/// The identity's `created`: fixed, since every export describes the
/// same territory and a changing date would make each a new version.
const IDENTITY_CREATED: &str = "2025-01-01T00:00:00.000Z";
/// The highest `count` a sighting may carry (section 5.6).
const MAX_SIGHTING_COUNT: i64 = 999_999_999;

/// Who publishes the bundle.
pub struct Publisher<'a> {
    /// The territory's name (`branding.territory_name`).
    pub name: &'a str,
    /// The observatory's public address: names the identity.
    pub public_url: &'a str,
}

/// The bundle of `sources` seen from `from` to `to` (`YYYY-MM-DD`).
pub fn bundle(publisher: &Publisher<'_>, sources: &[Source], from: &str, to: &str) -> Value {
    let namespace = uuid5(&STIX_NAMESPACE, &format!("vigie:{}", publisher.public_url));
    let identity = format!("identity--{}", text(&namespace));
    let mut objects = vec![json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": identity,
        "created": IDENTITY_CREATED,
        "modified": IDENTITY_CREATED,
        "name": publisher.name,
        "description": "Observatoire Vigie du territoire : capteurs des mairies des petites communes.",
        "identity_class": "organization",
        "sectors": ["government-local"],
    })];
    for source in sources {
        objects.extend(indicator(&namespace, &identity, source, from, to));
    }
    json!({
        "type": "bundle",
        "id": format!("bundle--{}", text(&uuid5(&namespace, &format!("bundle:{from}:{to}")))),
        "objects": objects,
    })
}

/// A source's indicator and its sighting by the territory.
fn indicator(namespace: &[u8; 16], identity: &str, s: &Source, from: &str, to: &str) -> [Value; 2] {
    let address = s.address.to_string();
    let kind = if s.address.is_ipv4() {
        "ipv4-addr"
    } else {
        "ipv6-addr"
    };
    let id = format!(
        "indicator--{}",
        text(&uuid5(namespace, &format!("indicator:{address}")))
    );
    let (first, last) = (timestamp(s.first_seen_ms), timestamp(s.last_seen_ms));
    let categories: Vec<String> = s
        .categories
        .iter()
        .map(|(c, n)| format!("{} ({n})", category_label(c)))
        .collect();
    let mut description = format!(
        "Source d'attaques vue par les capteurs de {} du territoire du {from} au {to} : {}.",
        communes(s.communes),
        categories.join(", ")
    );
    if s.outbound > 0 {
        description.push_str(&format!(
            " Contactée {} fois par une machine d'une mairie (compromission possible).",
            s.outbound
        ));
    }
    let indicator = json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": id,
        "created_by_ref": identity,
        "created": first,
        "modified": last,
        "name": format!("Source d'attaques {address}"),
        "description": description,
        "indicator_types": ["malicious-activity"],
        "pattern": format!("[{kind}:value = '{address}']"),
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": first,
        "labels": s.categories.keys().collect::<Vec<_>>(),
        "x_vigie_communes": s.communes,
        "x_vigie_incidents": s.incidents,
        "x_vigie_outbound": s.outbound,
    });
    let sighting = json!({
        "type": "sighting",
        "spec_version": "2.1",
        "id": format!(
            "sighting--{}",
            text(&uuid5(namespace, &format!("sighting:{address}:{from}:{to}")))
        ),
        "created_by_ref": identity,
        "created": last,
        "modified": last,
        "description": format!("Vue par les capteurs de {}.", communes(s.communes)),
        "first_seen": first,
        "last_seen": last,
        "count": s.incidents.clamp(0, MAX_SIGHTING_COUNT),
        "sighting_of_ref": id,
        "where_sighted_refs": [identity],
        "x_vigie_communes": s.communes,
    });
    [indicator, sighting]
}

fn communes(n: usize) -> String {
    if n == 1 {
        "1 commune".to_owned()
    } else {
        format!("{n} communes")
    }
}

/// A STIX timestamp: UTC, to the millisecond (section 3.2).
fn timestamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// A name-based UUID, version 5 (RFC 9562, section 5.5): SHA-1 of the
/// namespace and the name, version and variant bits set.
fn uuid5(namespace: &[u8; 16], name: &str) -> [u8; 16] {
    let mut hash = Sha1::new();
    hash.update(namespace);
    hash.update(name.as_bytes());
    let digest = hash.finalize();
    let mut uuid = [0u8; 16];
    uuid.copy_from_slice(&digest[..16]);
    uuid[6] = (uuid[6] & 0x0f) | 0x50;
    uuid[8] = (uuid[8] & 0x3f) | 0x80;
    uuid
}

/// `8-4-4-4-12` lowercase hexadecimal.
fn text(uuid: &[u8; 16]) -> String {
    let hex: String = uuid.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// RFC 9562's namespace for DNS names.
    const DNS: [u8; 16] = [
        0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30,
        0xc8,
    ];

    #[test]
    fn uuid5_matches_the_rfc_s_example() {
        // RFC 9562, appendix A.4.
        assert_eq!(
            text(&uuid5(&DNS, "www.example.com")),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2"
        );
    }

    fn source(address: &str) -> Source {
        Source {
            address: address.parse().unwrap(),
            categories: BTreeMap::from([("scan".to_owned(), 3), ("brute_force".to_owned(), 1)]),
            incidents: 4,
            outbound: 0,
            communes: 2,
            first_seen_ms: 1_767_225_600_000,
            last_seen_ms: 1_767_312_000_123,
        }
    }

    #[test]
    fn ids_are_stable_and_patterns_name_the_address() {
        let publisher = Publisher {
            name: "Loire",
            public_url: "https://observatoire.example.fr",
        };
        let sources = [source("45.155.205.233"), source("2a01:4f8::1")];
        let one = bundle(&publisher, &sources, "2026-01-01", "2026-01-31");
        let again = bundle(&publisher, &sources[..1], "2026-01-01", "2026-02-28");
        assert_eq!(one["objects"][1]["id"], again["objects"][1]["id"]);
        assert_eq!(one["objects"][0]["id"], again["objects"][0]["id"]);
        assert_ne!(one["id"], again["id"], "another range, another bundle");
        assert_eq!(
            one["objects"][1]["pattern"],
            "[ipv4-addr:value = '45.155.205.233']"
        );
        assert_eq!(
            one["objects"][3]["pattern"],
            "[ipv6-addr:value = '2a01:4f8::1']"
        );
        assert_eq!(one["objects"][1]["valid_from"], "2026-01-01T00:00:00.000Z");
        assert_eq!(one["objects"][2]["last_seen"], "2026-01-02T00:00:00.123Z");
        assert_eq!(
            one["objects"][2]["sighting_of_ref"],
            one["objects"][1]["id"]
        );
        let description = one["objects"][1]["description"].as_str().unwrap();
        assert!(
            description.contains("2 communes") && description.contains("Balayage de ports (3)"),
            "{description}"
        );
    }
}
