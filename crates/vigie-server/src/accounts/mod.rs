//! Accounts and roles: who may see what.
//!
//! Roles: the territory's administrator (everything), the operator (the
//! technical provider: sensors and their data, all communes), and commune
//! users (their own commune). Who may call a handler is in its signature
//! (`guard`): [`Staff`], [`Admin`], [`VisibleCommune`] (the `{code}` of a
//! commune the caller may see), [`CsrfForm`]; a handler showing another
//! thing of a commune (a sensor, a scan) asks [`Caller::can_see_commune`].
//!
//! A caller is known by a session cookie (`vigie_session`, signed in through
//! `/connexion`) or by a personal API token (`Authorization: Bearer vgt_...`).
//! Secrets are stored only as hashes; passwords with argon2id. Every form
//! that changes state is a [`CsrfForm`], checked against the session's
//! CSRF token. What this module must never do: log a secret, or
//! tell a stranger which of e-mail and password was wrong.

mod credentials;
mod extract;
mod guard;
mod journal;
mod limit;
mod manage;
mod pages;
mod password;
mod reset;
mod session;
mod users;

use crate::AppError;
use crate::territory::CommuneCode;
use crate::web::{Access, Routes};

pub use credentials::{
    MAX_TOKEN_DAYS, NewToken, TokenInfo, UserInfo, create_token_with, disable_user, enable_user,
    revoke_all_tokens, revoke_token, tokens_of, tokens_of_email, users,
};
pub use extract::bearer_token;
pub use guard::{Admin, CsrfForm, CsrfHeader, CsrfMultipart, NoFields, Staff, VisibleCommune};
pub use journal::audit;
pub use manage::ConfirmForm;
pub use password::PasswordError;
pub use reset::RESET_LIFETIME_MS;
pub use session::SESSION_COOKIE;
pub use users::{AccountError, MIN_PASSWORD_CHARS, add_user, create_token};

/// What a signed-in person or API token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Operator,
    Commune,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Commune => "commune",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "operator" => Some(Role::Operator),
            "commune" => Some(Role::Commune),
            _ => None,
        }
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            Role::Admin => "administrateur du territoire",
            Role::Operator => "opérateur technique",
            Role::Commune => "commune",
        }
    }
}

/// The authenticated caller of a request (session cookie or bearer token).
#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
    /// For commune users: their commune's INSEE code.
    pub commune: Option<CommuneCode>,
    /// The session's CSRF token (None for bearer tokens, which need none).
    pub csrf: Option<String>,
}

impl Caller {
    /// The territory's staff (administrator, operator) see every commune.
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Operator)
    }

    /// Whether this caller may see the details of commune `code` (a
    /// [`CommuneCode`] or text, such as a stored scan's commune).
    pub fn can_see_commune(&self, code: &str) -> bool {
        self.is_staff() || self.commune.as_deref() == Some(code)
    }

    /// Checks the CSRF token a form submitted against the session's (a
    /// missing or wrong one is 403). Callers with a bearer token need none:
    /// browsers never attach one on their own.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), AppError> {
        match &self.csrf {
            None => Ok(()),
            Some(expected) if !submitted.is_empty() && secrets_equal(expected, submitted) => Ok(()),
            Some(_) => Err(AppError::CsrfRefused),
        }
    }
}

/// Compares two secrets in constant time: BLAKE3 digests compare in
/// constant time, and hashing first hides the lengths as well.
fn secrets_equal(a: &str, b: &str) -> bool {
    blake3::hash(a.as_bytes()) == blake3::hash(b.as_bytes())
}

/// Sign-in, sign-out, the account page, the audit log and `/api/v1/me`.
pub fn router() -> Routes {
    Routes::new()
        .get("/connexion", Access::Public, pages::sign_in_form)
        .post("/connexion", Access::Public, pages::sign_in)
        .post("/deconnexion", Access::SignedIn, pages::sign_out)
        .get("/compte", Access::SignedIn, pages::account)
        .post(
            "/compte/mot-de-passe",
            Access::SignedIn,
            pages::change_password,
        )
        .post(
            "/compte/jetons/revoquer",
            Access::SignedIn,
            manage::revoke_own_token,
        )
        .get("/comptes", Access::Admin, manage::users_page)
        .post("/comptes", Access::Admin, reset::create)
        .post("/comptes/{user}/reinitialiser", Access::Admin, reset::reset)
        // The link's token is the credential, checked by the handler.
        .get("/mot-de-passe/{token}", Access::Public, reset::form)
        .post("/mot-de-passe/{token}", Access::Public, reset::choose)
        .post("/comptes/{user}/desactiver", Access::Admin, manage::disable)
        .post("/comptes/{user}/reactiver", Access::Admin, manage::enable)
        .post(
            "/comptes/{user}/jetons/revoquer",
            Access::Admin,
            manage::revoke_tokens,
        )
        .get("/journal", Access::Admin, journal::page)
        .get("/api/v1/me", Access::SignedIn, pages::me)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(csrf: Option<&str>) -> Caller {
        Caller {
            user_id: 1,
            email: "a@b.fr".to_owned(),
            role: Role::Commune,
            commune: CommuneCode::parse("42218").ok(),
            csrf: csrf.map(str::to_owned),
        }
    }

    #[test]
    fn csrf_check() {
        assert!(caller(Some("abc")).check_csrf("abc").is_ok());
        assert!(matches!(
            caller(Some("abc")).check_csrf("abd"),
            Err(AppError::CsrfRefused)
        ));
        assert!(matches!(
            caller(Some("abc")).check_csrf(""),
            Err(AppError::CsrfRefused)
        ));
        assert!(matches!(
            caller(Some("")).check_csrf(""),
            Err(AppError::CsrfRefused)
        ));
        assert!(caller(None).check_csrf("").is_ok());
    }

    #[test]
    fn commune_visibility() {
        let user = caller(None);
        assert!(user.can_see_commune("42218"));
        assert!(!user.can_see_commune("42059"));
        assert!(!user.is_staff());
        let staff = Caller {
            role: Role::Operator,
            commune: None,
            ..user
        };
        assert!(staff.can_see_commune("42059"));
        assert!(staff.is_staff());
        assert_ne!(staff.role, Role::Admin);
    }

    #[test]
    fn role_round_trip() {
        for role in [Role::Admin, Role::Operator, Role::Commune] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
