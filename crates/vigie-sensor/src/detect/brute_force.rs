//! Brute force: repeated authentication attempts from one source against
//! one service of one host.
//!
//! RDP, SMB and TLS-wrapped mail are encrypted, so an attempt there is a
//! connection that carried client data. SSH tools try several passwords per
//! connection (hydra: up to the server's MaxAuthTries, 6 for OpenSSH); each
//! failed try is answered by a USERAUTH_FAILURE of constant size, so tries
//! are the repeated short server replies after the key exchange, plus the
//! last try when another answer (success, disconnect) ends them; a
//! connection counts at least once. Clear-text protocols show their login
//! commands, and each
//! login command beyond the connection's first counts too (FTP `PASS`,
//! POP3 `PASS`, IMAP `LOGIN`/`AUTHENTICATE`, SMTP `AUTH`). Web logins are
//! POSTs to a login page, handed over by the HTTP inspection.

use std::net::IpAddr;

use vigie_core::{Category, Direction};

use super::Window;
use super::table::BoundedMap;
use crate::config::BruteForceConfig;
use crate::flow::FlowState;
use crate::incidents::{Details, IncidentBook, IncidentKey, Nanos, Rule};

/// Server segments of an SSH connection before authentication: banner,
/// KEXINIT, and the key exchange reply with NEWKEYS.
const SSH_SERVER_SETUP_SEGMENTS: u16 = 3;
/// USERAUTH_FAILURE and SERVICE_ACCEPT are a few dozen bytes once
/// encrypted; anything larger is session data.
const SSH_SHORT_REPLY: usize = 128;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    remote: IpAddr,
    local: IpAddr,
    port: u16,
}

struct Candidate {
    window: Window,
    attempts: u64,
}

pub struct BruteForceDetector {
    config: BruteForceConfig,
    /// One bit per TCP port: is it a login service?
    login_ports: Box<[u64; 1024]>,
    services: Vec<(u16, String)>,
    login_paths: Vec<Vec<u8>>,
    candidates: BoundedMap<Key, Candidate>,
}

impl BruteForceDetector {
    pub fn new(config: BruteForceConfig, services: &[(u16, String)], capacity: usize) -> Self {
        let mut login_ports = Box::new([0u64; 1024]);
        for (port, _) in services {
            login_ports[usize::from(*port / 64)] |= 1 << (port % 64);
        }
        let login_paths = config
            .login_paths
            .iter()
            .map(|p| p.to_ascii_lowercase().into_bytes())
            .collect();
        BruteForceDetector {
            config,
            login_ports,
            services: services.to_vec(),
            login_paths,
            candidates: BoundedMap::new(capacity),
        }
    }

    /// Whether connections to this TCP port are login attempts.
    pub fn is_login_port(&self, port: u16) -> bool {
        self.login_ports[usize::from(port / 64)] & (1 << (port % 64)) != 0
    }

    fn service(&self, port: u16) -> Option<&str> {
        self.services
            .iter()
            .find(|(p, _)| *p == port)
            .map(|(_, name)| name.as_str())
    }

    /// A client data segment from `remote` to a login service `local:port`.
    pub fn client_data(
        &mut self,
        book: &mut IncidentBook,
        flow: &mut FlowState,
        now: Nanos,
        (remote, local, port): (IpAddr, IpAddr, u16),
        payload: &[u8],
    ) {
        if !self.is_login_port(port) {
            return;
        }
        if is_login_command(payload) {
            flow.login_commands = flow.login_commands.saturating_add(1);
        }
        // The connection itself is the first attempt; each login command
        // beyond the first is one more.
        let key = Key {
            remote,
            local,
            port,
        };
        self.raise_attempts(book, flow, now, key, flow.login_commands.max(1));
    }

    /// Sets the connection's attempts to `total` if that is more than
    /// counted so far, and records the difference.
    fn raise_attempts(
        &mut self,
        book: &mut IncidentBook,
        flow: &mut FlowState,
        now: Nanos,
        key: Key,
        total: u16,
    ) {
        if total > flow.attempts {
            let new = u64::from(total - flow.attempts);
            flow.attempts = total;
            self.attempt(book, now, key, new);
        }
    }

    /// A data segment from a login server back to `remote`. For SSH, the
    /// failure replies tell how many passwords were tried on the connection.
    pub fn server_data(
        &mut self,
        book: &mut IncidentBook,
        flow: &mut FlowState,
        now: Nanos,
        (remote, local, port): (IpAddr, IpAddr, u16),
        payload_len: usize,
    ) {
        if self.service(port) != Some("ssh") {
            return;
        }
        // Counted from the server's banner, which often comes before any
        // client data (RFC 4253 §4.2 lets either side speak first).
        flow.server_segments = flow.server_segments.saturating_add(1);
        // Skip the banner, KEXINIT and the key exchange reply (RFC 4253 §7).
        if flow.server_segments <= SSH_SERVER_SETUP_SEGMENTS || flow.final_reply {
            return;
        }
        let size = u16::try_from(payload_len).unwrap_or(u16::MAX);
        if flow.reply_size == 0 && payload_len <= SSH_SHORT_REPLY {
            flow.reply_size = size;
        }
        // The first two short replies answer the service request and the
        // "none" method probe (RFC 4252 §5.2); every later one of the same
        // size is a USERAUTH_FAILURE.
        let failures = flow.reply_count.saturating_sub(2);
        let tries = if size == flow.reply_size {
            flow.reply_count = flow.reply_count.saturating_add(1);
            flow.reply_count.saturating_sub(2)
        } else if flow.reply_count >= 2 {
            // Another answer ends the authentication: success (the session
            // follows, whatever its packets' sizes), or the disconnect after
            // too many failures. After failures, it answered one more try.
            flow.final_reply = true;
            if failures == 0 {
                return;
            }
            failures + 1
        } else {
            return;
        };
        let key = Key {
            remote,
            local,
            port,
        };
        self.raise_attempts(book, flow, now, key, tries);
    }

    /// An HTTP request from `remote`: a POST to a login page is an attempt.
    pub fn http_request(
        &mut self,
        book: &mut IncidentBook,
        now: Nanos,
        (remote, local, port): (IpAddr, IpAddr, u16),
        method: &[u8],
        target: &[u8],
    ) {
        if !method.eq_ignore_ascii_case(b"POST") || !self.is_login_path(target) {
            return;
        }
        self.attempt(
            book,
            now,
            Key {
                remote,
                local,
                port,
            },
            1,
        );
    }

    fn is_login_path(&self, target: &[u8]) -> bool {
        let path = target.split(|&b| b == b'?').next().unwrap_or(target);
        self.login_paths.iter().any(|login| {
            path.len() >= login.len() && path[..login.len()].eq_ignore_ascii_case(login)
        })
    }

    fn attempt(&mut self, book: &mut IncidentBook, now: Nanos, key: Key, new: u64) {
        let service = match self.service(key.port) {
            Some(name) => name.to_owned(),
            None => super::web_service(key.port).to_owned(),
        };
        let cfg = &self.config;
        let (candidate, _) = self.candidates.get_or_insert_with(key, || Candidate {
            window: Window::new(now),
            attempts: 0,
        });
        if candidate.window.advance(now, cfg.window, cfg.idle) {
            candidate.attempts = 0;
        }
        candidate.attempts += new;
        let Some(events) = candidate
            .window
            .crossed(candidate.attempts, cfg.min_attempts, new)
        else {
            return;
        };
        let rule = brute_force_rule(&service);
        book.record(
            IncidentKey {
                rule: Rule::Fixed(rule),
                direction: Direction::Inbound,
                remote: Some(key.remote),
                internal: None,
                port: Some(key.port),
                indicator: None,
            },
            || Details {
                category: Category::BruteForce,
                severity: cfg.severity,
                label: None,
                service: Some(service),
                source_known: true,
            },
            cfg.idle,
            candidate.window.start,
            now,
            events,
        );
    }
}

/// Rule names for the usual services; others share `brute_force.login`.
fn brute_force_rule(service: &str) -> &'static str {
    match service {
        "ssh" => "brute_force.ssh",
        "rdp" => "brute_force.rdp",
        "smb" => "brute_force.smb",
        "ftp" => "brute_force.ftp",
        "telnet" => "brute_force.telnet",
        "smtp" | "pop3" | "imap" => "brute_force.mail",
        "http" | "https" => "brute_force.web",
        "mysql" | "postgresql" | "mssql" => "brute_force.database",
        "vnc" => "brute_force.vnc",
        _ => "brute_force.login",
    }
}

/// A clear-text login command: FTP/POP3 `PASS` (RFC 959, RFC 1939), IMAP
/// `tag LOGIN`/`tag AUTHENTICATE` (RFC 9051), SMTP `AUTH` (RFC 4954).
fn is_login_command(payload: &[u8]) -> bool {
    let starts = |prefix: &[u8]| {
        payload.len() >= prefix.len() && payload[..prefix.len()].eq_ignore_ascii_case(prefix)
    };
    if starts(b"PASS ") || starts(b"AUTH ") {
        return true;
    }
    // IMAP: a tag, a space, then the command.
    let line = payload
        .split(|&b| b == b'\r' || b == b'\n')
        .next()
        .unwrap_or(payload);
    let mut words = line.split(|&b| b == b' ');
    let _tag = words.next();
    matches!(words.next(), Some(cmd) if cmd.eq_ignore_ascii_case(b"LOGIN") || cmd.eq_ignore_ascii_case(b"AUTHENTICATE"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_commands() {
        for yes in [
            &b"PASS secret\r\n"[..],
            b"pass x",
            b"AUTH LOGIN\r\n",
            b"a001 LOGIN bob pw\r\n",
            b"x AUTHENTICATE PLAIN",
        ] {
            assert!(is_login_command(yes), "{:?}", String::from_utf8_lossy(yes));
        }
        for no in [
            &b"USER bob\r\n"[..],
            b"EHLO x",
            b"a001 SELECT INBOX",
            b"",
            b"PAS",
        ] {
            assert!(!is_login_command(no), "{:?}", String::from_utf8_lossy(no));
        }
    }
}
