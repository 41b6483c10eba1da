//! The audit log: sign-ins (and failed ones), sign-outs, password changes,
//! account and token creation, and the administrative actions of the other
//! modules, which call [`audit`]. The administrator reads it at `/journal`.
//! Never a password or a token in it.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;

use super::Admin;
use crate::db::{Db, now_ms};
use crate::web::{self, Chrome};
use crate::{AppError, AppState};

/// Entries per page of `/journal`.
const PAGE_SIZE: i64 = 100;

/// Longest detail kept: details may quote what a stranger typed.
const MAX_DETAIL_CHARS: usize = 500;

/// Records an action in the audit log. Never fails the request: an error is
/// logged as a warning and the action goes on.
pub async fn audit(db: &Db, user_id: Option<i64>, action: &str, detail: &str) {
    let detail: String = detail.chars().take(MAX_DETAIL_CHARS).collect();
    let result =
        sqlx::query("INSERT INTO audit_log (at, user_id, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(now_ms())
            .bind(user_id)
            .bind(action)
            .bind(&detail)
            .execute(&db.pool)
            .await;
    if let Err(e) = result {
        tracing::warn!(action, "cannot write to the audit log: {e}");
    }
}

#[derive(serde::Deserialize)]
pub struct JournalQuery {
    #[serde(default)]
    page: Option<String>,
}

/// A line of the journal as stored, with its author's address.
#[derive(sqlx::FromRow)]
struct AuditRow {
    at: i64,
    action: String,
    detail: String,
    email: Option<String>,
}

struct Entry {
    at: String,
    who: String,
    action: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "accounts/journal.html")]
struct JournalPage {
    chrome: Chrome,
    entries: Vec<Entry>,
    page: i64,
    has_next: bool,
}

/// `GET /journal?page=N`: newest first, for the administrator only.
pub async fn page(
    Admin(caller): Admin,
    State(state): State<AppState>,
    Query(query): Query<JournalQuery>,
) -> Result<Response, AppError> {
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, 1_000_000);
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT a.at, a.action, a.detail, u.email FROM audit_log a LEFT JOIN users u ON u.id = a.user_id \
         ORDER BY a.id DESC LIMIT $1 OFFSET $2",
    )
    .bind(PAGE_SIZE + 1)
    .bind((page - 1) * PAGE_SIZE)
    .fetch_all(state.db.read())
    .await?;
    let has_next = rows.len() as i64 > PAGE_SIZE;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows.into_iter().take(PAGE_SIZE as usize) {
        entries.push(Entry {
            at: crate::fr::date_time(row.at),
            who: row.email.unwrap_or_else(|| "—".to_owned()),
            action: action_label_fr(&row.action)
                .map(str::to_owned)
                .unwrap_or(row.action),
            detail: row.detail,
        });
    }
    web::render(&JournalPage {
        chrome: Chrome::new("Journal", Some(&caller)),
        entries,
        page,
        has_next,
    })
}

/// What the administrator reads for each action any module records: a
/// test checks that every action literal given to the audit function in
/// the sources has one.
fn action_label_fr(action: &str) -> Option<&'static str> {
    Some(match action {
        "login" => "connexion",
        "login_failed" => "échec de connexion",
        "login_blocked" => "connexion bloquée (trop d'échecs)",
        "login_cross_site" => "connexion refusée (formulaire envoyé par un autre site)",
        "logout" => "déconnexion",
        "password_change" => "changement de mot de passe",
        "user_add" => "création de compte",
        "password_reset_sent" => "lien de nouveau mot de passe envoyé",
        "password_reset" => "mot de passe choisi par un lien reçu par courriel",
        "user_disable" => "compte désactivé",
        "user_enable" => "compte réactivé",
        "token_create" => "création de jeton d'API",
        "token_revoke" => "révocation de jeton d'API",
        "token_revoke_all" => "révocation de tous les jetons d'API",
        "sensor_add" => "boîtier créé",
        "sensor_enroll" => "boîtier enrôlé",
        "sensor_revoke" => "boîtier révoqué",
        "sensor_revoke_page" => "boîtier révoqué (depuis sa page)",
        "list_upload" => "liste envoyée",
        "list_add_url" => "liste ajoutée par adresse web",
        "list_fetch" => "liste téléchargée",
        "list_delete" => "liste supprimée",
        "probe_upload" => "rapport de sonde reçu",
        "audit_create" => "pré-audit commencé",
        "campaign_create" => "campagne de sensibilisation programmée",
        "campaign_purge" => "données d'une campagne de sensibilisation effacées",
        "audit_follow_up" => "étape de suivi du pré-audit commencée",
        "audit_provider_invite" => "lien de questionnaire créé pour un prestataire",
        "audit_file" => "fichier joint au pré-audit",
        "thresholds.set" => "seuils de la météo modifiés",
        "elearning_link_create" => "lien de formation créé pour une commune",
        "elearning_link_revoke" => "lien de formation fermé",
        "kit_file_add" => "document ajouté au kit documentaire",
        "kit_file_delete" => "document retiré du kit documentaire",
        "kit_link_add" => "lien ajouté au kit documentaire",
        "kit_link_delete" => "lien retiré du kit documentaire",
        "kit_item_add" => "matériel ajouté au kit de crise",
        "kit_crisis" => "crise cyber déclarée pour une commune",
        "kit_crisis_close" => "crise cyber close",
        "kit_lend" => "matériel du kit de crise prêté",
        "kit_return" => "matériel du kit de crise rendu",
        "kit_signed_form" => "fiche signée du kit de crise déposée",
        "kit_wipe" => "effacement d'un matériel du kit de crise attesté",
        "kit_booking" => "matériel du kit de crise réservé",
        "kit_booking_cancel" => "réservation du kit de crise annulée",
        "defence_remove" => "adresse retirée de la liste du territoire",
        "defence_pin" => "adresse maintenue sur la liste du territoire",
        "defence_unpin" => "adresse de la liste du territoire rendue à son expiration",
        "defence_legitimate" => "adresse marquée légitime (jamais sur la liste du territoire)",
        "defence_unmark" => "adresse légitime rendue à la liste du territoire",
        "agreement_create" => "convention créée",
        "agreement_end_action" => "fin de convention : action à faire enregistrée",
        "agreement_end_purge" => "fin de convention : campagnes de sensibilisation effacées",
        "calendar_feed_create" => "lien d'abonnement au calendrier créé",
        "calendar_feed_revoke" => "lien d'abonnement au calendrier fermé",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_paris_local_in_french() {
        // 2024-07-01T10:00:00Z is noon in Paris (summer time).
        assert_eq!(crate::fr::date_time(1_719_828_000_000), "01/07/2024 12:00");
        // 2024-01-15T23:30:00Z is already the 16th in Paris.
        assert_eq!(crate::fr::date_time(1_705_361_400_000), "16/01/2024 00:30");
    }

    /// Every action literal given to `audit(` anywhere in `src/`.
    fn recorded_actions() -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                // Tests may quote calls; the code before them is what runs.
                let text = text.split("#[cfg(test)]").next().unwrap_or_default();
                for (at, _) in text.match_indices("audit(") {
                    let call = &text[at..];
                    // The definition itself, and other functions whose name
                    // ends so (`visible_audit(`).
                    if text[..at].ends_with("fn ")
                        || text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                    {
                        continue;
                    }
                    let args = &call[..call.find(");").unwrap_or(call.len()).min(400)];
                    let action = args
                        .split('"')
                        .nth(1)
                        .unwrap_or("<no literal action>")
                        .to_owned();
                    found.push((path.display().to_string(), action));
                }
            }
        }
        found
    }

    #[test]
    fn every_recorded_action_has_a_french_label() {
        let actions = recorded_actions();
        assert!(actions.len() >= 20, "the scan finds the calls: {actions:?}");
        for (file, action) in actions {
            assert!(
                action_label_fr(&action).is_some(),
                "{file}: action {action:?} has no label in action_label_fr"
            );
        }
    }

    #[test]
    fn unknown_actions_keep_their_name() {
        assert_eq!(action_label_fr("login"), Some("connexion"));
        assert_eq!(action_label_fr("sensor_add"), Some("boîtier créé"));
        assert_eq!(action_label_fr("something_new"), None);
    }
}
