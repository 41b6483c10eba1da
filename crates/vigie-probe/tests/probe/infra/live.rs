//! The family against real Debian services on 127.0.0.1, started here
//! with private configurations and stopped at the end. Each test prints a
//! skip line and passes when it is not root or a package is missing.

use std::process::Command;

use vigie_probe::protocols::infra::{self, Protocol};

use super::servers::{
    Service, free_tcp_port, free_udp_port, live_ready, tcp_open, wait_for, which,
};
use super::{assert_catalogued, context, finding, ids, tcp, udp};

fn redis(requirepass: Option<&str>) -> (Service, u16) {
    let port = free_tcp_port();
    let port_text = port.to_string();
    let dir = tempfile::tempdir().unwrap();
    let dir_text = dir.path().display().to_string();
    let mut args = vec![
        "--port",
        &port_text,
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        &dir_text,
        "--protected-mode",
        "no",
    ];
    if let Some(password) = requirepass {
        args.extend(["--requirepass", password]);
    }
    let service = Service::start(dir, "redis-server", &args, &[]);
    wait_for("redis-server", || tcp_open(port));
    (service, port)
}

#[tokio::test]
async fn redis_without_password_is_open() {
    if !live_ready("redis_without_password_is_open", &["redis-server"]) {
        return;
    }
    let (_redis, port) = redis(None);
    let ctx = context(5, &[]);
    let result = infra::run(Protocol::Redis, &tcp(port), &ctx).await.unwrap();
    assert_eq!(result.service.name, "redis");
    let version = result.service.version.clone().unwrap();
    assert!(
        version.chars().next().unwrap().is_ascii_digit(),
        "{version}"
    );
    assert!(
        finding(&result, "redis.no_auth")
            .evidence
            .contains(&version)
    );
    assert_catalogued(&result, &ctx);
}

/// Redis says nothing first: on a port not its own, the whole scan still
/// asks it in its protocol once HTTP, TLS, SMB and RDP got no answer.
#[tokio::test]
async fn redis_on_an_unusual_port_is_found_by_the_scan() {
    if !live_ready(
        "redis_on_an_unusual_port_is_found_by_the_scan",
        &["redis-server"],
    ) {
        return;
    }
    let (_redis, port) = redis(None);
    assert!(!infra::claims(port, vigie_core::probe::Transport::Tcp));
    let scope = crate::scan::lab_scope("\"127.0.0.1\"", "");
    let settings = crate::scan::settings(&scope, vec![port], vec![port]);
    let report = crate::scan::run(&scope, settings).await;
    let services: Vec<_> = report.hosts.iter().flat_map(|h| &h.services).collect();
    assert_eq!(services.len(), 1, "{services:?}");
    assert_eq!(services[0].name, "redis", "{services:?}");
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.id == "redis.no_auth" && f.port == Some(port)),
        "{:?}",
        report.findings
    );
}

#[tokio::test]
async fn redis_with_a_dictionary_password_is_found_within_budget() {
    if !live_ready("redis_with_a_dictionary_password", &["redis-server"]) {
        return;
    }
    let (_redis, port) = redis(Some("mairie2024"));
    let words = [
        ("admin", "admin"),
        ("admin", "1234"),
        ("mairie", "mairie2024"),
    ];
    let ctx = context(3, &words);
    let result = infra::run(Protocol::Redis, &tcp(port), &ctx).await.unwrap();
    assert_eq!(ids(&result), ["password.redis"]);
    assert!(result.service.version.is_some());
    assert_catalogued(&result, &ctx);
    // The password is third: a budget of two never reaches it.
    let short = context(2, &words);
    let result = infra::run(Protocol::Redis, &tcp(port), &short)
        .await
        .unwrap();
    assert!(result.findings.is_empty(), "{:?}", ids(&result));
}

fn snmpd(config: &str) -> (Service, u16) {
    let port = free_udp_port();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("snmpd.conf");
    std::fs::write(&conf, config).unwrap();
    let address = format!("udp:127.0.0.1:{port}");
    let (conf_text, pid) = (
        conf.display().to_string(),
        dir.path().join("pid").display().to_string(),
    );
    let persistent = dir.path().to_path_buf();
    // -C: only our file; no MIB loading (MIBS empty) keeps its log quiet.
    let args = [
        "-f",
        "-Lf",
        "/dev/null",
        "-C",
        "-c",
        &conf_text,
        "-p",
        &pid,
        &address,
    ];
    let service = Service::start(
        dir,
        "snmpd",
        &args,
        &[
            ("SNMP_PERSISTENT_DIR", &persistent),
            ("MIBS", std::path::Path::new("")),
        ],
    );
    (service, port)
}

/// snmpd binds its UDP port asynchronously: ask until it answers (a port
/// not bound yet is closed, and a closed port is given up at once).
async fn snmp_until_answer(
    port: u16,
    ctx: &vigie_probe::target::Context,
) -> vigie_probe::target::PortResult {
    for _ in 0..50 {
        if let Some(result) = infra::run(Protocol::Snmp, &udp(port), ctx).await {
            return result;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("snmpd never answered");
}

#[tokio::test]
async fn snmpd_with_public_is_found_and_named() {
    if !live_ready("snmpd_with_public", &["snmpd"]) {
        return;
    }
    let (_snmpd, port) = snmpd("rocommunity public 127.0.0.1\nsysName mairie-srv\n");
    let mut ctx = context(5, &[]);
    ctx.timeout = std::time::Duration::from_millis(500);
    let result = snmp_until_answer(port, &ctx).await;
    assert_eq!(ids(&result), ["snmp.default_community"]);
    assert_eq!(result.service.product.as_deref(), Some("Net-SNMP"));
    assert_eq!(result.names, ["mairie-srv"]);
    assert!(
        result
            .os
            .as_deref()
            .unwrap_or_default()
            .starts_with("Linux")
    );
    assert_catalogued(&result, &ctx);
}

#[tokio::test]
async fn snmpd_with_a_commune_word_is_found() {
    if !live_ready("snmpd_with_a_commune_word", &["snmpd"]) {
        return;
    }
    let (_snmpd, port) = snmpd("rocommunity plougastel 127.0.0.1\n");
    let mut ctx = context(20, &[("admin", "plougastel")]);
    ctx.timeout = std::time::Duration::from_millis(500);
    let result = snmp_until_answer(port, &ctx).await;
    assert_eq!(ids(&result), ["snmp.weak_community"]);
    assert!(
        !finding(&result, "snmp.weak_community")
            .evidence
            .contains("plougastel")
    );
}

/// The `override` lines that make snmpd serve a Windows user table
/// (svUserName, 1.3.6.1.4.1.77.1.2.25.1.1, each row indexed by its name),
/// as a Windows server's SNMP service does.
pub fn windows_user_table(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| {
            let index: Vec<String> = name.bytes().map(|b| b.to_string()).collect();
            format!(
                "override .1.3.6.1.4.1.77.1.2.25.1.1.{}.{} octet_str \"{name}\"\n",
                name.len(),
                index.join(".")
            )
        })
        .collect()
}

/// Issue 16: the accounts of the Windows user table reach the host's
/// board, in the table's order, without the built-in Guest; the finding
/// counts them and names none.
#[tokio::test]
async fn snmpd_serving_a_windows_user_table_reveals_its_accounts() {
    if !live_ready("snmpd_serving_a_windows_user_table", &["snmpd"]) {
        return;
    }
    let config = format!(
        "rocommunity public 127.0.0.1\n{}",
        windows_user_table(&["Administrateur", "Guest", "etatcivil"])
    );
    let (_snmpd, port) = snmpd(&config);
    let mut ctx = context(5, &[]);
    ctx.timeout = std::time::Duration::from_millis(500);
    let result = snmp_until_answer(port, &ctx).await;
    assert_eq!(
        ids(&result),
        ["snmp.default_community", "snmp.windows_users"]
    );
    let evidence = &finding(&result, "snmp.windows_users").evidence;
    assert!(evidence.contains("3 comptes"), "{evidence}");
    assert!(!evidence.contains("etatcivil"), "{evidence}");
    assert_catalogued(&result, &ctx);
    // Rows come in OID order: the index is the name's length first.
    assert_eq!(ctx.revealed.names().await, ["etatcivil", "Administrateur"]);
}

/// Runs SQL as the postgres superuser over the local socket (peer auth).
fn psql(sql: &str) -> bool {
    Command::new("runuser")
        .args(["-u", "postgres", "--", "psql", "-qAtX", "-c", sql])
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test]
async fn postgresql_weak_role_is_found_with_scram() {
    if !live_ready("postgresql_weak_role", &["psql", "runuser"]) || !tcp_open(5432) {
        eprintln!("skipped postgresql_weak_role: no PostgreSQL on 127.0.0.1:5432");
        return;
    }
    let role = format!("vigie_probe_{}", std::process::id());
    assert!(psql(&format!(
        "SET password_encryption = 'scram-sha-256'; CREATE ROLE {role} LOGIN PASSWORD 'soleil29'"
    )));
    let words = [("postgres", "postgres"), (role.as_str(), "soleil29")];
    let ctx = context(3, &words);
    let result = infra::examine(&tcp(5432), &ctx).await;
    assert!(psql(&format!("DROP ROLE {role}")));
    let result = result.unwrap();
    assert_eq!(result.service.name, "postgresql");
    assert!(
        result
            .service
            .banner
            .as_deref()
            .unwrap()
            .contains("SCRAM-SHA-256")
    );
    let weak = finding(&result, "password.postgresql");
    assert!(weak.evidence.contains(&role), "{}", weak.evidence);
    assert_catalogued(&result, &ctx);
}

fn mariadb_sql(socket: &str, sql: &str) {
    let status = Command::new(which("mariadb").unwrap())
        .args(["--no-defaults", "-S", socket, "-u", "root", "-e", sql])
        .status()
        .unwrap();
    assert!(status.success(), "{sql}");
}

#[tokio::test]
async fn mariadb_root_without_password_then_a_weak_account() {
    let binaries = ["mariadbd", "mariadb-install-db", "mariadb"];
    if !live_ready("mariadb_accounts", &binaries) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let socket = dir.path().join("sock").display().to_string();
    let install = Command::new(which("mariadb-install-db").unwrap())
        .args(["--no-defaults", &format!("--datadir={data}"), "--user=root"])
        .args(["--auth-root-authentication-method=socket", "--skip-test-db"])
        .output()
        .unwrap();
    assert!(install.status.success());
    let port = free_tcp_port();
    let args = [
        format!("--datadir={data}"),
        format!("--port={port}"),
        format!("--socket={socket}"),
        "--bind-address=127.0.0.1".to_owned(),
        "--skip-name-resolve".to_owned(),
        "--skip-log-bin".to_owned(),
        "--user=root".to_owned(),
    ];
    let mut all = vec!["--no-defaults"];
    all.extend(args.iter().map(String::as_str));
    let _server = Service::start(dir, "mariadbd", &all, &[]);
    wait_for("mariadbd", || tcp_open(port));
    mariadb_sql(
        &socket,
        "CREATE USER 'root'@'127.0.0.1' IDENTIFIED BY ''; \
         CREATE USER 'secretaire'@'127.0.0.1' IDENTIFIED BY 'mairie29';",
    );
    let words = [("root", "root"), ("secretaire", "mairie29")];
    let ctx = context(3, &words);
    let open = infra::run(Protocol::MySql, &tcp(port), &ctx).await.unwrap();
    assert_eq!(open.service.product.as_deref(), Some("MariaDB"));
    assert_eq!(ids(&open), ["mysql.no_auth"]);
    mariadb_sql(&socket, "DROP USER 'root'@'127.0.0.1';");
    let weak = infra::run(Protocol::MySql, &tcp(port), &ctx).await.unwrap();
    assert_eq!(ids(&weak), ["password.mysql"]);
    assert!(
        finding(&weak, "password.mysql")
            .evidence
            .contains("secretaire")
    );
    assert_catalogued(&weak, &ctx);
}
