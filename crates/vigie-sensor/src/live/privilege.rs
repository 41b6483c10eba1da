//! Dropping privileges once the capture is open: switch from root to an
//! unprivileged user, or, when already started unprivileged (the systemd
//! unit's `User=vigie` with `AmbientCapabilities=`), shed every capability
//! not still needed. A kept capability is made ambient so the programs the
//! sensor runs inherit it: `nft`, in filter mode, needs CAP_NET_ADMIN.
//!
//! It must run before the sensor starts other threads: capabilities belong
//! to each thread and only the calling thread's are narrowed (from root,
//! threads started earlier lose all of theirs at the user switch; started
//! unprivileged, they would keep theirs). It must never leave a way back to
//! root: after the switch it checks that setuid(0) fails.

use std::ffi::CString;

use caps::{CapSet, Capability, CapsHashSet};
use nix::errno::Errno;
use nix::unistd::{self, Gid, Uid, User};
use thiserror::Error;

/// Why the sensor could not give up its privileges. Shown to whoever
/// starts it, so in French; the sensor stops rather than run privileged.
#[derive(Debug, Error)]
pub enum PrivilegeError {
    #[error("l'utilisateur « {0} » n'existe pas (le créer : adduser --system {0})")]
    UnknownUser(String),
    #[error("lecture impossible de l'utilisateur « {user} » dans la base des comptes : {source}")]
    Lookup { user: String, source: Errno },
    #[error("l'utilisateur « {0} » a l'uid 0 : le capteur ne doit pas tourner en root")]
    RootUser(String),
    #[error("garder {0} permettrait de redevenir root : capacité refusée")]
    Forbidden(Capability),
    #[error(
        "la capacité {0} n'est pas accordée au capteur \
         (l'ajouter à AmbientCapabilities= dans l'unité systemd)"
    )]
    Missing(Capability),
    #[error("échec de {step} : {source}")]
    System { step: &'static str, source: Errno },
    #[error("échec du réglage des capacités ({step}) : {reason}")]
    Capabilities { step: &'static str, reason: String },
    #[error("vérification après l'abandon des privilèges : {0}")]
    Verification(String),
}

/// Gives up root (switching to `user`) or, when not root, every capability
/// but `keep` (`user` is then not looked at: systemd already chose it).
/// Afterwards the thread's effective, permitted, inheritable and ambient
/// sets are exactly `keep`. Call it before starting threads.
pub fn drop_privileges(user: &str, keep: &[Capability]) -> Result<(), PrivilegeError> {
    let keep: CapsHashSet = keep.iter().copied().collect();
    // Either would let the sensor switch back to root's ids.
    for cap in [Capability::CAP_SETUID, Capability::CAP_SETGID] {
        if keep.contains(&cap) {
            return Err(PrivilegeError::Forbidden(cap));
        }
    }
    if unistd::geteuid().is_root() {
        leave_root(user, &keep)
    } else {
        narrow(&keep)
    }
}

fn leave_root(name: &str, keep: &CapsHashSet) -> Result<(), PrivilegeError> {
    let user = match User::from_name(name) {
        Ok(Some(user)) => user,
        Ok(None) => return Err(PrivilegeError::UnknownUser(name.to_owned())),
        Err(source) => {
            return Err(PrivilegeError::Lookup {
                user: name.to_owned(),
                source,
            });
        }
    };
    if user.uid.is_root() {
        return Err(PrivilegeError::RootUser(name.to_owned()));
    }
    // Checked now, while nothing has changed yet.
    if let Some(missing) = missing(keep, &read(CapSet::Permitted)?) {
        return Err(PrivilegeError::Missing(missing));
    }
    // While CAP_SETPCAP is still ours: no program run later (set-uid or
    // with file capabilities) can bring back what is given up here.
    trim_bounding_set(keep)?;
    // Without it the kernel empties the permitted set at the switch and the
    // kept capabilities would be lost (capabilities(7), "Effect of user ID
    // changes on capabilities").
    set_keepcaps(true)?;
    switch_user(&user)?;
    set_keepcaps(false)?;
    narrow(keep)?;
    verify_user(&user)
}

/// Supplementary groups, then group, then user: each step needs the root
/// the next one gives up. Real, effective and saved ids all change, so no
/// saved id is left to switch back to.
fn switch_user(user: &User) -> Result<(), PrivilegeError> {
    let system = |step| move |source| PrivilegeError::System { step, source };
    let name = CString::new(user.name.as_str()).map_err(|_| PrivilegeError::System {
        step: "initgroups (nom d'utilisateur)",
        source: Errno::EINVAL,
    })?;
    unistd::initgroups(&name, user.gid).map_err(system("initgroups"))?;
    unistd::setresgid(user.gid, user.gid, user.gid).map_err(system("setresgid"))?;
    unistd::setresuid(user.uid, user.uid, user.uid).map_err(system("setresuid"))
}

/// Leaves this thread exactly `keep` in its effective, inheritable,
/// permitted and ambient sets, in the order the kernel allows: effective
/// must stay within permitted, ambient within permitted and inheritable.
fn narrow(keep: &CapsHashSet) -> Result<(), PrivilegeError> {
    let permitted = read(CapSet::Permitted)?;
    if let Some(missing) = missing(keep, &permitted) {
        return Err(PrivilegeError::Missing(missing));
    }
    if has_effective(Capability::CAP_SETPCAP)? {
        trim_bounding_set(keep)?;
    }
    for (set, step) in [
        (CapSet::Effective, "effectives"),
        (CapSet::Inheritable, "héritables"),
        (CapSet::Permitted, "permises"),
    ] {
        caps::set(None, set, keep).map_err(|error| capabilities(step, error))?;
    }
    if keep.is_empty() {
        caps::clear(None, CapSet::Ambient).map_err(|error| capabilities("ambiantes", error))?;
    } else {
        caps::set(None, CapSet::Ambient, keep).map_err(|error| capabilities("ambiantes", error))?;
    }
    verify_capabilities(keep)
}

/// Drops from the bounding set every capability the running kernel knows
/// but `keep` does not hold. Needs CAP_SETPCAP.
fn trim_bounding_set(keep: &CapsHashSet) -> Result<(), PrivilegeError> {
    let bounding = read(CapSet::Bounding)?;
    for cap in bounding.difference(keep) {
        caps::drop(None, CapSet::Bounding, *cap)
            .map_err(|error| capabilities("ensemble limite", error))?;
    }
    Ok(())
}

fn verify_user(user: &User) -> Result<(), PrivilegeError> {
    let ids = (unistd::getuid(), unistd::geteuid());
    if ids != (user.uid, user.uid) {
        let (real, effective) = ids;
        return Err(PrivilegeError::Verification(format!(
            "uid réel {real}, effectif {effective} au lieu de {}",
            user.uid
        )));
    }
    let groups = (unistd::getgid(), unistd::getegid());
    if groups != (user.gid, user.gid) {
        let (real, effective) = groups;
        return Err(PrivilegeError::Verification(format!(
            "gid réel {real}, effectif {effective} au lieu de {}",
            user.gid
        )));
    }
    if unistd::setuid(Uid::from_raw(0)).is_ok() || unistd::setgid(Gid::from_raw(0)).is_ok() {
        return Err(PrivilegeError::Verification(
            "il est encore possible de redevenir root".to_owned(),
        ));
    }
    Ok(())
}

fn verify_capabilities(keep: &CapsHashSet) -> Result<(), PrivilegeError> {
    for (set, name) in [
        (CapSet::Effective, "effectives"),
        (CapSet::Permitted, "permises"),
        (CapSet::Ambient, "ambiantes"),
    ] {
        let held = read(set)?;
        if &held != keep {
            return Err(PrivilegeError::Verification(format!(
                "capacités {name} {} au lieu de {}",
                names(&held),
                names(keep)
            )));
        }
    }
    Ok(())
}

/// The first capability of `keep` that `permitted` lacks, in a stable order.
fn missing(keep: &CapsHashSet, permitted: &CapsHashSet) -> Option<Capability> {
    let mut lacking: Vec<Capability> = keep.difference(permitted).copied().collect();
    lacking.sort_by_key(|cap| cap.index());
    lacking.first().copied()
}

/// Capability names sorted, for messages: `CAP_NET_ADMIN, CAP_NET_RAW`.
fn names(set: &CapsHashSet) -> String {
    let mut caps: Vec<Capability> = set.iter().copied().collect();
    caps.sort_by_key(|cap| cap.index());
    let names: Vec<String> = caps.iter().map(ToString::to_string).collect();
    if names.is_empty() {
        "(aucune)".to_owned()
    } else {
        names.join(", ")
    }
}

fn read(set: CapSet) -> Result<CapsHashSet, PrivilegeError> {
    caps::read(None, set).map_err(|error| capabilities("lecture", error))
}

fn has_effective(cap: Capability) -> Result<bool, PrivilegeError> {
    caps::has_cap(None, CapSet::Effective, cap).map_err(|error| capabilities("lecture", error))
}

fn set_keepcaps(on: bool) -> Result<(), PrivilegeError> {
    caps::securebits::set_keepcaps(on).map_err(|error| capabilities("PR_SET_KEEPCAPS", error))
}

fn capabilities(step: &'static str, error: caps::errors::CapsError) -> PrivilegeError {
    PrivilegeError::Capabilities {
        step,
        reason: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use Capability::{CAP_NET_ADMIN, CAP_NET_RAW, CAP_SETUID};

    fn set(caps: &[Capability]) -> CapsHashSet {
        caps.iter().copied().collect()
    }

    #[test]
    fn missing_names_the_first_capability_not_granted() {
        let granted = set(&[CAP_NET_RAW]);
        assert_eq!(missing(&set(&[]), &granted), None);
        assert_eq!(missing(&set(&[CAP_NET_RAW]), &granted), None);
        assert_eq!(
            missing(&set(&[CAP_NET_RAW, CAP_NET_ADMIN]), &granted),
            Some(CAP_NET_ADMIN)
        );
        assert_eq!(
            missing(&set(&[CAP_SETUID, CAP_NET_ADMIN]), &set(&[])),
            Some(CAP_SETUID)
        );
    }

    #[test]
    fn names_are_sorted_and_readable() {
        assert_eq!(names(&set(&[])), "(aucune)");
        assert_eq!(
            names(&set(&[CAP_NET_RAW, CAP_NET_ADMIN])),
            "CAP_NET_ADMIN, CAP_NET_RAW"
        );
    }

    #[test]
    fn keeping_setuid_is_refused_before_anything_changes() {
        let error = drop_privileges("nobody", &[CAP_SETUID]).unwrap_err();
        assert!(matches!(error, PrivilegeError::Forbidden(CAP_SETUID)));
        assert!(error.to_string().contains("CAP_SETUID"));
    }
}
