//! The campaigns' part of the configuration file (`[campaigns]`): where
//! the exercise mails seem to come from, when the purge comes, how a mail
//! scanner's fetch is told from a person's click, whose public holidays
//! are kept, and the optional DKIM signature.
//!
//! What it must not do: hold a secret itself (the DKIM key stays in its
//! own file, read when the relay is built).

use std::path::PathBuf;

use serde::Deserialize;

use super::schedule::Calendar;

/// `[campaigns]` in `vigie.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CampaignSettings {
    /// The domain of the exercise mails' shown senders
    /// (`support-messagerie@DOMAIN`); empty: the domain of `smtp.from`.
    /// A domain the territory owns, whose SPF lets the relay send.
    pub sender_domain: String,
    /// Days after a campaign's last day when its addresses, tokens and
    /// events are deleted (the agreement: everything collected is deleted
    /// at the end); only the aggregate figures stay.
    pub purge_after_days: u32,
    /// A link fetched this soon after the relay took the mail is a mail
    /// security scanner's, not a person's (seconds).
    pub scanner_window_seconds: u32,
    /// Whose public holidays no mail leaves on: `france`, or
    /// `alsace-moselle` (Good Friday and 26 December too).
    pub calendar: Calendar,
    /// Signs the exercise mails (RFC 6376) when set.
    pub dkim: Option<Dkim>,
}

/// `[campaigns.dkim]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dkim {
    /// The signing domain (`d=`), usually `sender_domain`.
    pub domain: String,
    /// The selector (`s=`): the key is published at
    /// `SELECTOR._domainkey.DOMAIN`.
    pub selector: String,
    /// The private key, PEM (RSA, PKCS#1 or PKCS#8). Relative to the
    /// config file.
    pub private_key_file: PathBuf,
}

impl Default for CampaignSettings {
    fn default() -> Self {
        CampaignSettings {
            sender_domain: String::new(),
            purge_after_days: 30,
            scanner_window_seconds: 30,
            calendar: Calendar::default(),
            dkim: None,
        }
    }
}

impl CampaignSettings {
    /// The shown sender's domain: `sender_domain`, else that of the relay's
    /// own address, else that of the public URL.
    pub fn domain(&self, smtp_from: Option<&str>, public_url: &str) -> String {
        if !self.sender_domain.trim().is_empty() {
            return self.sender_domain.trim().to_owned();
        }
        let from_domain = smtp_from
            .and_then(|from| from.rsplit_once('@'))
            .map(|(_, domain)| domain.trim_end_matches('>').trim().to_owned())
            .filter(|domain| !domain.is_empty());
        from_domain.unwrap_or_else(|| {
            let rest = public_url
                .split_once("://")
                .map_or(public_url, |(_, rest)| rest);
            rest.split(['/', ':'])
                .next()
                .filter(|host| !host.is_empty())
                .unwrap_or("vigie.invalid")
                .to_owned()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_domain_falls_back_on_the_relay_then_the_site() {
        let mut settings = CampaignSettings::default();
        assert_eq!(
            settings.domain(Some("Vigie <vigie@loire.fr>"), "https://x.fr"),
            "loire.fr"
        );
        assert_eq!(
            settings.domain(None, "https://vigie.loire.fr:8443/"),
            "vigie.loire.fr"
        );
        settings.sender_domain = "exercice.loire.fr".to_owned();
        assert_eq!(settings.domain(Some("a@b.fr"), ""), "exercice.loire.fr");
    }
}
