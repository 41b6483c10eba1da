//! SSH: the server's identification line (product, version, the
//! distribution's build), the versions of the CVE table (regreSSHion) and,
//! when the run allows it, trivial passwords.
//!
//! It reads the banner and closes; the password trials authenticate and
//! disconnect without ever opening a channel: nothing runs on the server.

pub mod banner;
pub mod password;

use tokio::io::AsyncWriteExt;
use vigie_core::probe::Service;

use self::banner::{Banner, BannerError, parse_banner};
use self::password::Outcome;
use super::conn;
use super::vulns::{Observed, VulnTable};
use crate::catalog;
use crate::target::{Context, PortResult, Target};

/// SSH's port, and the usual alternate.
pub const PORTS: &[u16] = &[22, 2222];

/// An SSH server speaks first with `SSH-` (RFC 4253 §4.2); some send
/// other lines before, which the scanner's first bytes may not reach.
pub fn matches_banner(first_bytes: &[u8]) -> bool {
    first_bytes.starts_with(b"SSH-")
}

/// Examines SSH on `target`: `None` if no identification line comes.
pub async fn examine(target: &Target, ctx: &Context) -> Option<PortResult> {
    let banner = read_banner(target, ctx).await?;
    let (product, version) = banner.product();
    let mut result = PortResult::service(Service {
        port: target.port,
        transport: target.transport,
        name: "ssh".to_owned(),
        product: Some(product.clone()),
        version: version.clone(),
        tls: false,
        banner: Some(banner.line.clone()),
    });
    result.os = banner.os();
    if let Some(version) = &version {
        let observed = Observed {
            product: &product,
            version,
            build: banner.comments.as_deref(),
            source: "la bannière SSH",
        };
        result
            .findings
            .extend(VulnTable::builtin().findings(&observed, target));
    }
    if let Outcome::Accepted { user, attempts } = password::try_passwords(target, ctx).await {
        let evidence = if attempts == 0 {
            format!("compte « {user} » : connexion SSH acceptée sans mot de passe")
        } else {
            format!(
                "compte « {user} » : mot de passe trivial accepté par SSH (essai {attempts} sur {})",
                ctx.password_budget
            )
        };
        result
            .findings
            .push(catalog::finding("password.ssh", target, evidence));
    }
    Some(result)
}

/// Connects, reads the identification line and closes without answering.
async fn read_banner(target: &Target, ctx: &Context) -> Option<Banner> {
    let mut stream = conn::tcp(target, ctx.timeout).await.ok()?;
    let complete = |bytes: &[u8]| !matches!(parse_banner(bytes), Err(BannerError::Incomplete));
    let bytes = conn::receive(&mut stream, ctx.timeout, ctx.timeout * 2, complete)
        .await
        .ok()?;
    let _ = tokio::time::timeout(ctx.timeout, stream.shutdown()).await;
    match parse_banner(&bytes) {
        Ok(banner) => Some(banner),
        Err(error) => {
            tracing::debug!(%target.addr, target.port, %error, "no SSH banner");
            None
        }
    }
}
