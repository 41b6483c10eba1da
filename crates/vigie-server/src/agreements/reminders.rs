//! Reminders before each deadline of the programme (issue 12): at each
//! lead of `[agreements] reminder_days` (30 and 7 days by default), an
//! e-mail through the outbox to the territory's staff, the commune's
//! referent named in the agreement and the commune's users, saying what
//! is due, when, what to do, and the link. Run by the `agreements.remind`
//! job.
//!
//! What it must never do: send a reminder twice (a row of
//! `agreement_reminders` per deadline and lead, written in the same
//! transaction as its e-mails: a replica that comes second rolls back),
//! tell a commune about another's deadline, or send every lead at once to
//! a deadline first seen late (only the nearest lead it is within).

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::calendar::{self, Due, Scope};
use super::store;
use crate::db::Db;
use crate::outbox::{self, Email};
use crate::{AppError, AppState, fr};

/// The most leads `reminder_days` may list.
pub const MAX_LEADS: usize = 10;
/// The longest lead, in days.
pub const MAX_LEAD_DAYS: u32 = 366;
/// The most deadlines one run reminds of; the rest wait for the next run.
pub const MAX_PER_RUN: usize = 500;

/// `[agreements]` in `vigie.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgreementSettings {
    /// Days before each deadline when its reminder is sent (0: on the
    /// day); empty: no reminders.
    pub reminder_days: Vec<u32>,
}

impl Default for AgreementSettings {
    fn default() -> Self {
        AgreementSettings {
            reminder_days: vec![30, 7],
        }
    }
}

impl AgreementSettings {
    /// Refuses a list that is too long, a lead too far, or a repeat.
    pub fn check(&self) -> Result<(), String> {
        if self.reminder_days.len() > MAX_LEADS {
            return Err(format!("au plus {MAX_LEADS} délais de rappel"));
        }
        let mut seen = BTreeSet::new();
        for days in &self.reminder_days {
            if *days > MAX_LEAD_DAYS {
                return Err(format!("{days} : de 0 à {MAX_LEAD_DAYS} jours"));
            }
            if !seen.insert(days) {
                return Err(format!("{days} figure deux fois"));
            }
        }
        Ok(())
    }

    /// The lead a deadline `days_left` days away is within: the nearest
    /// (smallest) lead not below it.
    pub fn lead_for(&self, days_left: i64) -> Option<u32> {
        self.reminder_days
            .iter()
            .copied()
            .filter(|lead| days_left >= 0 && i64::from(*lead) >= days_left)
            .min()
    }
}

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RemindSummary {
    pub reminders: usize,
    pub emails: usize,
}

/// What a reminder says.
struct ReminderMail {
    title: String,
    commune: String,
    when: String,
    what_to_do: &'static str,
    link: String,
    territory: String,
}

#[derive(Template)]
#[template(path = "mail/deadline_reminder.txt")]
struct ReminderText<'a> {
    m: &'a ReminderMail,
}

#[derive(Template)]
#[template(path = "mail/deadline_reminder.html")]
struct ReminderHtml<'a> {
    m: &'a ReminderMail,
}

/// Sends the reminders due on `today` (`now`: Unix ms, for the outbox).
pub async fn run(state: &AppState, today: NaiveDate, now: i64) -> Result<RemindSummary, AppError> {
    let settings = &state.settings.agreements;
    let Some(furthest) = settings.reminder_days.iter().max() else {
        return Ok(RemindSummary::default());
    };
    let until = today + chrono::Days::new(u64::from(*furthest));
    let dues = calendar::due(state, &Scope::Territory, today, until).await?;
    let territory = crate::territory::territory_name(&state.db).await?;
    let mut people = People::default();
    let mut summary = RemindSummary::default();
    for due in dues.iter().filter(|d| d.kind != "step_opens") {
        if summary.reminders >= MAX_PER_RUN {
            break;
        }
        let Some(lead) = settings.lead_for((due.day - today).num_days()) else {
            continue;
        };
        let recipients = people.for_due(&state.db, due).await?;
        let commune = people
            .commune_name(&state.db, due.commune.as_deref())
            .await?;
        let mail = ReminderMail {
            title: due.title.clone(),
            when: when(due.day, today),
            what_to_do: what_to_do(&due.kind),
            link: format!("{}{}", state.settings.public_url, due.link),
            commune,
            territory: territory.clone(),
        };
        if let Some(emails) = send(state, due, lead, &mail, &recipients, now).await? {
            summary.reminders += 1;
            summary.emails += emails;
        }
    }
    Ok(summary)
}

/// Writes the reminder's row and its e-mails; None when it was sent
/// already.
async fn send(
    state: &AppState,
    due: &Due,
    lead: u32,
    mail: &ReminderMail,
    recipients: &[String],
    now: i64,
) -> Result<Option<usize>, AppError> {
    let text = ReminderText { m: mail }.render();
    let html = ReminderHtml { m: mail }.render();
    let (text, html) = text
        .and_then(|t| html.map(|h| (t, h)))
        .map_err(|e| AppError::Internal(format!("mail template: {e}")))?;
    let subject = format!("Vigie : échéance {} — {}", mail.when, mail.title);
    let mut tx = state.db.pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO agreement_reminders (due_key, lead_days, due_on, sent_at, recipients) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (due_key, lead_days) DO NOTHING",
    )
    .bind(due.key())
    .bind(i64::from(lead))
    .bind(due.day.to_string())
    .bind(now)
    .bind(i64::try_from(recipients.len()).unwrap_or(i64::MAX))
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() != 1 {
        return Ok(None);
    }
    for recipient in recipients {
        let email = Email {
            kind: "deadline_reminder",
            recipient: recipient.clone(),
            subject: subject.clone(),
            text: text.clone(),
            html: html.clone(),
        };
        outbox::enqueue(&mut tx, &email, &state.settings.public_url, now).await?;
    }
    tx.commit().await?;
    Ok(Some(recipients.len()))
}

/// « le 14 juillet 2026 (dans 30 jours) », « aujourd'hui, 14 juillet 2026 ».
fn when(day: NaiveDate, today: NaiveDate) -> String {
    match (day - today).num_days() {
        0 => format!("aujourd'hui, {}", fr::day_long(day)),
        1 => format!("demain, {}", fr::day_long(day)),
        n => format!(
            "le {} (dans {})",
            fr::day_long(day),
            fr::plural(n, "jour", "jours")
        ),
    }
}

/// What to do, by kind of deadline.
fn what_to_do(kind: &str) -> &'static str {
    match kind {
        "step_due" | "step_opens" => {
            "Organiser cette étape avec la commune avant ce jour, puis enregistrer son \
             procès-verbal signé sur la page de la convention."
        }
        "notice_by" => {
            "Si la commune ou le territoire veut mettre fin à la convention, la résiliation \
             doit être reçue au plus tard ce jour ; sinon elle est reconduite tacitement. \
             Rien à faire pour la poursuivre."
        }
        "renewal" => {
            "La convention est reconduite tacitement ce jour : rien à faire pour la poursuivre."
        }
        "ends" => {
            "La convention prend fin ce jour. Préparer ce que sa fin entraîne : la page de la \
             convention en dresse la liste."
        }
        "end_action" => {
            "Faire ce que la fin de la convention prévoit, puis l'indiquer comme fait sur la \
             page de la convention."
        }
        _ => "Voir la page indiquée ci-dessous.",
    }
}

/// The recipients and commune names read so far in a run.
#[derive(Default)]
struct People {
    staff: Option<Vec<String>>,
    communes: HashMap<String, (String, Vec<String>)>,
    referents: HashMap<String, String>,
}

impl People {
    /// The staff, the agreement's commune referent and the commune's
    /// users, each once (addresses compared without case).
    async fn for_due(&mut self, db: &Db, due: &Due) -> Result<Vec<String>, AppError> {
        if self.staff.is_none() {
            self.staff = Some(
                sqlx::query_scalar(
                    "SELECT email FROM users WHERE role IN ('admin', 'operator') \
                     AND disabled = 0 ORDER BY id LIMIT 1000",
                )
                .fetch_all(db.read())
                .await?,
            );
        }
        let mut all: Vec<String> = self.staff.clone().unwrap_or_default();
        if let Some(agreement) = &due.agreement {
            if !self.referents.contains_key(agreement) {
                let email = store::get(db, agreement)
                    .await?
                    .map(|a| a.commune_referent.email.trim().to_owned())
                    .unwrap_or_default();
                self.referents.insert(agreement.clone(), email);
            }
            all.extend(self.referents.get(agreement).cloned());
        }
        if let Some(code) = &due.commune {
            self.load_commune(db, code).await?;
            all.extend(
                self.communes
                    .get(code)
                    .map(|c| c.1.clone())
                    .unwrap_or_default(),
            );
        }
        let mut seen = BTreeSet::new();
        all.retain(|email| email.contains('@') && seen.insert(email.to_lowercase()));
        Ok(all)
    }

    async fn commune_name(&mut self, db: &Db, code: Option<&str>) -> Result<String, AppError> {
        let Some(code) = code else {
            return Ok(String::new());
        };
        self.load_commune(db, code).await?;
        Ok(self
            .communes
            .get(code)
            .map(|c| c.0.clone())
            .unwrap_or_default())
    }

    async fn load_commune(&mut self, db: &Db, code: &str) -> Result<(), AppError> {
        if self.communes.contains_key(code) {
            return Ok(());
        }
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM communes WHERE code = $1")
            .bind(code)
            .fetch_optional(db.read())
            .await?;
        let users: Vec<String> = sqlx::query_scalar(
            "SELECT email FROM users WHERE role = 'commune' AND commune = $1 AND disabled = 0 \
             ORDER BY id LIMIT 1000",
        )
        .bind(code)
        .fetch_all(db.read())
        .await?;
        let name = name.map_or_else(|| code.to_owned(), |n| format!("{n} ({code})"));
        self.communes.insert(code.to_owned(), (name, users));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(days: &[u32]) -> AgreementSettings {
        AgreementSettings {
            reminder_days: days.to_vec(),
        }
    }

    #[test]
    fn the_nearest_lead_only() {
        let s = settings(&[30, 7]);
        let check = |left, expected| assert_eq!(s.lead_for(left), expected, "{left}");
        check(31, None);
        check(30, Some(30));
        check(12, Some(30));
        check(7, Some(7));
        check(0, Some(7));
        check(-1, None);
        assert_eq!(settings(&[]).lead_for(0), None);
    }

    #[test]
    fn leads_are_checked() {
        assert_eq!(settings(&[30, 7, 0]).check(), Ok(()));
        assert!(settings(&[400]).check().is_err_and(|e| e.contains("366")));
        assert!(
            settings(&[7, 7])
                .check()
                .is_err_and(|e| e.contains("deux fois"))
        );
        assert!(settings(&[1; 11]).check().is_err());
    }

    #[test]
    fn when_says_how_far() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 7, d).unwrap_or_default();
        assert_eq!(when(day(14), day(14)), "aujourd'hui, 14 juillet 2026");
        assert_eq!(when(day(15), day(14)), "demain, 15 juillet 2026");
        assert_eq!(when(day(21), day(14)), "le 21 juillet 2026 (dans 7 jours)");
    }
}
