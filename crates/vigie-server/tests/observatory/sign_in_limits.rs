//! Sign-in under attack (issue 14): a flood of sign-ins, attempts sent
//! together, strangers trying an account, forms from a sibling site, and
//! the passwords an attacker tries first. Each test is named after the
//! finding it guards and failed before its fix.

use std::net::{IpAddr, Ipv4Addr};

use futures_util::future::join_all;
use reqwest::StatusCode;
use reqwest::header::{RETRY_AFTER, SET_COOKIE};
use vigie_server::ServerSettings;
use vigie_server::accounts::{self, AccountError, Role};

use crate::common::{TestServer, post_sign_in as sign_in, sign_in_as};

const OWNER: &str = "secretariat@mairie-exemple.fr";
const PASSWORD: &str = "la cloche sonne à midi";

async fn server_with_owner() -> TestServer {
    let server = TestServer::start().await;
    accounts::add_user(&server.db, OWNER, Role::Admin, None, PASSWORD)
        .await
        .unwrap();
    server
}

/// A browser-like client whose connections come from `ip` (any
/// 127.0.0.0/8 address is this machine's loopback).
fn client_from(ip: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(ip))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The process's resident memory, in MiB.
fn resident_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024
}

#[tokio::test]
async fn sign_in_flood_keeps_memory_flat() {
    let server = server_with_owner().await;
    // Warm up: the hashing workers allocate their memory once.
    assert_eq!(
        sign_in(&server.browser(), &server, OWNER, "pas le bon mot de passe")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let before = resident_mib();
    // 48 at once, unknown addresses, from as many clients (so that the
    // per-client limit does not hide the hashing).
    let attempts = (0..48u8).map(|i| {
        let server = &server;
        async move {
            let client = client_from(Ipv4Addr::new(127, 0, 3, i + 1));
            let email = format!("inconnu{i}@example.fr");
            sign_in(&client, server, &email, "un essai quelconque").await
        }
    });
    let responses = join_all(attempts).await;
    let after = resident_mib();
    for response in &responses {
        let status = response.status();
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status}"
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(response.headers().get(RETRY_AFTER).is_some());
        }
    }
    // Before the fix: about 19.5 MiB per attempt, 900 MiB for 48. Other
    // tests share this process, hence the margin.
    assert!(
        after.saturating_sub(before) < 300,
        "resident memory grew from {before} MiB to {after} MiB"
    );
    // The server still answers, and the owner still signs in.
    assert_eq!(
        sign_in(&server.browser(), &server, OWNER, PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn sign_in_rate_limit_is_not_raced() {
    let server = server_with_owner().await;
    let max = ServerSettings::default().login_max_failures;
    let client = server.browser();
    let wrong = (0..20).map(|_| sign_in(&client, &server, OWNER, "mauvais mot de passe"));
    let statuses: Vec<StatusCode> = join_all(wrong).await.iter().map(|r| r.status()).collect();
    let tried = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(tried, usize::try_from(max).unwrap(), "{statuses:?}");
    assert_eq!(refused, 20 - tried, "{statuses:?}");

    // 29 wrong and the right one together, from another client: no more
    // than the limit are even tried.
    let other = client_from(Ipv4Addr::new(127, 0, 4, 1));
    let mut passwords = vec!["mauvais mot de passe"; 29];
    passwords.insert(17, PASSWORD);
    let together = passwords.iter().map(|p| sign_in(&other, &server, OWNER, p));
    let statuses: Vec<StatusCode> = join_all(together)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    let tried = statuses
        .iter()
        .filter(|s| **s != StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(tried <= usize::try_from(max).unwrap(), "{statuses:?}");
}

#[tokio::test]
async fn a_stranger_cannot_lock_the_owner_out() {
    let server = server_with_owner().await;
    let settings = ServerSettings::default();
    // Strangers from several addresses use up what they may try.
    for stranger in 1..=3u8 {
        let client = client_from(Ipv4Addr::new(127, 0, 5, stranger));
        for _ in 0..settings.login_max_failures + 2 {
            let status = sign_in(&client, &server, OWNER, "devine").await.status();
            assert!(
                status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS,
                "{status}"
            );
        }
        let status = sign_in(&client, &server, OWNER, PASSWORD).await.status();
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "stranger {stranger}");
    }
    // The owner, from their own address, is at most slowed down: told how
    // long to wait, never more than the longest backoff.
    let owner = client_from(Ipv4Addr::new(127, 0, 6, 1));
    let response = sign_in(&owner, &server, OWNER, PASSWORD).await;
    if response.status() == StatusCode::TOO_MANY_REQUESTS {
        let wait: i64 = response.headers()[RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(wait <= settings.login_max_backoff_secs, "{wait}");
        assert!(response.text().await.unwrap().contains("réessayez dans"));
        // Once the wait has passed (moved back in the database rather
        // than slept through), the owner signs in.
        sqlx::query("UPDATE login_limits SET next_at = 0")
            .execute(&server.db.pool)
            .await
            .unwrap();
        let response = sign_in(&owner, &server, OWNER, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    } else {
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    // One client cannot try every account either.
    let sprayer = client_from(Ipv4Addr::new(127, 0, 7, 1));
    let mut last = StatusCode::OK;
    for i in 0..settings.login_max_per_client + 1 {
        let email = format!("agent{i}@mairie-exemple.fr");
        last = sign_in(&sprayer, &server, &email, "azerty").await.status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    // Nothing of the addresses is stored in the counters.
    let keys: Vec<String> = sqlx::query_scalar("SELECT key FROM login_limits")
        .fetch_all(&server.db.pool)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    assert!(
        keys.iter()
            .all(|k| k.len() == 64 && !k.contains('@') && !k.contains("127."))
    );
}

#[tokio::test]
async fn sign_in_requires_the_exact_origin() {
    let server = server_with_owner().await;
    let own = server.url.trim_end_matches('/').to_owned();
    let port = own.rsplit(':').next().unwrap().to_owned();
    for (site, origin) in [
        ("same-site", format!("http://blog.127.0.0.1:{port}")),
        (
            "same-site",
            format!("http://127.0.0.1:{}", port.parse::<u16>().unwrap() + 1),
        ),
        ("cross-site", own.clone()),
    ] {
        let response = server
            .browser()
            .post(server.at("/connexion"))
            .header("sec-fetch-site", site)
            .header("origin", &origin)
            .form(&[("email", OWNER), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{site} {origin}");
        assert!(response.headers().get(SET_COOKIE).is_none());
    }
    let response = server
        .browser()
        .post(server.at("/connexion"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", &own)
        .form(&[("email", OWNER), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn obvious_passwords_are_refused() {
    let server = TestServer::start().await;
    for (password, expected) in [
        ("aaaaaaaaaaaa", "répétitif"),
        ("azertyuiop2026", "courant"),
        ("maire.dupont@exemple.fr", "adresse e-mail"),
        ("Maire.Dupont-2026", "adresse e-mail"),
    ] {
        let error = accounts::add_user(
            &server.db,
            "maire.dupont@exemple.fr",
            Role::Admin,
            None,
            password,
        )
        .await
        .err()
        .unwrap();
        assert!(
            matches!(
                error,
                AccountError::PasswordRepetitive
                    | AccountError::PasswordCommon
                    | AccountError::PasswordContainsEmail
            ),
            "{password}: {error}"
        );
        assert!(error.to_string().contains(expected), "{password}: {error}");
    }
    // The page refuses them too, and the current password as the new one.
    let (browser, csrf) = sign_in_as(&server, OWNER, Role::Admin, None).await;
    let current = "un mot de passe de test assez long";
    for (new, expected) in [
        (current, "doit être différent"),
        ("motdepasse2024!", "trop courant"),
        ("abcabcabcabc", "trop répétitif"),
    ] {
        let response = browser
            .post(server.at("/compte/mot-de-passe"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("current_password", current),
                ("new_password", new),
                ("new_password_again", new),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{new}");
        let page = response.text().await.unwrap();
        assert!(page.contains(expected), "{new}: {page}");
    }
}
