//! Silence alerts: when an installed sensor becomes silent (see
//! [`super::state`]), the territory's staff (administrators and operators)
//! get one e-mail per sensor per silence, and one when it comes back.
//! Checked by the `sensors.silence` job.
//!
//! What it must never do: announce a silence twice or lose one. The alert
//! is a row of `sensor_alerts`, written in the same transaction as its
//! e-mails (and deleted with those of the return); the insert or delete
//! that does not change a row (another replica was first) rolls back.

use askama::Template;

use super::state::{SensorState, last_sign_of_life, state};
use crate::db::Db;
use crate::outbox::{self, Email};

/// What one check did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlertSummary {
    /// Silences announced.
    pub silent: usize,
    /// Returns announced.
    pub back: usize,
    /// E-mails written.
    pub emails: usize,
}

/// An installed sensor as [`check`] reads it: its signs of life and its
/// alert, if one is open.
#[derive(sqlx::FromRow)]
struct Watched {
    id: String,
    commune_name: String,
    installed_at: i64,
    last_report_at: Option<i64>,
    last_heartbeat: Option<i64>,
    silent_since: Option<i64>,
}

/// What the two e-mails say.
struct SensorMail {
    sensor_id: String,
    commune_name: String,
    /// Its last sign of life (silence), or the first after it (return).
    since: String,
    silent_for: String,
    link: String,
    territory: String,
}

#[derive(Template)]
#[template(path = "mail/sensor_silent.txt")]
struct SilentText<'a> {
    m: &'a SensorMail,
}

#[derive(Template)]
#[template(path = "mail/sensor_silent.html")]
struct SilentHtml<'a> {
    m: &'a SensorMail,
}

#[derive(Template)]
#[template(path = "mail/sensor_back.txt")]
struct BackText<'a> {
    m: &'a SensorMail,
}

#[derive(Template)]
#[template(path = "mail/sensor_back.html")]
struct BackHtml<'a> {
    m: &'a SensorMail,
}

/// Compares every installed sensor's state at `now` (Unix ms) with its
/// alert, and announces the changes.
pub async fn check(
    db: &Db,
    now: i64,
    silent_after_secs: i64,
    public_url: &str,
) -> Result<AlertSummary, sqlx::Error> {
    let rows: Vec<Watched> = sqlx::query_as(
        "SELECT s.id, c.name AS commune_name, s.installed_at,
             s.last_report_at, h.received_at AS last_heartbeat, a.silent_since
         FROM sensors s
         JOIN communes c ON c.code = s.commune
         LEFT JOIN sensor_heartbeats h ON h.sensor_id = s.id
         LEFT JOIN sensor_alerts a ON a.sensor_id = s.id
         WHERE s.revoked = 0 AND s.installed_at IS NOT NULL",
    )
    .fetch_all(&db.pool)
    .await?;
    let territory = crate::territory::territory_name(db).await?;
    let mut summary = AlertSummary::default();
    for row in rows {
        // A box installed but never heard from is silent from its install.
        let last =
            last_sign_of_life(row.last_report_at, row.last_heartbeat).unwrap_or(row.installed_at);
        let silent = state(Some(last), now, silent_after_secs) == SensorState::Silent;
        if silent == row.silent_since.is_some() {
            continue;
        }
        let mail = SensorMail {
            link: format!("{public_url}/capteurs/{}", row.id),
            sensor_id: row.id,
            commune_name: row.commune_name,
            since: crate::fr::date_time(last),
            silent_for: crate::fr::duration(now.saturating_sub(last) / 1000),
            territory: territory.clone(),
        };
        let written = if silent {
            announce_silence(db, &mail, last, now, public_url).await?
        } else {
            announce_return(db, &mail, now, public_url).await?
        };
        if let Some(emails) = written {
            summary.emails += emails;
            if silent {
                summary.silent += 1;
            } else {
                summary.back += 1;
            }
        }
    }
    Ok(summary)
}

/// Writes the alert and its e-mails; None when another check was first.
async fn announce_silence(
    db: &Db,
    mail: &SensorMail,
    last: i64,
    now: i64,
    public_url: &str,
) -> Result<Option<usize>, sqlx::Error> {
    let (text, html) = render(&SilentText { m: mail }, &SilentHtml { m: mail })?;
    let subject = format!(
        "Vigie : le boîtier {} de {} ne donne plus de nouvelles",
        mail.sensor_id, mail.commune_name
    );
    let mut tx = db.pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO sensor_alerts (sensor_id, silent_since, alerted_at) VALUES ($1, $2, $3)
         ON CONFLICT (sensor_id) DO NOTHING",
    )
    .bind(&mail.sensor_id)
    .bind(last)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() != 1 {
        return Ok(None);
    }
    let emails = write_to_staff(
        &mut tx,
        "sensor_silent",
        &subject,
        &text,
        &html,
        public_url,
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(sensor = %mail.sensor_id, emails, "sensor silent: staff told");
    Ok(Some(emails))
}

/// Deletes the alert and writes the return's e-mails; None when another
/// check was first.
async fn announce_return(
    db: &Db,
    mail: &SensorMail,
    now: i64,
    public_url: &str,
) -> Result<Option<usize>, sqlx::Error> {
    let (text, html) = render(&BackText { m: mail }, &BackHtml { m: mail })?;
    let subject = format!(
        "Vigie : le boîtier {} de {} donne de nouveau des nouvelles",
        mail.sensor_id, mail.commune_name
    );
    let mut tx = db.pool.begin().await?;
    let deleted = sqlx::query("DELETE FROM sensor_alerts WHERE sensor_id = $1")
        .bind(&mail.sensor_id)
        .execute(&mut *tx)
        .await?;
    if deleted.rows_affected() != 1 {
        return Ok(None);
    }
    let emails = write_to_staff(
        &mut tx,
        "sensor_back",
        &subject,
        &text,
        &html,
        public_url,
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(sensor = %mail.sensor_id, emails, "sensor back: staff told");
    Ok(Some(emails))
}

/// One e-mail to each active administrator and operator, in `tx`.
async fn write_to_staff(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    kind: &'static str,
    subject: &str,
    text: &str,
    html: &str,
    public_url: &str,
    now: i64,
) -> Result<usize, sqlx::Error> {
    let staff: Vec<String> = sqlx::query_scalar(
        "SELECT email FROM users WHERE role IN ('admin', 'operator') AND disabled = 0
         ORDER BY id",
    )
    .fetch_all(&mut **tx)
    .await?;
    let count = staff.len();
    for recipient in staff {
        let email = Email {
            kind,
            recipient,
            subject: subject.to_owned(),
            text: text.to_owned(),
            html: html.to_owned(),
        };
        outbox::enqueue(tx, &email, public_url, now).await?;
    }
    Ok(count)
}

fn render(text: &impl Template, html: &impl Template) -> Result<(String, String), sqlx::Error> {
    let rendered = text.render().and_then(|t| html.render().map(|h| (t, h)));
    rendered.map_err(|e| sqlx::Error::Protocol(format!("mail template: {e}")))
}
