//! Accounts and roles: who may see what.
//!
//! Roles: the territory's administrator (everything), the operator (the
//! technical provider: sensors and their data, all communes), and commune
//! users (their own commune). Every handler that shows a commune's details
//! takes a [`Caller`] and asks [`Caller::can_see_commune`].

use axum::Router;

use crate::AppState;

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
    pub commune: Option<String>,
    /// The session's CSRF token (None for bearer tokens, which need none).
    pub csrf: Option<String>,
}

impl Caller {
    /// The territory's staff (administrator, operator) see every commune.
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Operator)
    }

    /// Whether this caller may see the details of commune `code`.
    pub fn can_see_commune(&self, code: &str) -> bool {
        self.is_staff() || self.commune.as_deref() == Some(code)
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
}
