//! `vigie serve`'s configuration: the `--config` file (or the defaults),
//! then each command-line option given, which wins over the file.

use anyhow::bail;
use vigie_server::config::Config;

use crate::server::ServeArgs;

/// The file of `--config` (defaults without one), with the options given
/// on the command line (or in `VIGIE_DATABASE`) over it.
pub fn merged(args: &ServeArgs) -> anyhow::Result<Config> {
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    override_with(&mut config, args)?;
    Ok(config)
}

fn override_with(config: &mut Config, args: &ServeArgs) -> anyhow::Result<()> {
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(database) = &args.database {
        config.database.clone_from(database);
    }
    config.secure_cookies |= args.secure_cookies;
    if args.tls_cert.is_some() || args.tls_key.is_some() {
        config.tls_cert = args.tls_cert.clone().unwrap_or_default();
        config.tls_key = args.tls_key.clone().unwrap_or_default();
    }
    if !args.allow_list_hosts.is_empty() {
        config.allow_list_hosts.clone_from(&args.allow_list_hosts);
    }
    if !args.trusted_proxies.is_empty() {
        config.trusted_proxies.clone_from(&args.trusted_proxies);
    }
    if let Some(max) = args.max_connections {
        config.max_connections = max;
    }
    if let Some(max) = args.max_connections_per_client {
        config.max_connections_per_client = max;
    }
    if let Some(url) = &args.public_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!("--public-url : « {url} » n'est pas une adresse http:// ou https://");
        }
        config.public_url = url.trim_end_matches('/').to_owned();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn merged_from(file: &str, flags: &[&str]) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("vigie.toml");
        std::fs::write(&path, file)?;
        let config_arg = path.display().to_string();
        let mut argv = vec!["serve", "--config", &config_arg];
        argv.extend_from_slice(flags);
        let cli = Cli::try_parse_from(argv)?;
        merged(&cli.serve)
    }

    #[test]
    fn flags_win_over_the_file() -> anyhow::Result<()> {
        let file = "listen = \"127.0.0.1:9000\"\nmax_connections = 10\n\
                    public_url = \"https://obs.example.fr\"\n";
        let config = merged_from(file, &[])?;
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.max_connections, 10);
        let config = merged_from(
            file,
            &["--listen", "127.0.0.1:9100", "--max-connections", "20"],
        )?;
        assert_eq!(config.listen.port(), 9100);
        assert_eq!(config.max_connections, 20);
        assert_eq!(config.public_url, "https://obs.example.fr");
        Ok(())
    }

    #[test]
    fn a_bad_file_is_named_in_french() {
        let error = merged_from("[smtp]\nhost = \"relais\"\nprot = 25\n", &[])
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(
            error.contains("vigie.toml, ligne 3 : clé inconnue « prot »"),
            "{error}"
        );
    }
}
