//! The web and remote shells: HTTP(S), TLS certificates and versions, SSH, outdated products against the CVE table.
