//! Connections counted per client for the server loop's per-client cap
//! ([`crate::state::ConnectionLimits::per_client`]), and the room the
//! open-file limit leaves for connections.
//!
//! A client is counted as [`ClientAddr`] counts it for the connection's
//! peer (an IPv6 client by its /64). A trusted reverse proxy carries many
//! clients on its connections: it is not capped (the flood limits still
//! count each client it forwards).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use super::ClientAddr;
use super::client::canonical;

/// Descriptors kept for everything but client connections: the database
/// pool, the listener, files, the threat-list fetcher.
const FD_RESERVE: u64 = 128;

/// Open connections per client key; an entry lives while its client has
/// a connection open, so the table is bounded by the connection cap.
pub struct ClientSlots {
    cap: usize,
    trusted_proxies: Vec<IpAddr>,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

/// One connection of a client, given back when dropped.
pub struct ClientSlot {
    open: Arc<Mutex<HashMap<String, usize>>>,
    key: Option<String>,
}

impl ClientSlots {
    pub fn new(cap: usize, trusted_proxies: Vec<IpAddr>) -> ClientSlots {
        ClientSlots {
            cap,
            trusted_proxies: trusted_proxies.into_iter().map(canonical).collect(),
            open: Arc::default(),
        }
    }

    /// A slot for a new connection from `peer`, or `None` when the client
    /// already has its share open.
    pub fn take(&self, peer: IpAddr) -> Option<ClientSlot> {
        if self.cap == 0 || self.trusted_proxies.contains(&canonical(peer)) {
            return Some(ClientSlot {
                open: self.open.clone(),
                key: None,
            });
        }
        let key = ClientAddr(peer).key();
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key.clone()).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            open: self.open.clone(),
            key: Some(key),
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let Some(key) = &self.key else {
            return;
        };
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(key);
            }
        }
    }
}

/// How many connections the open-file limit leaves room for, once the
/// soft limit is raised as far as the hard limit allows toward `wanted`.
pub fn open_file_room(wanted: usize) -> usize {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return wanted;
    };
    let needed = (wanted as u64).saturating_add(FD_RESERVE);
    let mut soft = soft;
    if soft < needed {
        let raised = needed.min(hard);
        if setrlimit(Resource::RLIMIT_NOFILE, raised, hard).is_ok() {
            soft = raised;
        }
    }
    usize::try_from(soft.saturating_sub(FD_RESERVE)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_share_and_gets_it_back() {
        let slots = ClientSlots::new(2, vec!["127.0.0.9".parse().unwrap()]);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let first = slots.take(a).unwrap();
        let _second = slots.take(a).unwrap();
        assert!(slots.take(a).is_none());
        assert!(slots.take("192.0.2.2".parse().unwrap()).is_some());
        drop(first);
        assert!(slots.take(a).is_some());
        // Same /64, same client; a trusted proxy is not capped.
        let v6 = |s: &str| s.parse::<IpAddr>().unwrap();
        let _x = slots.take(v6("2001:db8::1")).unwrap();
        let _y = slots.take(v6("2001:db8::2")).unwrap();
        assert!(slots.take(v6("2001:db8::3")).is_none());
        let proxy: Vec<_> = (0..5).map(|_| slots.take(v6("127.0.0.9"))).collect();
        assert!(proxy.iter().all(Option::is_some));
    }

    #[test]
    fn no_cap_when_zero() {
        let slots = ClientSlots::new(0, Vec::new());
        let held: Vec<_> = (0..100)
            .map(|_| slots.take("192.0.2.1".parse().unwrap()))
            .collect();
        assert!(held.iter().all(Option::is_some));
    }
}
