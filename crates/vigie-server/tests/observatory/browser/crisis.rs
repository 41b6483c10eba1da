//! Issue 12: the crisis kit's pages (the inventory, an item, a crisis with
//! its loans, the bookings, a commune's own page) at 1400 px and on a
//! 390 px phone: no sideways scrolling, a focus that shows, no serious
//! axe-core violation.

use vigie_server::accounts::Role;
use vigie_server::crisis::{ledger, rules, store};

use super::{assert_pages, chromium, fetched, shots_dir};
use crate::common::{TestServer, sign_in_as};

#[tokio::test]
async fn issue_12_crisis_kit_pages_fit_a_phone_and_pass_axe() {
    let Some(browser_bin) = chromium() else {
        return;
    };
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let shots = shots_dir();
    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let (mayor, _) = sign_in_as(&server, "maire@feurs.fr", Role::Commune, Some("42094")).await;
    let today = vigie_server::cybermeteo::today();
    let mut items = Vec::new();
    for (kind, label, serial, imei, address) in [
        (
            "laptop",
            "PC-01 portable de crise",
            "PF3X9ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
            "",
            "",
        ),
        ("phone", "Mobile-01", "", "490154203237518", ""),
        (
            "mailbox",
            "Boîte crise 1",
            "",
            "",
            "crise1.communes@metropole-exemple.fr",
        ),
    ] {
        let item = rules::new_item(kind, label, serial, imei, address).unwrap();
        items.push(
            store::add_item(&server.db, &item, today, None)
                .await
                .unwrap(),
        );
    }
    let crisis = store::declare(
        &server.db,
        "42094",
        "Paul Durand, maire",
        today,
        "Rançongiciel : les postes et la messagerie de la mairie sont chiffrés.",
        None,
    )
    .await
    .unwrap();
    let handover = ledger::Handover {
        items: vec![items[0], items[1]],
        commune: "42094".to_owned(),
        crisis: Some(crisis),
        booking: None,
        holder_name: "Jeanne Martin".to_owned(),
        holder_role: "secrétaire de mairie".to_owned(),
        due: today + chrono::Duration::days(14),
    };
    ledger::lend(&server.db, &handover, None)
        .await
        .unwrap()
        .unwrap();
    let booking = rules::Booking {
        id: 0,
        commune: "42094".to_owned(),
        commune_name: "Feurs".to_owned(),
        item: Some(items[2]),
        kind: None,
        count: 1,
        item_kind: None,
        span: rules::Span {
            from: today,
            to: today + chrono::Duration::days(3),
        },
    };
    store::book(&server.db, &booking, "Exercice de crise", None)
        .await
        .unwrap();
    let mut pages: Vec<(&str, String, String)> = Vec::new();
    for path in [
        "/crise".to_owned(),
        format!("/crise/materiels/{}", items[0]),
        format!("/crises/{crisis}"),
        "/crise/reservations".to_owned(),
        "/communes/42094/crise".to_owned(),
    ] {
        pages.push(("admin", fetched(&admin, &server, &path).await, path));
    }
    for path in [
        "/communes/42094/crise".to_owned(),
        format!("/crises/{crisis}"),
    ] {
        pages.push(("commune", fetched(&mayor, &server, &path).await, path));
    }
    assert_pages(&browser_bin, &shots, &pages);
}
