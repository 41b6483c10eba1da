//! `vigie sensor enroll`: exchanges the one-time code for the sensor's
//! token, and leaves the box ready to start: the configuration (the
//! existing one updated, or the documented example filled in), the token
//! file and the host key, all readable by their owner only.
//!
//! It must not lose a code to a mistake it could have seen first: the new
//! configuration is checked and written, and the host key made, before the
//! code is used.

use std::path::{Path, PathBuf};

use super::{Trust, UplinkError, check_url, pin_hex};
use crate::live::box_config::{
    BoxConfig, BoxConfigError, EXAMPLE_TOML, load_or_create_host_key, set_key, write_private,
};

/// What `vigie sensor enroll` was given.
#[derive(Clone, Debug)]
pub struct EnrollOptions {
    /// The observatory's base URL.
    pub server: String,
    /// `None`: keep the existing configuration's trust (the built-in
    /// authorities for a new one).
    pub trust: Option<Trust>,
    /// The one-time enrolment code.
    pub code: String,
    /// The configuration to update or create.
    pub config_path: PathBuf,
    /// The commune's INSEE code; `None`: the observatory's, if its
    /// enrolment answer names it (docs/api.md's answer does not yet).
    pub commune: Option<String>,
    /// Interfaces to watch; required when there is no configuration yet.
    pub interfaces: Vec<String>,
    /// `None`: keep the configuration's (`/var/lib/vigie` for a new one).
    pub state_dir: Option<PathBuf>,
    /// Accept an `http://` server: test observatories only.
    pub allow_plain_http: bool,
}

/// What enrolment did.
#[derive(Clone, Debug)]
pub struct Enrollment {
    pub sensor_id: String,
    /// The configuration as written.
    pub config: BoxConfig,
    /// False when an existing configuration was updated.
    pub created_config: bool,
    /// The user now owning the state directory (`[capture] user`), when
    /// enrolment ran as root and that user exists; otherwise the daemon,
    /// once it has dropped root, may be unable to write there.
    pub state_owner: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error(transparent)]
    Config(#[from] BoxConfigError),
    #[error("enrolment refused or failed: {0}")]
    Uplink(#[from] UplinkError),
    #[error(
        "there is no configuration at {} yet: name the interface(s) to watch (e.g. the mirror port)",
        path.display()
    )]
    NoInterface { path: PathBuf },
    #[error("cannot update {} automatically ({what}): edit it by hand or move it away", path.display())]
    Edit { path: PathBuf, what: String },
}

/// Enrols the box: see the module documentation for the order of steps.
pub fn enroll_box(options: &EnrollOptions) -> Result<Enrollment, EnrollError> {
    let path = &options.config_path;
    let (text, created_config) = match std::fs::read_to_string(path) {
        Ok(text) => (text, false),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if options.interfaces.is_empty() {
                return Err(EnrollError::NoInterface { path: path.clone() });
            }
            (EXAMPLE_TOML.to_owned(), true)
        }
        Err(source) => {
            return Err(BoxConfigError::Read {
                path: path.clone(),
                source,
            }
            .into());
        }
    };
    let (text, config) = updated_config(&text, options)?;
    write_private(path, text.as_bytes())?;
    load_or_create_host_key(&config.host_key_path())?;
    let state_owner = hand_over_state(&config)?;
    let enrolled = config.observatory.uplink(None)?.enroll(&options.code)?;
    write_private(
        &config.observatory.token_file,
        format!("{}\n", enrolled.token).as_bytes(),
    )?;
    let config = match (&options.commune, &enrolled.commune) {
        (None, Some(commune)) => with_commune(&text, config, commune, path)?,
        _ => config,
    };
    Ok(Enrollment {
        sensor_id: enrolled.sensor_id,
        config,
        created_config,
        state_owner,
    })
}

/// Names the commune the observatory gave in the configuration; a code it
/// sent that is not an INSEE code is left out rather than failing an
/// enrolment that succeeded.
fn with_commune(
    text: &str,
    config: BoxConfig,
    commune: &str,
    path: &Path,
) -> Result<BoxConfig, EnrollError> {
    let value = toml::Value::String(commune.trim().to_owned());
    let text = set_key(text, "", "commune", Some(&value));
    match BoxConfig::from_toml(&text, path) {
        Ok(named) => {
            write_private(path, text.as_bytes())?;
            Ok(named)
        }
        Err(_) => Ok(config),
    }
}

/// Gives the state directory and the host key to the user the daemon
/// becomes after opening the interfaces, so that it can still read the key
/// and write its checkpoint and spool there.
fn hand_over_state(config: &BoxConfig) -> Result<Option<String>, EnrollError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    let Ok(Some(user)) = nix::unistd::User::from_name(&config.capture.user) else {
        return Ok(None);
    };
    for path in [config.storage.state_dir.clone(), config.host_key_path()] {
        nix::unistd::chown(&path, Some(user.uid), Some(user.gid)).map_err(|errno| {
            BoxConfigError::Write {
                path: path.clone(),
                source: errno.into(),
            }
        })?;
    }
    Ok(Some(user.name))
}

/// `text` with the options applied, and the configuration it now gives,
/// checked to hold what was asked.
fn updated_config(text: &str, options: &EnrollOptions) -> Result<(String, BoxConfig), EnrollError> {
    let path = &options.config_path;
    let string = |s: &str| toml::Value::String(s.to_owned());
    let mut text = set_key(
        text,
        "observatory",
        "url",
        Some(&string(options.server.trim())),
    );
    text = set_key(
        &text,
        "observatory",
        "allow_plain_http",
        Some(&toml::Value::Boolean(options.allow_plain_http)),
    );
    let trust = options.trust.as_ref().map(absolute_trust).transpose()?;
    if let Some(trust) = &trust {
        let (ca_file, pin) = match trust {
            Trust::SystemRoots => (None, None),
            Trust::CaFile(file) => (Some(string(&file.to_string_lossy())), None),
            Trust::PinnedSha256(pin) => (None, Some(string(&pin_hex(pin)))),
        };
        text = set_key(&text, "observatory", "ca_file", ca_file.as_ref());
        text = set_key(&text, "observatory", "pin_sha256", pin.as_ref());
    }
    if let Some(commune) = &options.commune {
        text = set_key(&text, "", "commune", Some(&string(commune.trim())));
    }
    if !options.interfaces.is_empty() {
        let names = options.interfaces.iter().map(|i| string(i)).collect();
        text = set_key(
            &text,
            "capture",
            "interfaces",
            Some(&toml::Value::Array(names)),
        );
    }
    if let Some(dir) = &options.state_dir {
        let dir = absolute(dir)?;
        text = set_key(
            &text,
            "storage",
            "state_dir",
            Some(&string(&dir.to_string_lossy())),
        );
    }
    let config = BoxConfig::from_toml(&text, path)?;
    let edit_failed = |what: &str| EnrollError::Edit {
        path: path.clone(),
        what: what.to_owned(),
    };
    if trust.is_some_and(|trust| trust != config.observatory.trust) {
        return Err(edit_failed("[observatory] ca_file / pin_sha256"));
    }
    if !options.interfaces.is_empty() && options.interfaces != config.capture.interfaces {
        return Err(edit_failed("[capture] interfaces"));
    }
    let scheme = if options.allow_plain_http && options.server.trim().starts_with("http://") {
        "http"
    } else {
        "https"
    };
    if check_url(options.server.trim(), scheme)? != config.observatory.url {
        return Err(edit_failed("[observatory] url"));
    }
    Ok((text, config))
}

/// A CA file named on the command line is relative to the current
/// directory, not to the configuration's.
fn absolute_trust(trust: &Trust) -> Result<Trust, EnrollError> {
    Ok(match trust {
        Trust::CaFile(file) => Trust::CaFile(absolute(file)?),
        other => other.clone(),
    })
}

fn absolute(path: &Path) -> Result<PathBuf, EnrollError> {
    std::path::absolute(path).map_err(|source| {
        BoxConfigError::Read {
            path: path.to_path_buf(),
            source,
        }
        .into()
    })
}
