//! The database: SQLite by default (one file, created and migrated on first
//! start), PostgreSQL for a territory that outgrows one machine (several
//! replicas on one database). Queries are written once, in the SQL both
//! understand, with `$1`-style parameters, through sqlx's `Any` driver; the
//! schemas live in `migrations/{sqlite,postgres}`.

use std::str::FromStr;

use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle on the database, cheap to clone.
///
/// `pool` is for writes (and reads that must see them in the same
/// transaction); [`Db::read`] for reads. On SQLite they differ: one writer
/// connection (SQLite serialises writers anyway, and one connection avoids
/// "database is locked" when a read transaction would have to become a
/// write one), and a few read-only connections that, in WAL mode, never
/// wait for the writer: a sensor's large batch being stored does not hold
/// up the pages (issue 14). On PostgreSQL both are the same pool.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    read: AnyPool,
    pub backend: Backend,
}

/// Read-only connections to a SQLite file, beside its one writer.
const SQLITE_READERS: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL {0:?} (expected sqlite://FILE or postgres://...)")]
    Url(String),
    #[error("cannot connect to the database: {0}")]
    Connect(sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(sqlx::migrate::MigrateError),
}

impl Db {
    /// Connects to `url` and brings its schema up to date. A SQLite file is
    /// created if missing.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        install_default_drivers();
        let (backend, url) = if let Some(path) = url.strip_prefix("sqlite://") {
            let url = if path.contains('?') {
                url.to_owned()
            } else {
                format!("sqlite://{path}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            return Err(DbError::Url(url.to_owned()));
        };
        let options = sqlx::any::AnyConnectOptions::from_str(&url).map_err(DbError::Connect)?;
        let pool = pool_options(backend, Access::ReadWrite)
            .connect_with(options.clone())
            .await
            .map_err(DbError::Connect)?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await.map_err(DbError::Migrate)?;
        let read = match backend {
            // Opened after the migrations: the file and its WAL exist.
            Backend::Sqlite => pool_options(backend, Access::ReadOnly)
                .connect_with(options)
                .await
                .map_err(DbError::Connect)?,
            Backend::Postgres => pool.clone(),
        };
        Ok(Db {
            pool,
            read,
            backend,
        })
    }

    /// The pool for reads that need not see an uncommitted write of the
    /// caller's: pages, API answers, lookups.
    pub fn read(&self) -> &AnyPool {
        &self.read
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadWrite,
    ReadOnly,
}

fn pool_options(backend: Backend, access: Access) -> AnyPoolOptions {
    let connections = match (backend, access) {
        (Backend::Sqlite, Access::ReadWrite) => 1,
        (Backend::Sqlite, Access::ReadOnly) => SQLITE_READERS,
        (Backend::Postgres, _) => 16,
    };
    AnyPoolOptions::new()
        .max_connections(connections)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    let pragmas: &[&str] = match access {
                        Access::ReadWrite => &[
                            "PRAGMA foreign_keys = ON",
                            // Deleted rows are overwritten, not left in
                            // free pages: a campaign's purge must leave
                            // no address in the file (issue 11).
                            "PRAGMA secure_delete = ON",
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = FULL",
                            "PRAGMA busy_timeout = 5000",
                        ],
                        Access::ReadOnly => {
                            &["PRAGMA busy_timeout = 5000", "PRAGMA query_only = ON"]
                        }
                    };
                    for pragma in pragmas {
                        sqlx::query(pragma).execute(&mut *conn).await?;
                    }
                }
                Ok(())
            })
        })
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A random secret, hex-encoded (`bytes` bytes of entropy).
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if getrandom::fill(&mut buf).is_err() {
        // No system randomness: derive from the clock; weak, but never a
        // fixed value. Logged so an operator can see it.
        tracing::error!("no system randomness available for a secret");
        let seed = blake3::hash(&now_ms().to_le_bytes());
        buf.iter_mut()
            .zip(seed.as_bytes().iter().cycle())
            .for_each(|(b, s)| *b = *s);
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored form of a secret token: its BLAKE3 hash. Tokens are long
/// random strings, so a fast hash is enough (passwords use argon2).
pub fn token_hash(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

/// A flag column read into a `bool` field of a row struct
/// (`#[sqlx(try_from = "Flag")]`): both schemas store flags as integers,
/// 0 or 1, which the `Any` driver does not turn into a `bool` itself.
pub struct Flag(i64);

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.0 != 0
    }
}

impl<DB: sqlx::Database> sqlx::Type<DB> for Flag
where
    i64: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <i64 as sqlx::Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <i64 as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for Flag
where
    i64: sqlx::Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Flag, sqlx::error::BoxDynError> {
        <i64 as sqlx::Decode<'r, DB>>::decode(value).map(Flag)
    }
}
