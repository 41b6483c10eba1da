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
    /// The territory's allowlists and their versions ("id.version ..."):
    /// changes whenever what the territory allows changes.
    territory_key: String,
}

impl Allowlists {
    pub(super) async fn load(db: &Db) -> Result<Allowlists, sqlx::Error> {
        let rows: Vec<(i64, i64, Option<String>, String)> = sqlx::query_as(
            "SELECT l.id, l.version, l.commune, v.content FROM lists l
             JOIN list_versions v ON v.list_id = l.id AND v.version = l.version
             WHERE l.kind = 'allow' ORDER BY l.id",
        )
        .fetch_all(db.read())
        .await?;
        let mut texts: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
        let mut territory_key = String::new();
        for (id, version, commune, content) in rows {
            if commune.is_none() {
                territory_key.push_str(&format!("{id}.{version} "));
            }
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
            territory_key,
        })
    }

    /// What the territory allows, as a key that changes with it.
    pub(super) fn territory_key(&self) -> &str {
        &self.territory_key
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
