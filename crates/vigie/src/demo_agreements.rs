//! `vigie demo`'s programme (issue 12): a sensor agreement for every
//! equipped commune, signed before its box came (each starts on its box's
//! first report, as the real ones do); Saint-Étienne's cybersecurity path
//! with its first phase done and its minutes signed, and its awareness
//! path; Firminy's crisis kit agreement, notified last winter; a small
//! commune's path 2 in preparation; and the crisis kit's inventory, with
//! Firminy's crisis of this week and what it was lent.
//!
//! Everything goes through `agreements::service`, the code the API and
//! the pages call: eligibility and the offers' date rules check each
//! agreement and each fact. What it must never do: write a date into a
//! table.

use anyhow::Context;
use chrono::Duration;
use vigie_server::AppState;
use vigie_server::accounts::{Caller, Role};
use vigie_server::agreements::service::{self, Fact, Request};
use vigie_server::agreements::{store, today};

fn request(commune: &str, offer: &str, signed_days_ago: Option<i64>) -> Request {
    Request {
        commune: commune.to_owned(),
        offer: offer.to_owned(),
        signed_on: signed_days_ago.map(|days| today() - Duration::days(days)),
        starts_on: None,
        commune_referent: None,
        territory_referent: None,
        costs: None,
        data_at_end: None,
    }
}

/// Creates the agreements, as the administrator `admin`.
pub async fn fill(state: &AppState, admin: &str) -> anyhow::Result<()> {
    let user_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(admin)
        .fetch_one(&state.db.pool)
        .await
        .context("compte administrateur de la démonstration")?;
    let caller = Caller {
        user_id,
        email: admin.to_owned(),
        role: Role::Admin,
        commune: None,
        csrf: None,
    };
    let fail = |e: vigie_server::AppError| anyhow::anyhow!("convention de démonstration : {e}");
    let equipped: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT commune FROM sensors ORDER BY commune")
            .fetch_all(&state.db.pool)
            .await?;
    for commune in &equipped {
        service::create(state, &caller, request(commune, "sensor", Some(100)))
            .await
            .map_err(fail)?;
    }
    // Saint-Étienne: the cybersecurity path, its first step done and
    // signed a fortnight later; the awareness path since last month.
    let id = service::create(state, &caller, request("42218", "cyber_path", Some(150)))
        .await
        .map_err(fail)?;
    let agreement = store::get(&state.db, &id).await?.context("parcours")?;
    let offer = state
        .settings
        .offers
        .get("cyber_path")
        .cloned()
        .context("offre cyber_path")?;
    let done = Fact::StepDone {
        step: "step_1".to_owned(),
        on: today() - Duration::days(136),
    };
    service::record(state, &caller, &agreement, &offer, done)
        .await
        .map_err(fail)?;
    let awareness = Request {
        // Its launch meeting, a few days after the signature.
        starts_on: Some(today() - Duration::days(35)),
        ..request("42218", "awareness_1", Some(40))
    };
    service::create(state, &caller, awareness)
        .await
        .map_err(fail)?;
    // Firminy: the crisis kit, notified a few days after its signature.
    let id = service::create(state, &caller, request("42095", "crisis_kit", Some(320)))
        .await
        .map_err(fail)?;
    let agreement = store::get(&state.db, &id).await?.context("kit de crise")?;
    let offer = state
        .settings
        .offers
        .get("crisis_kit")
        .cloned()
        .context("offre crisis_kit")?;
    let notified = Fact::Started(today() - Duration::days(315));
    service::record(state, &caller, &agreement, &offer, notified)
        .await
        .map_err(fail)?;
    // A small commune of the Loire (Aboën, 481 inhabitants): path 2 in
    // preparation, not signed yet.
    service::create(state, &caller, request("42001", "awareness_2", None))
        .await
        .map_err(fail)?;
    crisis_kit(state, user_id).await
}

/// The kit's inventory (each item checked by the rules the form uses),
/// and Firminy's crisis declared two days ago: two laptops and a phone
/// lent to the town hall, due back in three weeks.
async fn crisis_kit(state: &AppState, user_id: i64) -> anyhow::Result<()> {
    use vigie_server::crisis::{ledger, rules, store as kit};
    const ITEMS: [(&str, &str, &str, &str, &str); 8] = [
        ("laptop", "PC-01", "5CG1234ABC", "", ""),
        ("laptop", "PC-02", "5CG1234ABD", "", ""),
        ("laptop", "PC-03", "5CG1234ABE", "", ""),
        ("laptop", "PC-04", "PF3X9K21", "", ""),
        ("phone", "TEL-01", "", "352099001761481", ""),
        ("phone", "TEL-02", "", "353207104823392", ""),
        ("mailbox", "BAL-01", "", "", "secours1@crise.demo.vigie.fr"),
        ("mailbox", "BAL-02", "", "", "secours2@crise.demo.vigie.fr"),
    ];
    let checked = today() - Duration::days(200);
    let mut ids = Vec::new();
    for (kind, label, serial, imei, address) in ITEMS {
        let item = rules::new_item(kind, label, serial, imei, address)
            .map_err(|e| anyhow::anyhow!("matériel de démonstration {label} : {e}"))?;
        ids.push(kit::add_item(&state.db, &item, checked, Some(user_id)).await?);
    }
    let firminy = "42095";
    if !vigie_server::agreements::store::in_force(
        &state.db,
        &state.settings.offers,
        firminy,
        "crisis_kit",
        today(),
    )
    .await?
    {
        anyhow::bail!("la convention « kit de crise » de Firminy n'est pas en vigueur");
    }
    let crisis = kit::declare(
        &state.db,
        firminy,
        "La directrice générale des services",
        today() - Duration::days(2),
        "Rançongiciel : les postes de la mairie sont chiffrés, la messagerie est coupée.",
        Some(user_id),
    )
    .await?;
    let handover = ledger::Handover {
        items: vec![ids[0], ids[1], ids[4]],
        commune: firminy.to_owned(),
        crisis: Some(crisis),
        booking: None,
        holder_name: "Claire Besson".to_owned(),
        holder_role: "directrice générale des services".to_owned(),
        due: today() + Duration::days(21),
    };
    if let Err(label) = ledger::lend(&state.db, &handover, Some(user_id)).await? {
        anyhow::bail!("« {label} » n'est plus disponible");
    }
    Ok(())
}
