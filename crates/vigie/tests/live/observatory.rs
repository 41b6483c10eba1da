//! The observatory of the lab: a test certificate authority and the
//! observatory's certificate (rcgen), `vigie serve` over HTTPS in the
//! observatory's namespace on a fresh SQLite database, an administrator
//! with a personal token to read the API, and the sensor to enrol. It is
//! read from the router's namespace (curl), the only one that reaches it,
//! and its database is read directly for what the API does not show.

use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::Signal;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use serde_json::Value;

use super::lab::{Lab, Proc, progress, set_mode, tail, wait_until};

/// The commune of the test: Saint-Étienne, in the built-in territory.
pub const COMMUNE: &str = "42218";
pub const PORT: u16 = 8443;
/// The administrator, who signs in with [`ADMIN_PASSWORD`].
pub const ADMIN: &str = "admin@vigie-live.test";
pub const ADMIN_PASSWORD: &str = "mot de passe du test live";

/// The test's certificate authority and the observatory's certificate.
pub struct Certificates {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
    pub ca_der: Vec<u8>,
    pub cert_der: Vec<u8>,
    pub key_der: Vec<u8>,
}

impl Certificates {
    /// A CA and a certificate for `ip`, signed by it.
    pub fn for_ip(ip: &str) -> Certificates {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Vigie live test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA certificate");
        let key = KeyPair::generate().expect("server key");
        let mut params = CertificateParams::new(vec![ip.to_owned()]).expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "observatoire de test");
        let cert = params.signed_by(&key, &ca).expect("server certificate");
        Certificates {
            ca_pem: ca.as_ref().pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            ca_der: ca.as_ref().der().to_vec(),
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        }
    }
}

/// `vigie serve` with HTTPS in the observatory's namespace.
pub struct Observatory {
    pub ip: String,
    pub db: PathBuf,
    pub ca_file: PathBuf,
    cert_file: PathBuf,
    key_file: PathBuf,
    pub certificates: Certificates,
    token: String,
    log: PathBuf,
    ns_obs: String,
    ns_rtr: String,
    process: Option<Proc>,
}

impl Observatory {
    /// Writes the certificates, creates the database with an administrator
    /// and its token; does not start serving.
    pub fn create(lab: &Lab) -> Observatory {
        let ip = lab.fact("OBS_IP").to_owned();
        let certificates = Certificates::for_ip(&ip);
        let (ca_file, cert_file, key_file) = (
            lab.path("ca.pem"),
            lab.path("observatory-cert.pem"),
            lab.path("observatory-key.pem"),
        );
        std::fs::write(&ca_file, &certificates.ca_pem).expect("write ca.pem");
        std::fs::write(&cert_file, &certificates.cert_pem).expect("write the certificate");
        std::fs::write(&key_file, &certificates.key_pem).expect("write the key");
        set_mode(&ca_file, 0o644);
        set_mode(&key_file, 0o600);
        let db = lab.path("vigie.db");
        let mut observatory = Observatory {
            ip,
            db,
            ca_file,
            cert_file,
            key_file,
            certificates,
            token: String::new(),
            log: lab.path("observatory.log"),
            ns_obs: lab.ns_obs().to_owned(),
            ns_rtr: lab.ns_rtr().to_owned(),
            process: None,
        };
        let password = lab.path("admin-password");
        std::fs::write(&password, format!("{ADMIN_PASSWORD}\n")).expect("write the password");
        observatory.vigie(
            &[
                "user",
                "add",
                "--email",
                ADMIN,
                "--role",
                "admin",
                "--password-file",
            ],
            &[password.to_str().expect("UTF-8 path")],
        );
        let token = observatory.vigie(&["token", "create", "--email", ADMIN], &[]);
        observatory.token = token.trim().to_owned();
        assert!(
            observatory.token.starts_with("vgt_"),
            "not a token: {token}"
        );
        observatory
    }

    pub fn url(&self) -> String {
        format!("https://{}:{PORT}", self.ip)
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}", self.db.display())
    }

    /// Runs a `vigie` administration command on the database.
    fn vigie(&self, args: &[&str], more: &[&str]) -> String {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_vigie"))
            .args(args)
            .args(more)
            .args(["--database", &self.database_url()])
            .output()
            .expect("cannot run vigie");
        assert!(
            output.status.success(),
            "vigie {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// A new sensor of the commune; returns its one-time enrolment code.
    pub fn add_sensor(&self) -> String {
        let out = self.vigie(&["sensors", "add", "--commune", COMMUNE], &[]);
        out.lines()
            .find_map(|line| {
                line.strip_prefix("Code d'enrôlement (à usage unique, valable 7 jours) : ")
            })
            .map(|code| code.trim().to_owned())
            .unwrap_or_else(|| panic!("no enrolment code in: {out}"))
    }

    /// Starts serving and waits until it answers over HTTPS.
    pub fn start(&mut self) {
        assert!(self.process.is_none(), "the observatory runs already");
        let listen = format!("{}:{PORT}", self.ip);
        let mut process = Proc::start(
            &self.ns_obs,
            "observatory",
            &self.log,
            env!("CARGO_BIN_EXE_vigie"),
            &[
                "serve",
                "--listen",
                &listen,
                "--database",
                &self.database_url(),
                "--tls-cert",
                self.cert_file.to_str().expect("UTF-8 path"),
                "--tls-key",
                self.key_file.to_str().expect("UTF-8 path"),
            ],
        );
        process.wait_program_pid();
        self.process = Some(process);
        let up = wait_until(
            "the observatory to answer over HTTPS",
            Duration::from_secs(60),
            || self.get("/api/v1/me").is_ok(),
        );
        assert!(up, "the observatory does not answer:\n{}", tail(&self.log));
        progress(&format!("observatory up at {}", self.url()));
    }

    /// Stops serving (SIGTERM), as an administrator or a crash would.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop_with(Signal::SIGTERM, Duration::from_secs(20));
            progress("observatory stopped");
        }
    }

    /// GET on the API from the router's namespace with the administrator's
    /// token: the JSON answer, or what went wrong.
    pub fn get(&self, path: &str) -> Result<Value, String> {
        let url = format!("{}{path}", self.url());
        let auth = format!("Authorization: Bearer {}", self.token);
        let output = std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns_rtr,
                "curl",
                "-sS",
                "--max-time",
                "10",
            ])
            .arg("--cacert")
            .arg(&self.ca_file)
            .args(["-H", &auth, "-w", "\n%{http_code}", &url])
            .output()
            .map_err(|e| format!("cannot run curl: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout);
        let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
        if !output.status.success() || status != "200" {
            return Err(format!(
                "GET {path}: HTTP {status} {body} {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        serde_json::from_str(body).map_err(|e| format!("GET {path}: not JSON ({e}): {body}"))
    }

    /// One number from the database (the API does not show it).
    pub fn scalar(&self, sql: &str) -> i64 {
        self.value(sql)
    }

    /// One value of any type from the database; `sql` must give one row.
    pub fn value<T>(&self, sql: &str) -> T
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + Unpin,
    {
        let url = format!("sqlite://{}?mode=ro", self.db.display());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(async {
            sqlx::any::install_default_drivers();
            let pool = sqlx::any::AnyPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await
                .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
            let value: T = sqlx::query_scalar(sql)
                .fetch_one(&pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            pool.close().await;
            value
        })
    }

    /// Batches the observatory stored.
    pub fn reports(&self) -> i64 {
        self.scalar("SELECT COUNT(*) FROM reports")
    }

    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }
}

impl Drop for Observatory {
    fn drop(&mut self) {
        self.stop();
    }
}
