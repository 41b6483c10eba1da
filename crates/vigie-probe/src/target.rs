//! What every protocol module is given and gives back: the open port to
//! examine, the run's context (timeouts, password budget, dictionary), and
//! the service and findings it established.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use vigie_core::probe::{Finding, Service, Transport};

use crate::credentials::{self, Revealed, Words};

/// One open port of one host, inside the scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    pub addr: IpAddr,
    pub port: u16,
    pub transport: Transport,
}

impl Target {
    pub fn tcp(addr: IpAddr, port: u16) -> Target {
        Target {
            addr,
            port,
            transport: Transport::Tcp,
        }
    }

    pub fn udp(addr: IpAddr, port: u16) -> Target {
        Target {
            addr,
            port,
            transport: Transport::Udp,
        }
    }

    pub fn socket(&self) -> SocketAddr {
        SocketAddr::new(self.addr, self.port)
    }
}

/// The run's settings every module follows.
#[derive(Clone, Debug)]
pub struct Context {
    /// Connecting, and each read or write.
    pub timeout: Duration,
    /// Password trials allowed per account and service, well under the
    /// usual lockout thresholds (Windows' default is 10 in 10 minutes).
    pub password_budget: usize,
    /// Pause between two trials on the same account.
    pub trial_pause: Duration,
    /// Accounts of one service in play at the same time, the most likely
    /// first (each within its budget and with its pause): 1 in the polite
    /// intensity, where an account is done before the next one starts.
    pub accounts_at_once: usize,
    /// Login attempts (connections) under way on one service at a time;
    /// an account waiting out its pause gives its turn to another
    /// ([`crate::trials`]).
    pub attempts_at_once: usize,
    /// Whether password trials run at all (`--no-passwords` turns them off).
    pub try_passwords: bool,
    /// Candidate (user, password) pairs: the built-in dictionary plus the
    /// commune's own words (name, postcode, year).
    pub credentials: Arc<Vec<(String, String)>>,
    /// The commune's words, for the likely passwords of an account a host
    /// reveals during the run.
    pub words: Arc<Words>,
    /// The accounts this host's services revealed (one board per host).
    pub revealed: Revealed,
}

impl Context {
    /// The candidates for a login service of this host: the accounts its
    /// services revealed first, each with its likely passwords, then
    /// [`Context::credentials`]. Waits for the host's revealing ports
    /// (bounded by their board's deadline).
    pub async fn login_candidates(&self) -> Arc<Vec<(String, String)>> {
        let names = self.revealed.names().await;
        if names.is_empty() {
            return Arc::clone(&self.credentials);
        }
        Arc::new(credentials::revealed::first(
            &names,
            &self.credentials,
            &self.words,
        ))
    }
}

impl Default for Context {
    fn default() -> Self {
        Context {
            timeout: Duration::from_secs(3),
            password_budget: 5,
            trial_pause: Duration::from_millis(500),
            accounts_at_once: 1,
            attempts_at_once: 1,
            try_passwords: true,
            credentials: Arc::new(Vec::new()),
            words: Arc::new(Words::default()),
            revealed: Revealed::default(),
        }
    }
}

/// What examining one open port established.
#[derive(Clone, Debug, PartialEq)]
pub struct PortResult {
    pub service: Service,
    pub findings: Vec<Finding>,
    /// Facts about the host learned on the way (OS from SMB, names from a
    /// certificate), merged into the host's entry.
    pub os: Option<String>,
    pub names: Vec<String>,
}

impl PortResult {
    /// A service without findings or host facts.
    pub fn service(service: Service) -> PortResult {
        PortResult {
            service,
            findings: Vec::new(),
            os: None,
            names: Vec::new(),
        }
    }
}
