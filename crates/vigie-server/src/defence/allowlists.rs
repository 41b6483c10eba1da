//! The allowlists the list's job checks each source against: the
//! territory's, and each commune's own (an address a commune allowlisted
//! is never evidence from that commune).
//!
//! What it must not do: read an allowlist's kind from anything but the
//! `lists` table's `kind`.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use vigie_lists::Intel;

use crate::db::Db;

/// The current allowlists: the territory's, and each commune's.
pub(super) struct Allowlists {
    territory: Intel,
    communes: HashMap<String, Intel>,
}

impl Allowlists {
    pub(super) async fn load(db: &Db) -> Result<Allowlists, sqlx::Error> {
        let rows: Vec<(Option<String>, String)> = sqlx::query_as(
            "SELECT l.commune, v.content FROM lists l
             JOIN list_versions v ON v.list_id = l.id AND v.version = l.version
             WHERE l.kind = 'allow'",
        )
        .fetch_all(db.read())
        .await?;
        let mut texts: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
        for (commune, content) in rows {
            texts.entry(commune).or_default().push(content);
        }
        let build = |texts: &[String]| {
            let mut builder = Intel::builder();
            for text in texts {
                builder.add_allowlist(text);
            }
            builder.build()
        };
        let territory = build(texts.get(&None).map_or(&[][..], Vec::as_slice));
        let communes = texts
            .iter()
            .filter_map(|(commune, texts)| Some((commune.clone()?, build(texts))))
            .collect();
        Ok(Allowlists {
            territory,
            communes,
        })
    }

    /// Whether `ip` is on the territory's allowlists (never on the list
    /// for anyone).
    pub(super) fn covers_territory(&self, ip: IpAddr) -> bool {
        self.territory.is_allowlisted(ip)
    }

    /// Whether `ip` is on the territory's or `commune`'s allowlists (never
    /// evidence from that commune).
    pub(super) fn covers(&self, commune: &str, ip: IpAddr) -> bool {
        self.covers_territory(ip)
            || self
                .communes
                .get(commune)
                .is_some_and(|intel| intel.is_allowlisted(ip))
    }
}
