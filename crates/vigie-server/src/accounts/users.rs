//! Creating accounts and personal API tokens: what `vigie user add` and
//! `vigie token create` call, and the checks they share with the pages.

use super::journal::audit;
use super::{Role, password};
use crate::db::{Db, now_ms};
use crate::territory::CommuneCode;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Longest e-mail address (RFC 5321 §4.5.3.1.3: a path is at most 256
/// octets, the brackets included).
const MAX_EMAIL_CHARS: usize = 254;

/// Why an account or a token could not be created. The messages are read
/// by the person at the terminal or in the browser: French, naming the field.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("adresse e-mail invalide : « {0} » (attendu : nom@domaine.fr)")]
    InvalidEmail(String),
    #[error("mot de passe trop court : {MIN_PASSWORD_CHARS} caractères au moins")]
    PasswordTooShort,
    #[error(
        "mot de passe trop long : {} caractères au plus",
        password::MAX_PASSWORD_CHARS
    )]
    PasswordTooLong,
    #[error(
        "mot de passe trop courant : il figure parmi les plus utilisés, choisissez une phrase à vous"
    )]
    PasswordCommon,
    #[error(
        "mot de passe trop répétitif : variez les caractères (une phrase de plusieurs mots convient)"
    )]
    PasswordRepetitive,
    #[error("mot de passe refusé : il contient l'adresse e-mail du compte")]
    PasswordContainsEmail,
    #[error("le nouveau mot de passe doit être différent de l'actuel")]
    PasswordUnchanged,
    #[error("le rôle « commune » demande une commune (--commune CODE)")]
    CommuneRequired,
    #[error("commune : seul le rôle « commune » est rattaché à une commune")]
    CommuneNotAllowed,
    #[error("commune inconnue : « {0} » (code INSEE d'une commune du territoire attendu)")]
    UnknownCommune(String),
    #[error("l'adresse e-mail {0} a déjà un compte")]
    DuplicateEmail(String),
    #[error("aucun compte actif pour l'adresse e-mail {0}")]
    UnknownUser(String),
    #[error("aucun compte pour l'adresse e-mail {0}")]
    NoSuchUser(String),
    #[error(
        "durée de validité d'un jeton : de 1 à {} jours",
        super::credentials::MAX_TOKEN_DAYS
    )]
    TokenLifetime,
    #[error(
        "« {0} » n'est ni un jeton (vgt_ suivi de 64 chiffres hexadécimaux) ni son préfixe (vgt_ et 8 chiffres, affiché par `vigie token list`)"
    )]
    TokenShape(String),
    #[error("plusieurs jetons actifs commencent par {0} : donnez le jeton entier")]
    AmbiguousToken(String),
    #[error("erreur de la base de données : {0}")]
    Database(#[from] sqlx::Error),
    #[error("erreur interne : {0}")]
    Internal(String),
}

/// Creates an account and returns its id. `commune` is required for the
/// commune role and refused for the others.
pub async fn add_user(
    db: &Db,
    email: &str,
    role: Role,
    commune: Option<&str>,
    password: &str,
) -> Result<i64, AccountError> {
    let email = valid_email(email)?;
    check_new_password(password, &email)?;
    let commune = match (role, commune.map(str::trim)) {
        (Role::Commune, None | Some("")) => return Err(AccountError::CommuneRequired),
        (Role::Commune, Some(code)) => Some(existing_commune(db, code).await?),
        (_, None | Some("")) => None,
        (_, Some(_)) => return Err(AccountError::CommuneNotAllowed),
    };
    if user_id(db, &email).await?.is_some() {
        return Err(AccountError::DuplicateEmail(email));
    }
    let hash = password::hash(password)
        .await
        .map_err(|e| AccountError::Internal(e.to_string()))?;
    let inserted = sqlx::query_scalar(
        "INSERT INTO users (email, password_hash, role, commune, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(&email)
    .bind(&hash)
    .bind(role.as_str())
    .bind(commune)
    .bind(now_ms())
    .fetch_one(&db.pool)
    .await;
    let id: i64 = match inserted {
        Ok(id) => id,
        // Another process created the same address since the check above.
        Err(e) if is_unique_violation(&e) => return Err(AccountError::DuplicateEmail(email)),
        Err(e) => return Err(e.into()),
    };
    let detail = match &commune {
        Some(code) => format!("{email} ({}, commune {code})", role.as_str()),
        None => format!("{email} ({})", role.as_str()),
    };
    audit(db, None, "user_add", &detail).await;
    Ok(id)
}

/// Creates a personal API token for the active account `email`, without
/// expiry, and returns it (shown once: only its hash is stored).
pub async fn create_token(db: &Db, email: &str) -> Result<String, AccountError> {
    super::credentials::create_token_with(db, email, &super::credentials::NewToken::default()).await
}

/// The form e-mail addresses are stored and looked up in.
pub(super) fn normalize_email(email: &str) -> String {
    email
        .trim()
        .to_lowercase()
        .chars()
        .take(MAX_EMAIL_CHARS + 1)
        .collect()
}

/// Checks a new password (the same rules for the CLI and the page): its
/// length, and none of the obvious choices an attacker tries first: one of
/// the most common passwords (give or take digits and punctuation around
/// it), a repeated pattern, the account's own e-mail address.
pub(super) fn check_new_password(password: &str, email: &str) -> Result<(), AccountError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooShort);
    }
    if chars > password::MAX_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooLong);
    }
    let lowered = password.to_lowercase();
    if is_repetitive(&lowered) {
        return Err(AccountError::PasswordRepetitive);
    }
    let core = lowered.trim_matches(|c: char| !c.is_alphabetic());
    if COMMON_PASSWORDS.contains(core) || COMMON_PASSWORDS.contains(lowered.as_str()) {
        return Err(AccountError::PasswordCommon);
    }
    let email = normalize_email(email);
    let local = email.split('@').next().unwrap_or_default();
    if !email.is_empty()
        && (lowered.contains(&email) || (local.chars().count() >= 4 && lowered.contains(local)))
    {
        return Err(AccountError::PasswordContainsEmail);
    }
    Ok(())
}

/// The most common passwords (`data/common-passwords.txt`), loaded once.
static COMMON_PASSWORDS: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
    std::sync::LazyLock::new(|| {
        include_str!("../../data/common-passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect()
    });

/// Fewer than five different characters, or one short pattern said again
/// and again (`abcabcabcabc`, `123412341234`).
fn is_repetitive(password: &str) -> bool {
    let chars: Vec<char> = password.chars().collect();
    let distinct: std::collections::HashSet<&char> = chars.iter().collect();
    if distinct.len() < 5 {
        return true;
    }
    (1..=chars.len() / 2).any(|period| {
        chars.len().is_multiple_of(period)
            && chars
                .iter()
                .enumerate()
                .all(|(i, c)| chars.get(i % period) == Some(c))
    })
}

/// The normalized address if it has the shape `local@domain.tld`.
fn valid_email(email: &str) -> Result<String, AccountError> {
    let normalized = normalize_email(email);
    let shaped = normalized.len() <= MAX_EMAIL_CHARS
        && !normalized.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
        })
        && match normalized.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
            }
            None => false,
        };
    if shaped {
        Ok(normalized)
    } else {
        Err(AccountError::InvalidEmail(email.trim().to_owned()))
    }
}

/// The commune of the territory `code` names; text that is no INSEE code
/// names none.
async fn existing_commune(db: &Db, code: &str) -> Result<CommuneCode, AccountError> {
    let unknown = || AccountError::UnknownCommune(code.to_owned());
    let code = CommuneCode::parse(code).map_err(|_| unknown())?;
    let found: Option<CommuneCode> =
        sqlx::query_scalar("SELECT code FROM communes WHERE code = $1")
            .bind(code)
            .fetch_optional(db.read())
            .await?;
    found.ok_or_else(unknown)
}

async fn user_id(db: &Db, email: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(db.read())
        .await
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Option<&str>) {
        assert_eq!(valid_email(input).ok().as_deref(), expected, "{input:?}");
    }

    #[test]
    fn email_shapes() {
        check("maire@commune.fr", Some("maire@commune.fr"));
        check("  Maire@Saint-Etienne.FR ", Some("maire@saint-etienne.fr"));
        check(
            "prenom.nom+vigie@mairie.example.org",
            Some("prenom.nom+vigie@mairie.example.org"),
        );
        check("", None);
        check("maire", None);
        check("@commune.fr", None);
        check("maire@", None);
        check("maire@commune", None);
        check("maire@@commune.fr", None);
        check("ma ire@commune.fr", None);
        check("maire@commune..fr", None);
        check("maire@.commune.fr", None);
        check("maire@commune.fr.", None);
        check("<maire@commune.fr>", None);
        check(&format!("{}@commune.fr", "a".repeat(250)), None);
    }

    fn refused(password: &str) -> Option<AccountError> {
        check_new_password(password, "secretariat.mairie@saint-just.fr").err()
    }

    #[test]
    fn password_lengths() {
        assert!(matches!(
            refused("onze-caract"),
            Some(AccountError::PasswordTooShort)
        ));
        assert!(refused("douze-caract").is_none());
        // Characters, not bytes: twelve accented letters are twelve.
        assert!(refused("éàèùçôêîûëïü").is_none());
        assert!(matches!(
            refused("éàèùçôêîûëï"),
            Some(AccountError::PasswordTooShort)
        ));
        assert!(matches!(
            refused(&"ab1-X".repeat(205)),
            Some(AccountError::PasswordTooLong)
        ));
    }

    #[test]
    fn passwords_obvious_choices_are_refused() {
        for (password, expected) in [
            ("aaaaaaaaaaaa", "répétitif"),
            ("abcabcabcabc", "répétitif"),
            ("123412341234", "répétitif"),
            ("ababababcdcd", "répétitif"),
            ("azertyuiop123", "courant"),
            ("Password123456!", "courant"),
            ("!!Motdepasse2024", "courant"),
            ("SaintEtienne42000", "courant"),
            ("secretariat.mairie@saint-just.fr", "adresse e-mail"),
            ("xSecretariat.Mairie-2026", "adresse e-mail"),
        ] {
            let error = refused(password).map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains(expected), "{password}: {error:?}");
        }
        for fine in [
            "correct horse battery staple",
            "la cloche de l'église sonne à midi",
            "Tr0mb0ne-Vélo-Pluie",
        ] {
            assert!(refused(fine).is_none(), "{fine}");
        }
    }

    #[test]
    fn the_common_password_list_is_loaded() {
        assert!(COMMON_PASSWORDS.len() > 10_000);
        assert!(COMMON_PASSWORDS.contains("password"));
        assert!(!COMMON_PASSWORDS.iter().any(|p| p.starts_with('#')));
    }
}
