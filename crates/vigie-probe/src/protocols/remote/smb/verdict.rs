//! From what the SMB negotiations returned to the service, the host facts
//! and the findings. Pure, so every combination is tested without a
//! server.

use chrono::NaiveDate;

use super::ntlm::{Challenge, NtlmVersion};
use super::parse::{Smb1Negotiate, Smb1SessionSetup, Smb2Negotiate, dialect_name};
use super::windows::{self, Release};
use crate::catalog;
use crate::target::{PortResult, Target};
use vigie_core::probe::{Finding, Service};

/// What the SMB2 connection returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smb2Outcome {
    pub negotiate: Smb2Negotiate,
    pub challenge: Option<Challenge>,
}

/// What the SMB1 connection returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smb1Outcome {
    pub negotiate: Smb1Negotiate,
    /// The session setup answer, when the dialect was accepted.
    pub setup: Option<Smb1SessionSetup>,
}

impl Smb1Outcome {
    pub fn accepted(&self) -> bool {
        self.negotiate.dialect_index == Some(0)
    }

    fn challenge(&self) -> Option<Challenge> {
        let setup = self.setup.as_ref()?;
        super::ntlm::parse_challenge_in(&setup.security_blob).ok()
    }
}

/// The Windows the server runs, as far as it tells.
struct WindowsIdentity {
    version: NtlmVersion,
    release: Option<Release>,
    /// The SMB1 NativeOS string when it says more than `Windows x.y`.
    native_os: Option<String>,
}

/// The result for the port: `None` if neither negotiation got an SMB
/// answer.
pub fn assemble(
    target: &Target,
    smb1: Option<Smb1Outcome>,
    smb2: Option<Smb2Outcome>,
    today: NaiveDate,
) -> Option<PortResult> {
    if smb1.is_none() && smb2.is_none() {
        return None;
    }
    let smb1_accepted = smb1.as_ref().is_some_and(Smb1Outcome::accepted);
    let setup = smb1.as_ref().and_then(|o| o.setup.as_ref());
    let samba = setup
        .and_then(|s| s.native_lanman.as_deref())
        .and_then(|lanman| lanman.strip_prefix("Samba"))
        .map(|version| version.trim().to_owned());
    let challenge = smb2
        .as_ref()
        .and_then(|o| o.challenge.clone())
        .or_else(|| smb1.as_ref().and_then(Smb1Outcome::challenge));
    let windows = match samba {
        Some(_) => None,
        None => windows_identity(challenge.as_ref(), setup),
    };

    let product = match (&samba, &windows) {
        (Some(version), _) => Some(("Samba".to_owned(), version.clone())),
        (None, Some(windows)) => Some(("Windows".to_owned(), version_text(windows.version))),
        _ => None,
    };
    let banner = banner(smb2.as_ref(), smb1_accepted, challenge.as_ref());
    let mut result = PortResult::service(service(target, product, banner));
    result.names = names(challenge.as_ref());
    result.os = windows.as_ref().map(os_text);

    if smb1_accepted {
        result.findings.push(finding(
            "smb.v1",
            target,
            "le serveur a accepté le dialecte SMB1 « NT LM 0.12 »".to_owned(),
        ));
    }
    if let Some(evidence) = signing_evidence(smb1.as_ref(), smb2.as_ref()) {
        result
            .findings
            .push(finding("smb.signing_not_required", target, evidence));
    }
    if let Some(windows) = &windows {
        let name = os_text(windows);
        if smb1_accepted && windows::ms17_010_concerned(windows.version) {
            result.findings.push(finding(
                "smb.ms17_010_exposure",
                target,
                format!("SMB1 accepté par {name} : exposé à MS17-010 si le correctif de mars 2017 manque"),
            ));
        }
        if let Some(release) = windows
            .release
            .filter(|r| windows::is_end_of_life(*r, today))
        {
            result.findings.push(finding(
                "os.windows_eol",
                target,
                format!(
                    "{name} : plus aucune mise à jour de sécurité depuis le {}",
                    french_date(release.end_of_support)
                ),
            ));
        }
    }
    Some(result)
}

fn windows_identity(
    challenge: Option<&Challenge>,
    setup: Option<&Smb1SessionSetup>,
) -> Option<WindowsIdentity> {
    let native_os = setup
        .and_then(|s| s.native_os.clone())
        .filter(|os| os.starts_with("Windows"));
    let from_ntlm = challenge.and_then(|c| c.version).filter(|v| v.build != 0);
    let version = from_ntlm.or_else(|| {
        native_os
            .as_deref()
            .and_then(windows::version_from_native_os)
    })?;
    let detailed =
        native_os.filter(|os| windows::version_from_native_os(os).is_some_and(|v| v.build != 0));
    Some(WindowsIdentity {
        version,
        release: windows::release(version),
        native_os: detailed,
    })
}

/// `10.0.19045`, or `5.1` when the build is unknown.
fn version_text(version: NtlmVersion) -> String {
    if version.build == 0 {
        format!("{}.{}", version.major, version.minor)
    } else {
        format!("{}.{}.{}", version.major, version.minor, version.build)
    }
}

/// `Windows 7 Professional 7601 Service Pack 1`, or the release's name
/// and build.
fn os_text(windows: &WindowsIdentity) -> String {
    if let Some(native_os) = &windows.native_os {
        return native_os.clone();
    }
    let name = windows.release.map_or("Windows", |r| r.name);
    format!("{name} (version {})", version_text(windows.version))
}

/// Which of the dialect families the server accepts lets a client skip
/// signing.
fn signing_evidence(smb1: Option<&Smb1Outcome>, smb2: Option<&Smb2Outcome>) -> Option<String> {
    let mut unsigned = Vec::new();
    if let Some(smb2) = smb2.filter(|o| !o.negotiate.signing_required) {
        unsigned.push(format!("SMB {}", dialect_name(smb2.negotiate.dialect)));
    }
    if smb1.is_some_and(|o| o.accepted() && !o.negotiate.signing_required) {
        unsigned.push("SMB1".to_owned());
    }
    (!unsigned.is_empty()).then(|| {
        format!(
            "signature des échanges proposée mais non exigée ({})",
            unsigned.join(", ")
        )
    })
}

/// The host's names, DNS first, without repeats.
fn names(challenge: Option<&Challenge>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if let Some(challenge) = challenge {
        for name in [&challenge.dns_computer, &challenge.netbios_computer]
            .into_iter()
            .flatten()
        {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                names.push(name.clone());
            }
        }
    }
    names
}

fn banner(
    smb2: Option<&Smb2Outcome>,
    smb1_accepted: bool,
    challenge: Option<&Challenge>,
) -> String {
    let mut parts = Vec::new();
    if let Some(smb2) = smb2 {
        parts.push(format!("SMB {}", dialect_name(smb2.negotiate.dialect)));
    }
    if smb1_accepted {
        parts.push("SMB1".to_owned());
    }
    if let Some(challenge) = challenge {
        if let Some(computer) = &challenge.netbios_computer {
            parts.push(computer.clone());
        }
        if let Some(domain) = challenge
            .netbios_domain
            .as_ref()
            .or(challenge.target_name.as_ref())
        {
            parts.push(format!("domaine {domain}"));
        }
    }
    if parts.is_empty() {
        parts.push("SMB".to_owned());
    }
    parts.join(", ")
}

/// The date a release stopped being supported, as the report prints it.
fn french_date(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// The service entry for what was learned.
fn service(target: &Target, product: Option<(String, String)>, banner: String) -> Service {
    let (product, version) = product.unzip();
    Service {
        port: target.port,
        transport: target.transport,
        name: "smb".to_owned(),
        product,
        version,
        tls: false,
        banner: Some(banner),
    }
}

fn finding(id: &str, target: &Target, evidence: String) -> Finding {
    catalog::finding(id, target, evidence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::remote::smb::parse::{
        parse_smb1_negotiate, parse_smb1_session_setup, parse_smb2_negotiate,
    };

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn target() -> Target {
        Target::tcp("10.66.0.7".parse().unwrap(), 445)
    }

    fn windows_challenge(build: u16, major: u8, minor: u8) -> Challenge {
        Challenge {
            target_name: Some("MAIRIE".to_owned()),
            netbios_computer: Some("ACCUEIL".to_owned()),
            netbios_domain: Some("MAIRIE".to_owned()),
            dns_computer: Some("accueil.mairie.local".to_owned()),
            version: Some(NtlmVersion {
                major,
                minor,
                build,
            }),
            ..Challenge::default()
        }
    }

    fn smb2(dialect: u16, signing_required: bool, challenge: Option<Challenge>) -> Smb2Outcome {
        Smb2Outcome {
            negotiate: Smb2Negotiate {
                dialect,
                signing_required,
                server_guid: [0; 16],
                security_blob: Vec::new(),
            },
            challenge,
        }
    }

    fn smb1(accepted: bool, native_os: Option<&str>) -> Smb1Outcome {
        Smb1Outcome {
            negotiate: Smb1Negotiate {
                dialect_index: accepted.then_some(0),
                signing_required: false,
                extended_security: true,
                domain: None,
                server: None,
            },
            setup: native_os.map(|os| Smb1SessionSetup {
                status: 0,
                security_blob: Vec::new(),
                native_os: Some(os.to_owned()),
                native_lanman: Some("Windows 7 Professional 6.1".to_owned()),
            }),
        }
    }

    fn ids(result: &PortResult) -> Vec<&str> {
        let mut ids: Vec<&str> = result.findings.iter().map(|f| f.id.as_str()).collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn windows_7_with_smb1() {
        let result = assemble(
            &target(),
            Some(smb1(
                true,
                Some("Windows 7 Professional 7601 Service Pack 1"),
            )),
            Some(smb2(0x0210, false, Some(windows_challenge(7601, 6, 1)))),
            day(),
        )
        .unwrap();
        assert_eq!(
            ids(&result),
            [
                "os.windows_eol",
                "smb.ms17_010_exposure",
                "smb.signing_not_required",
                "smb.v1"
            ]
        );
        assert_eq!(result.service.product.as_deref(), Some("Windows"));
        assert_eq!(result.service.version.as_deref(), Some("6.1.7601"));
        assert_eq!(
            result.os.as_deref(),
            Some("Windows 7 Professional 7601 Service Pack 1")
        );
        assert_eq!(result.names, ["accueil.mairie.local", "ACCUEIL"]);
        assert_eq!(
            result.service.banner.as_deref(),
            Some("SMB 2.1, SMB1, ACCUEIL, domaine MAIRIE")
        );
        let eol = result
            .findings
            .iter()
            .find(|f| f.id == "os.windows_eol")
            .unwrap();
        assert!(eol.evidence.contains("14/01/2020"), "{}", eol.evidence);
    }

    #[test]
    fn current_windows_signing_required() {
        let result = assemble(
            &target(),
            Some(smb1(false, None)),
            Some(smb2(0x0311, true, Some(windows_challenge(26100, 10, 0)))),
            day(),
        )
        .unwrap();
        assert!(ids(&result).is_empty());
        assert_eq!(
            result.os.as_deref(),
            Some("Windows 11 24H2 / Server 2025 (version 10.0.26100)")
        );
        // Server 2016 with SMB1: exposure, still supported.
        let result = assemble(
            &target(),
            Some(smb1(true, None)),
            Some(smb2(0x0311, true, Some(windows_challenge(14393, 10, 0)))),
            day(),
        )
        .unwrap();
        assert_eq!(
            ids(&result),
            [
                "smb.ms17_010_exposure",
                "smb.signing_not_required",
                "smb.v1"
            ]
        );
        // Windows 10 22H2 without SMB1: end of life only.
        let result = assemble(
            &target(),
            None,
            Some(smb2(0x0311, true, Some(windows_challenge(19045, 10, 0)))),
            day(),
        )
        .unwrap();
        assert_eq!(ids(&result), ["os.windows_eol"]);
    }

    #[test]
    fn xp_from_native_os_only() {
        let result = assemble(
            &target(),
            Some(smb1(true, Some("Windows 5.1"))),
            None,
            day(),
        )
        .unwrap();
        assert_eq!(
            ids(&result),
            [
                "os.windows_eol",
                "smb.ms17_010_exposure",
                "smb.signing_not_required",
                "smb.v1"
            ]
        );
        assert_eq!(result.service.version.as_deref(), Some("5.1"));
        assert_eq!(result.os.as_deref(), Some("Windows XP (version 5.1)"));
    }

    #[test]
    fn recorded_samba_is_not_windows() {
        let smb1 = Smb1Outcome {
            negotiate: parse_smb1_negotiate(include_bytes!(
                "../../../../tests/probe/remote/data/samba417_smb1_negotiate.bin"
            ))
            .unwrap(),
            setup: parse_smb1_session_setup(include_bytes!(
                "../../../../tests/probe/remote/data/samba417_smb1_session_setup.bin"
            ))
            .ok(),
        };
        let negotiate = parse_smb2_negotiate(include_bytes!(
            "../../../../tests/probe/remote/data/samba417_smb2_negotiate.bin"
        ))
        .unwrap();
        let smb2 = Smb2Outcome {
            negotiate,
            challenge: None,
        };
        let result = assemble(&target(), Some(smb1), Some(smb2), day()).unwrap();
        assert_eq!(result.service.product.as_deref(), Some("Samba"));
        assert_eq!(result.service.version.as_deref(), Some("4.17.12-Debian"));
        assert_eq!(result.os, None);
        assert_eq!(ids(&result), ["smb.signing_not_required", "smb.v1"]);
        assert_eq!(assemble(&target(), None, None, day()), None);
    }
}
