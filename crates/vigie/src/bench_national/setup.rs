//! The national bench's stage: its own PostgreSQL database (created, and
//! dropped at the end), all of France imported through the territory
//! import, the sensors registered in the server's own `sensors` table with
//! their tokens hashed by the server's own function (so every request is
//! really authenticated), and the `vigie serve` replicas as child
//! processes of this binary.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::Row;
use vigie_server::{Db, db};

/// Sensors written per INSERT statement (5 parameters each).
const SENSORS_PER_INSERT: usize = 1_000;

/// The bench's database on the PostgreSQL server of `admin_url`.
pub struct Database {
    pub name: String,
    pub url: String,
    admin_url: String,
}

impl Database {
    /// Creates a fresh database named after this process, beside the one
    /// of `admin_url` (a URL whose user may create databases).
    pub async fn create(admin_url: &str) -> anyhow::Result<Database> {
        Database::create_for(admin_url, "national").await
    }

    /// The same, named after the `bench` too.
    pub async fn create_for(admin_url: &str, bench: &str) -> anyhow::Result<Database> {
        sqlx::any::install_default_drivers();
        let name = format!("vigie_{bench}_{}", std::process::id());
        let mut url = reqwest::Url::parse(admin_url).context("URL PostgreSQL illisible")?;
        url.set_path(&format!("/{name}"));
        let admin = admin(admin_url).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&admin)
            .await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .context("création de la base du banc d'essai")?;
        admin.close().await;
        Ok(Database {
            name,
            url: url.to_string(),
            admin_url: admin_url.to_owned(),
        })
    }

    pub async fn drop_database(&self) -> anyhow::Result<()> {
        let admin = admin(&self.admin_url).await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&admin)
        .await?;
        admin.close().await;
        Ok(())
    }
}

/// The size on disk of database `name`, in bytes.
pub async fn database_size(pool: &sqlx::AnyPool, name: &str) -> anyhow::Result<i64> {
    let row = sqlx::query("SELECT pg_database_size($1) AS size")
        .bind(name)
        .fetch_one(pool)
        .await?;
    Ok(row.try_get("size")?)
}

async fn admin(url: &str) -> anyhow::Result<sqlx::AnyPool> {
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .with_context(|| "connexion à PostgreSQL (--postgres)".to_owned())
}

/// Registers `count` installed sensors over the communes, one per commune
/// from the most populous down and round again (a large town has more
/// than one box): the rows `vigie sensors add` and the enrolment would
/// leave, written in bulk. Their tokens, in order; and how many communes
/// have a box.
pub async fn register_sensors(db: &Db, count: u32) -> anyhow::Result<(Vec<String>, usize)> {
    let communes: Vec<String> =
        sqlx::query_scalar("SELECT code FROM communes ORDER BY population DESC, code")
            .fetch_all(db.read())
            .await?;
    if communes.is_empty() {
        bail!("aucune commune dans la base");
    }
    let now = db::now_ms();
    let mut ids = HashSet::new();
    let mut sensors = Vec::with_capacity(count as usize);
    for index in 0..count as usize {
        // The server's own id form (`cap-` and 32 random bits), drawn
        // again on the rare collision as `add_sensor` does.
        let id = loop {
            let id = format!("cap-{}", db::random_hex(4));
            if ids.insert(id.clone()) {
                break id;
            }
        };
        let token = db::random_hex(32);
        sensors.push((id, communes[index % communes.len()].clone(), token));
    }
    let mut tx = db.pool.begin().await?;
    for chunk in sensors.chunks(SENSORS_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = i * 5;
                format!(
                    "(${}, ${}, ${}, ${}, ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO sensors (id, commune, token_hash, created_at, installed_at) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for (id, commune, token) in chunk {
            query = query
                .bind(id)
                .bind(commune)
                .bind(db::token_hash(token))
                .bind(now)
                .bind(now);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    let used = communes.len().min(count as usize);
    Ok((sensors.into_iter().map(|(_, _, t)| t).collect(), used))
}

/// `count` replicas on `database`, each on a free port, logging into `dir`,
/// all answering.
pub async fn start_replicas(
    count: u16,
    database: &str,
    dir: &Path,
) -> anyhow::Result<Vec<Replica>> {
    let mut replicas = Vec::new();
    for index in 0..count {
        let port = crate::bench_hostile::free_port()?;
        let log = dir.join(format!("serve-{index}.log"));
        let mut replica = Replica::start(database, port, &log)?;
        replica.wait_until_up().await?;
        replicas.push(replica);
    }
    Ok(replicas)
}

/// A `vigie serve` child process.
pub struct Replica {
    child: Child,
    pub port: u16,
}

impl Replica {
    pub fn start(database: &str, port: u16, log: &Path) -> anyhow::Result<Replica> {
        let exe = std::env::current_exe().context("chemin de vigie")?;
        let log = std::fs::File::create(log)?;
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
        Ok(Replica { child, port })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub async fn wait_until_up(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if reqwest::get(format!("{}/connexion", self.base()))
                .await
                .is_ok()
            {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!("vigie serve s'est arrêté : {status}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("vigie serve ne répond pas sur le port {}", self.port)
    }

    pub fn memory_peak_kib(&self) -> u64 {
        crate::bench::process_memory_kib(&self.pid().to_string(), "VmHWM:")
    }

    pub fn stop(self) {
        drop(self);
    }
}

/// A replica never outlives the bench, even when it stops on an error.
impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
