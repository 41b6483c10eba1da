//! `vigie bench hostile`: the observatory under what anyone on the internet
//! can throw at it at once (issue 14): a flood of sign-ins, clients that
//! send half their headers and hold the connection, and sensors posting
//! the largest batches allowed. Beside it, a normal client reads a page;
//! its latency under attack is compared with the same client's on the
//! quiet server, in the same run, and the server's memory is read from
//! /proc before, during and at its peak.
//!
//! The server is a real `vigie serve` child process on loopback (SQLite,
//! the built-in Loire); every attacker comes from its own 127.x address so
//! the per-client limits are what an attacker with many addresses faces.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::AsyncWriteExt;
use vigie_server::accounts::{self, Role};
use vigie_server::{Db, sensors, territory};

/// What the attack is made of.
#[derive(clap::Args, Clone, Debug)]
pub struct HostileArgs {
    /// Seconds of each phase (quiet, then under attack).
    #[arg(long, default_value_t = 15)]
    pub seconds: u64,
    /// Clients sending sign-ins without pause, each from its own address.
    #[arg(long, default_value_t = 64)]
    pub sign_in_clients: u32,
    /// Connections that send half a request and hold it, from 32 addresses.
    #[arg(long, default_value_t = 4000)]
    pub slow_connections: u32,
    /// Sensors posting batches of the largest size, one after the other.
    #[arg(long, default_value_t = 4)]
    pub sensors: u32,
}

const ADMIN: &str = "mesures@vigie.fr";
const PASSWORD: &str = "une phrase pour le banc d'essai";
/// Incidents in a batch: about 7.5 MB of JSON, under the 8 MiB limit.
const BATCH_INCIDENTS: usize = 30_000;

pub fn run(args: HostileArgs) -> anyhow::Result<ExitCode> {
    raise_fd_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench(args))
}

async fn bench(args: HostileArgs) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let database = format!("sqlite://{}", dir.path().join("vigie.db").display());
    let (token, codes) = prepare(&database, args.sensors).await?;
    let port = free_port()?;
    let mut server = Server::start(&database, port, dir.path())?;
    let base = format!("http://127.0.0.1:{port}");
    server.wait_until_up(&base).await?;
    let sensor_tokens = enroll(&base, &codes).await?;
    let phase = Duration::from_secs(args.seconds);

    println!("observatoire : {base} (processus {})", server.pid());
    println!(
        "\n1. au calme : un client lit /api/v1/me sans pause pendant {} s",
        args.seconds
    );
    let quiet_rss = server.memory_kib("VmRSS:");
    let quiet = reader(&base, &token, phase).await;
    quiet.print();

    println!(
        "\n2. sous attaque : {} clients de connexion, {} connexions lentes, {} capteurs à lots de {} incidents",
        args.sign_in_clients, args.slow_connections, args.sensors, BATCH_INCIDENTS
    );
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(Counters::default());
    let mut attackers = Vec::new();
    for client in 0..args.sign_in_clients {
        attackers.push(tokio::spawn(sign_in_flood(
            base.clone(),
            client,
            stop.clone(),
            counters.clone(),
        )));
    }
    attackers.push(tokio::spawn(slow_headers(
        port,
        args.slow_connections,
        stop.clone(),
        counters.clone(),
    )));
    for (index, sensor) in sensor_tokens.iter().enumerate() {
        attackers.push(tokio::spawn(large_batches(
            base.clone(),
            sensor.clone(),
            index,
            stop.clone(),
            counters.clone(),
        )));
    }
    // Let the attack build up before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let attacked_rss = Arc::new(AtomicU64::new(0));
    let sampler = {
        let pid = server.pid();
        let stop = stop.clone();
        let attacked_rss = attacked_rss.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let rss = process_memory_kib(pid, "VmRSS:");
                attacked_rss.fetch_max(rss, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let attacked = reader(&base, &token, phase).await;
    stop.store(true, Ordering::Relaxed);
    for attacker in attackers {
        let _ = tokio::time::timeout(Duration::from_secs(30), attacker).await;
    }
    let _ = sampler.await;
    attacked.print();
    counters.print();

    let peak = server.memory_kib("VmHWM:");
    println!("\nrésultat :");
    println!(
        "  lecture normale, p99 sous attaque / au calme : {:.1} ({:.1} ms / {:.1} ms), erreurs : {}",
        ratio(attacked.p99(), quiet.p99()),
        millis(attacked.p99()),
        millis(quiet.p99()),
        attacked.errors
    );
    println!(
        "  mémoire du serveur : {} Mo au calme, {} Mo au plus fort de l'attaque, pic {} Mo",
        quiet_rss / 1024,
        attacked_rss.load(Ordering::Relaxed) / 1024,
        peak / 1024
    );
    let alive = reqwest::get(format!("{base}/connexion"))
        .await
        .map(|r| r.status());
    println!("  après l'attaque, /connexion répond : {alive:?}");
    server.stop();
    Ok(ExitCode::SUCCESS)
}

/// A database with an administrator, its API token, the Loire, and one
/// enrolment code per sensor.
async fn prepare(database: &str, sensor_count: u32) -> anyhow::Result<(String, Vec<String>)> {
    let db = Db::connect(database).await?;
    territory::ensure_builtin(&db).await?;
    accounts::add_user(&db, ADMIN, Role::Admin, None, PASSWORD).await?;
    let token = accounts::create_token(&db, ADMIN).await?;
    let communes: Vec<String> = sqlx::query_scalar("SELECT code FROM communes ORDER BY code")
        .fetch_all(&db.pool)
        .await?;
    let mut codes = Vec::new();
    for commune in communes.iter().take(sensor_count as usize) {
        codes.push(sensors::add_sensor(&db, commune).await?.code);
    }
    db.pool.close().await;
    Ok((token, codes))
}

async fn enroll(base: &str, codes: &[String]) -> anyhow::Result<Vec<String>> {
    let client = reqwest::Client::new();
    let mut tokens = Vec::new();
    for code in codes {
        let answer: serde_json::Value = client
            .post(format!("{base}/api/v1/sensors/enroll"))
            .json(&serde_json::json!({ "code": code }))
            .send()
            .await?
            .json()
            .await?;
        let token = answer["token"]
            .as_str()
            .context("l'enrôlement n'a pas rendu de jeton")?;
        tokens.push(token.to_owned());
    }
    Ok(tokens)
}

/// The normal client: one connection, one request after the other.
async fn reader(base: &str, token: &str, phase: Duration) -> Latencies {
    let client = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default();
    let mut latencies = Latencies::default();
    let end = Instant::now() + phase;
    while Instant::now() < end {
        let start = Instant::now();
        let answer = client
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(token)
            .send()
            .await;
        match answer {
            Ok(response) if response.status().is_success() => {
                latencies.times.push(start.elapsed());
            }
            _ => latencies.errors += 1,
        }
    }
    latencies
}

/// Sign-ins of unknown addresses, as fast as the server answers.
async fn sign_in_flood(base: String, client: u32, stop: Arc<AtomicBool>, counters: Arc<Counters>) {
    let address = Ipv4Addr::new(127, 0, 8, u8::try_from(client % 250 + 1).unwrap_or(1));
    let Ok(http) = reqwest::Client::builder()
        .local_address(IpAddr::V4(address))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    else {
        return;
    };
    let mut attempt = 0u64;
    while !stop.load(Ordering::Relaxed) {
        attempt += 1;
        let email = format!("inconnu{client}-{attempt}@example.fr");
        let answer = http
            .post(format!("{base}/connexion"))
            .form(&[
                ("email", email.as_str()),
                ("password", "un essai quelconque"),
            ])
            .send()
            .await;
        let (slot, refused) = match answer.map(|r| r.status().as_u16()) {
            Ok(401) => (&counters.sign_in_401, false),
            Ok(429) => (&counters.sign_in_429, true),
            Ok(503) => (&counters.sign_in_503, true),
            _ => (&counters.sign_in_other, true),
        };
        slot.fetch_add(1, Ordering::Relaxed);
        if refused {
            // A short pause, far shorter than the Retry-After asked: the
            // attacker does not play fair, but does not spin either.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Connections that send half a request line and hold on; reopened when
/// the server closes them.
async fn slow_headers(port: u16, count: u32, stop: Arc<AtomicBool>, counters: Arc<Counters>) {
    let mut holders = Vec::new();
    for index in 0..count {
        let stop = stop.clone();
        let counters = counters.clone();
        let source = Ipv4Addr::new(127, 0, 9, u8::try_from(index % 32 + 1).unwrap_or(1));
        holders.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let Ok(socket) = tokio::net::TcpSocket::new_v4() else {
                    return;
                };
                if socket.bind(SocketAddr::new(IpAddr::V4(source), 0)).is_err() {
                    return;
                }
                let target = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
                let Ok(mut stream) = socket.connect(target).await else {
                    counters.slow_refused.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                };
                counters.slow_opened.fetch_add(1, Ordering::Relaxed);
                let _ = stream
                    .write_all(b"GET /connexion HTTP/1.1\r\nHost: vigie\r\nX-A: ")
                    .await;
                // Held until the server closes it (or the attack ends).
                let mut byte = [0u8; 1];
                loop {
                    tokio::select! {
                        read = tokio::io::AsyncReadExt::read(&mut stream, &mut byte) => {
                            if matches!(read, Ok(0) | Err(_)) {
                                counters.slow_closed.fetch_add(1, Ordering::Relaxed);
                                // Back after a short pause: reconnecting in a
                                // tight loop would measure this process's own
                                // CPU, which shares the machine's cores.
                                tokio::time::sleep(Duration::from_millis(250)).await;
                                break;
                            }
                        }
                        () = tokio::time::sleep(Duration::from_millis(500)) => {
                            if stop.load(Ordering::Relaxed) {
                                return;
                            }
                        }
                    }
                }
            }
        }));
    }
    for holder in holders {
        let _ = holder.await;
    }
}

/// A sensor posting batches of the largest size, one after the other.
async fn large_batches(
    base: String,
    token: String,
    index: usize,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
) {
    let client = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(
            127,
            0,
            10,
            u8::try_from(index + 1).unwrap_or(1),
        )))
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap_or_default();
    let mut seq = 1u64;
    while !stop.load(Ordering::Relaxed) {
        let body = batch(seq, index);
        counters
            .batch_bytes
            .store(body.len() as u64, Ordering::Relaxed);
        let answer = client
            .post(format!("{base}/api/v1/reports"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        match answer {
            Ok(response) if response.status().is_success() => {
                counters.batches_stored.fetch_add(1, Ordering::Relaxed);
            }
            _ => {
                counters.batches_refused.fetch_add(1, Ordering::Relaxed);
            }
        }
        seq += 1;
    }
}

/// A `vigie.report/1` batch of [`BATCH_INCIDENTS`] scans.
fn batch(seq: u64, sensor: usize) -> Vec<u8> {
    let now = chrono::Utc::now();
    let incidents: Vec<serde_json::Value> = (0..BATCH_INCIDENTS)
        .map(|i| {
            serde_json::json!({
                "category": "scan", "rule": "scan.syn", "label": null, "severity": "medium",
                "source": format!("198.18.{}.{}", (i / 250) % 250, i % 250 + 1),
                "direction": "inbound", "target_port": 22, "service": "ssh",
                "first_seen": now, "last_seen": now, "events": 40 + sensor
            })
        })
        .collect();
    serde_json::json!({
        "schema": "vigie.report/1", "seq": seq, "packets": 10_000_000, "bytes": 700_000_000,
        "malformed": 0, "first_seen": now, "last_seen": now,
        "incidents": incidents, "daily": []
    })
    .to_string()
    .into_bytes()
}

#[derive(Default)]
struct Counters {
    sign_in_401: AtomicU64,
    sign_in_429: AtomicU64,
    sign_in_503: AtomicU64,
    sign_in_other: AtomicU64,
    slow_opened: AtomicU64,
    slow_closed: AtomicU64,
    slow_refused: AtomicU64,
    batches_stored: AtomicU64,
    batches_refused: AtomicU64,
    batch_bytes: AtomicU64,
}

impl Counters {
    fn print(&self) {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        println!(
            "  connexions : {} refusées (401), {} limitées (429), {} écartées (503), {} autres",
            get(&self.sign_in_401),
            get(&self.sign_in_429),
            get(&self.sign_in_503),
            get(&self.sign_in_other)
        );
        println!(
            "  connexions lentes : {} ouvertes, {} fermées par le serveur, {} refusées",
            get(&self.slow_opened),
            get(&self.slow_closed),
            get(&self.slow_refused)
        );
        println!(
            "  lots de {:.1} Mo : {} enregistrés, {} refusés",
            get(&self.batch_bytes) as f64 / 1e6,
            get(&self.batches_stored),
            get(&self.batches_refused)
        );
    }
}

#[derive(Default)]
struct Latencies {
    times: Vec<Duration>,
    errors: u64,
}

impl Latencies {
    fn quantile(&self, q: f64) -> Duration {
        let mut sorted = self.times.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
        sorted.get(index).copied().unwrap_or_default()
    }

    fn p99(&self) -> Duration {
        self.quantile(0.99)
    }

    fn print(&self) {
        println!(
            "  {} réponses, p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms, {} erreurs",
            self.times.len(),
            millis(self.quantile(0.5)),
            millis(self.p99()),
            millis(self.quantile(1.0)),
            self.errors
        );
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

/// The child `vigie serve`.
struct Server {
    child: Child,
}

impl Server {
    fn start(database: &str, port: u16, dir: &Path) -> anyhow::Result<Server> {
        let exe = std::env::current_exe().context("chemin de vigie")?;
        let log = std::fs::File::create(dir.join("serve.log"))?;
        let child = Command::new(exe)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database",
                database,
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("lancement de vigie serve")?;
        Ok(Server { child })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn wait_until_up(&mut self, base: &str) -> anyhow::Result<()> {
        for _ in 0..200 {
            if reqwest::get(format!("{base}/connexion")).await.is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!("vigie serve s'est arrêté : {status}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("vigie serve ne répond pas")
    }

    fn memory_kib(&self, field: &str) -> u64 {
        process_memory_kib(self.pid(), field)
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn process_memory_kib(pid: u32, field: &str) -> u64 {
    crate::bench::process_memory_kib(&pid.to_string(), field)
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Thousands of held connections need as many descriptors in this process.
pub(crate) fn raise_fd_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
}
