//! `vigie serve` and the server-side administration commands: each opens
//! the database of `--database` and calls one function of vigie-server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use vigie_server::accounts::{self, Role};
use vigie_server::config::Config;
use vigie_server::{AppState, Db, sensors, territory, tls};

/// Where the observatory keeps its data; the embedded default is one
/// SQLite file in the current directory.
#[derive(clap::Args, Clone)]
pub struct DatabaseArg {
    /// sqlite://FILE (created on first start) or postgres://USER@HOST/DB.
    #[arg(long, env = "VIGIE_DATABASE", default_value = "sqlite://vigie.db")]
    pub database: String,
}

/// `vigie serve`: every option may also be set in the `--config` file;
/// an option given here wins over the file.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// The configuration file (vigie.toml); see --print-config.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the commented example configuration and exit.
    #[arg(long, conflicts_with = "config")]
    pub print_config: bool,
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// sqlite://FILE (created on first start) or postgres://USER@HOST/DB
    /// [default: sqlite://vigie.db].
    #[arg(long, env = "VIGIE_DATABASE")]
    pub database: Option<String>,
    /// Mark cookies Secure: use when served behind HTTPS (always so with
    /// --tls-cert).
    #[arg(long)]
    pub secure_cookies: bool,
    /// Serve HTTPS with this certificate (PEM: the server's certificate,
    /// then its intermediates); with --tls-key. Without both, plain HTTP
    /// (behind a reverse proxy that holds the certificate).
    #[arg(long, value_name = "CERT.pem")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, RSA or EC).
    #[arg(long, value_name = "KEY.pem")]
    pub tls_key: Option<PathBuf>,
    /// Let threat lists be fetched from this host name even though it
    /// resolves to an internal address (the territory's own mirror); the
    /// exact name, repeat for several.
    #[arg(long = "allow-list-host", value_name = "HOST")]
    pub allow_list_hosts: Vec<String>,
    /// Connections open at once, all clients together (lowered to fit the
    /// open-file limit) [default: 4096].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Connections open at once from one client address (IPv6: its /64);
    /// 0 = no cap. A trusted proxy is not capped [default: 64].
    #[arg(long, value_name = "N")]
    pub max_connections_per_client: Option<usize>,
    /// A reverse proxy in front of the observatory (repeatable): its
    /// X-Forwarded-For names the client, and its connections are not
    /// capped per client.
    #[arg(long = "trusted-proxy", value_name = "IP")]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The observatory's public address, the start of every link it sends
    /// (e-mails) [default: http://127.0.0.1:8080].
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
}

#[derive(clap::Args)]
pub struct UserAddArgs {
    #[arg(long, conflicts_with = "admin", required_unless_present = "admin")]
    pub email: Option<String>,
    #[arg(long, value_parser = ["admin", "operator", "commune"], required_unless_present = "admin")]
    pub role: Option<String>,
    /// Shorthand for `--email EMAIL --role admin`: the first administrator.
    #[arg(long, value_name = "EMAIL")]
    pub admin: Option<String>,
    /// The commune (INSEE code) of a commune user.
    #[arg(long)]
    pub commune: Option<String>,
    /// Read the password from this file (first line); prompted otherwise.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    #[command(flatten)]
    pub db: DatabaseArg,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Opens the database; a new one gets the built-in Loire territory.
async fn open(db: &DatabaseArg) -> anyhow::Result<Db> {
    let database = connect(db).await?;
    territory::ensure_builtin(&database)
        .await
        .context("territoire intégré (Loire)")?;
    Ok(database)
}

/// Opens the database as it is (an import builds its own territory).
async fn connect(db: &DatabaseArg) -> anyhow::Result<Db> {
    Db::connect(&db.database)
        .await
        .with_context(|| format!("base de données {}", db.database))
}

pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.print_config {
        print!("{}", vigie_server::config::EXAMPLE);
        return Ok(ExitCode::SUCCESS);
    }
    let config = crate::serve_config::merged(&args)?;
    // The e-learning modules are built in: a bad one stops the start here,
    // naming its file, line and field.
    vigie_server::elearning::catalogue()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("modules de formation")?;
    // Checked before the database is opened: a wrong file fails at once.
    let tls = tls_config(&config)?;
    let relay = match &config.smtp {
        Some(smtp) => Some(
            vigie_server::outbox::Relay::new(smtp)
                .and_then(|relay| {
                    relay.for_campaigns(config.campaigns.calendar, config.campaigns.dkim.as_ref())
                })
                .context("relais SMTP")?,
        ),
        None => None,
    };
    runtime()?.block_on(async {
        let db = open(&DatabaseArg {
            database: config.database.clone(),
        })
        .await?;
        let state = AppState::new(db.clone(), config.settings());
        // List fetches, silence alerts, e-mails and purges, each claimed
        // in the database so that replicas run each once.
        let jobs = vigie_server::jobs::standard(&state, relay);
        vigie_server::jobs::Runner::new(db, jobs).spawn(vigie_server::jobs::TICK);
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("impossible d'écouter sur {}", config.listen))?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        println!("Vigie : observatoire sur {scheme}://{}", config.listen);
        if config.smtp.is_none() {
            println!("Aucun relais SMTP configuré : les courriels restent en file d'attente.");
        }
        let stopping = state.clone();
        vigie_server::serve(state, listener, tls)
            .await
            .with_context(|| format!("service sur {}", config.listen))?;
        // The phishing exercises' last events, still in memory, are written
        // before the process ends (a graceful stop loses none).
        stopping
            .tracker
            .flush(&stopping.db, vigie_server::db::now_ms())
            .await
            .context("derniers événements des campagnes")?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The TLS configuration of `--tls-cert` and `--tls-key`: both or neither.
fn tls_config(config: &Config) -> anyhow::Result<Option<Arc<tls::ServerConfig>>> {
    let given = |path: &PathBuf| (!path.as_os_str().is_empty()).then(|| path.clone());
    match (given(&config.tls_cert), given(&config.tls_key)) {
        (Some(cert), Some(key)) => Ok(Some(tls::load_tls_config(&cert, &key)?)),
        (None, None) => Ok(None),
        (Some(_), None) => {
            bail!("--tls-cert demande aussi --tls-key (la clé privée du certificat)")
        }
        (None, Some(_)) => bail!("--tls-key demande aussi --tls-cert (le certificat du serveur)"),
    }
}

pub fn user_add(args: UserAddArgs) -> anyhow::Result<ExitCode> {
    let (email, role) = match (&args.admin, &args.email, &args.role) {
        (Some(admin), _, _) => (admin.clone(), Role::Admin),
        (None, Some(email), Some(role)) => {
            (email.clone(), Role::parse(role).context("rôle inconnu")?)
        }
        _ => bail!("--email et --role sont obligatoires (ou --admin EMAIL)"),
    };
    let password = match &args.password_file {
        Some(path) => crate::read_text(path)?
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        None => {
            let first = rpassword::prompt_password("Mot de passe (12 caractères au moins) : ")?;
            let again = rpassword::prompt_password("Le même, encore : ")?;
            if first != again {
                bail!("les deux saisies diffèrent");
            }
            first
        }
    };
    runtime()?.block_on(async {
        let db = open(&args.db).await?;
        let id = accounts::add_user(&db, &email, role, args.commune.as_deref(), &password).await?;
        println!("Compte créé : {email} ({}, n° {id})", role.label_fr());
        Ok(ExitCode::SUCCESS)
    })
}

pub fn token_create(
    email: String,
    label: String,
    expires_in_days: Option<u32>,
    db: DatabaseArg,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let db = open(&db).await?;
        let new = accounts::NewToken {
            label,
            expires_in_days,
        };
        let token = accounts::create_token_with(&db, &email, &new).await?;
        println!("{token}");
        Ok(ExitCode::SUCCESS)
    })
}

pub fn token_list(email: String, db: DatabaseArg) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let db = open(&db).await?;
        let tokens = accounts::tokens_of_email(&db, &email).await?;
        if tokens.is_empty() {
            println!("Aucun jeton pour {email}.");
        }
        let now = vigie_server::db::now_ms();
        for token in tokens {
            let state = if token.revoked {
                "révoqué"
            } else if token.active(now) {
                "actif"
            } else {
                "expiré"
            };
            let expires = token
                .expires_at
                .map_or_else(|| "jamais".to_owned(), vigie_server::fr::date);
            println!(
                "{}…  {state:8}  créé le {}  expire : {expires}  {}",
                token.prefix,
                vigie_server::fr::date(token.created_at),
                token.label
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn token_revoke(token: String, db: DatabaseArg) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let db = open(&db).await?;
        if accounts::revoke_token(&db, &token, None).await? {
            println!("Jeton révoqué : il ne fonctionne plus.");
            Ok(ExitCode::SUCCESS)
        } else {
            bail!("aucun jeton actif ne correspond à « {} »", token.trim())
        }
    })
}

pub fn user_disable(email: String, db: DatabaseArg) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let db = open(&db).await?;
        if accounts::disable_user(&db, &email).await? {
            println!("Compte {email} désactivé : ses sessions sont fermées et ses jetons arrêtés.");
        } else {
            println!("Le compte {email} était déjà désactivé.");
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn user_enable(email: String, db: DatabaseArg) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let db = open(&db).await?;
        if accounts::enable_user(&db, &email).await? {
            println!("Compte {email} réactivé (ses jetons révoqués le restent).");
        } else {
            println!("Le compte {email} n'était pas désactivé.");
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn sensors_revoke(id: String, db: DatabaseArg) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let db = open(&db).await?;
        if sensors::revoke_sensor(&db, &id).await? {
            println!("Capteur {id} révoqué : son jeton ne fonctionne plus.");
            Ok(ExitCode::SUCCESS)
        } else {
            bail!("aucun capteur « {id} » (voir la liste sur /capteurs)")
        }
    })
}

pub fn sensors_add(commune: String, db: DatabaseArg) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let db = open(&db).await?;
        let sensor = sensors::add_sensor(&db, &commune).await?;
        println!(
            "Boîtier {} créé pour la commune {commune}.",
            sensor.sensor_id
        );
        println!(
            "Code d'enrôlement (à usage unique, valable 7 jours) : {}",
            sensor.code
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub fn import(
    departement: String,
    geojson: PathBuf,
    communes: Option<PathBuf>,
    db: DatabaseArg,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let db = connect(&db).await?;
        let summary = territory::import(&db, &departement, &geojson, communes.as_deref()).await?;
        println!(
            "Département {departement} importé : {} communes, {} avec contour, {} avec coordonnées de mairie.",
            summary.communes, summary.with_geometry, summary.contacts
        );
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configuration of `--tls-cert` and `--tls-key` given so.
    fn args(cert: Option<&str>, key: Option<&str>) -> Config {
        Config {
            tls_cert: cert.map(PathBuf::from).unwrap_or_default(),
            tls_key: key.map(PathBuf::from).unwrap_or_default(),
            ..Config::default()
        }
    }

    #[test]
    fn allow_list_host_repeats() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Serve {
            #[command(flatten)]
            args: ServeArgs,
        }
        let serve = Serve::try_parse_from([
            "serve",
            "--allow-list-host",
            "miroir.departement.local",
            "--allow-list-host",
            "listes.interne",
        ])
        .unwrap();
        assert_eq!(
            serve.args.allow_list_hosts,
            ["miroir.departement.local", "listes.interne"]
        );
    }

    #[test]
    fn tls_flags_come_in_pairs() {
        assert!(tls_config(&args(None, None)).unwrap().is_none());
        let message = tls_config(&args(Some("c.pem"), None))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("--tls-cert demande aussi --tls-key"),
            "{message}"
        );
        let message = tls_config(&args(None, Some("k.pem")))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("--tls-key demande aussi --tls-cert"),
            "{message}"
        );
        let message = tls_config(&args(Some("/nonexistent/c.pem"), Some("k.pem")))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("/nonexistent/c.pem illisible"),
            "{message}"
        );
    }
}
