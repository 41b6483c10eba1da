//! Trivial passwords on a page protected by HTTP basic authentication
//! (RFC 7617): the same `GET` with an `Authorization` field, at most
//! `ctx.password_budget` passwords per account, `ctx.trial_pause` apart,
//! stopping at the first success. Only `GET`: nothing is ever changed.

use base64::Engine;
use tracing::debug;

use super::client::{self, Scheme};
use crate::protocols::web::trials::by_account;
use crate::target::{Context, Target};

/// The account whose trivial password opened `path`, and after how many
/// tries; `None` if none did, trials are off, or the server stopped
/// answering (trials then stop: a struggling service is left alone).
pub async fn try_passwords(
    target: &Target,
    ctx: &Context,
    scheme: &Scheme,
    path: &str,
) -> Option<(String, usize)> {
    if !ctx.try_passwords {
        return None;
    }
    let mut first = true;
    for (user, passwords) in by_account(&ctx.credentials, ctx.password_budget) {
        for (index, password) in passwords.iter().enumerate() {
            if !first {
                tokio::time::sleep(ctx.trial_pause).await;
            }
            first = false;
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            let authorization = format!("Basic {token}");
            match client::get(target, ctx, scheme, path, Some(&authorization)).await {
                // A 403 may mean "right password, missing role" (Tomcat),
                // or not: only a page actually served counts.
                Ok(response) if (200..400).contains(&response.head.status) => {
                    return Some((user.to_owned(), index + 1));
                }
                Ok(_) => {}
                Err(error) => {
                    debug!(%target.addr, target.port, %error, "basic-auth trials stopped");
                    return None;
                }
            }
        }
    }
    None
}
