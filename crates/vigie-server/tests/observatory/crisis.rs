//! The crisis kit over HTTP (issue 12): the inventory, a crisis declared,
//! items lent with the commune's acceptance, refusals (not wiped, booked,
//! out of order), the return with its signature and the commune's data
//! returned, the wipe attested, the item lent again; bookings that
//! overlap; a commune seeing only its own loans; the documents read back.

use reqwest::StatusCode;
use vigie_server::accounts::Role;

use crate::common::{TestServer, sign_in_as};

const OWN: &str = "42218"; // Saint-Étienne
const OTHER: &str = "42095"; // Firminy
const IMEI: &str = "490154203237518";

struct Staff<'a> {
    server: &'a TestServer,
    browser: reqwest::Client,
    csrf: String,
}

impl Staff<'_> {
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.browser
            .post(self.server.at(path))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.browser.get(self.server.at(path)).send().await.unwrap()
    }

    async fn text(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.text().await.unwrap()
    }

    /// Adds an item: its id, from the page it leads to.
    async fn add(&self, fields: &[(&str, &str)]) -> String {
        let response = self.post("/crise/materiels", fields).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        location(&response).rsplit('/').next().unwrap().to_owned()
    }

    async fn upload(
        &self,
        loan: &str,
        which: &str,
        signatory: &str,
        bytes: &[u8],
    ) -> reqwest::Response {
        let form = reqwest::multipart::Form::new()
            .text("csrf", self.csrf.clone())
            .text("fiche", which.to_owned())
            .text("signatory", signatory.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("fiche signée.pdf"),
            );
        self.browser
            .post(self.server.at(&format!("/prets/{loan}/fiche-signee")))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// A PDF's text, words separated by single spaces.
    async fn pdf_text(&self, path: &str) -> Option<String> {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["content-type"], "application/pdf");
        let bytes = response.bytes().await.unwrap();
        vigie_docs::read_back::pdf_text(&bytes)
            .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// A refusal: its status, and its French page naming what is wrong.
async fn refused(response: reqwest::Response, status: StatusCode, words: &str) {
    assert_eq!(response.status(), status);
    let page = response
        .text()
        .await
        .unwrap()
        .replace("&#x27;", "'")
        .replace("&#39;", "'");
    assert!(page.contains(words), "{words} not in {page}");
}

/// The ids of the loans on a page, in its order.
fn loan_ids(page: &str) -> Vec<String> {
    page.split("id=\"pret-")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

async fn count(server: &TestServer, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&server.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_crisis_kit_life_cycle() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let (browser, csrf) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let staff = Staff {
        server: &server,
        browser,
        csrf,
    };
    let today = vigie_server::cybermeteo::today();
    let day = |days: i64| (today + chrono::Duration::days(days)).to_string();

    // Saint-Étienne subscribed to the kit, its data to be returned to it
    // at the end; Firminy did not.
    let started = today - chrono::Duration::days(10);
    let facts = vigie_server::agreements::Facts {
        signed_on: Some(started),
        started_on: Some(started),
        ..Default::default()
    };
    let nobody = vigie_server::agreements::store::Referent::default();
    let agreement = vigie_server::agreements::store::NewAgreement {
        commune: OWN,
        offer: "crisis_kit",
        facts: &facts,
        territory_referent: &nobody,
        commune_referent: &nobody,
        costs: None,
        data_at_end: Some(vigie_server::agreements::store::DataAtEnd::Return),
        created_by: None,
        detail: "Convention du kit de crise.",
    };
    vigie_server::agreements::store::create(&server.db, &agreement, 0)
        .await
        .unwrap();

    // The inventory; a bad item is refused with the field named, nothing kept.
    let pc1 = staff
        .add(&[("kind", "laptop"), ("label", "PC-01"), ("serial", "PF3X9")])
        .await;
    let pc2 = staff
        .add(&[("kind", "laptop"), ("label", "PC-02"), ("serial", "PF3Y0")])
        .await;
    let phone = staff
        .add(&[("kind", "phone"), ("label", "Mobile-01"), ("imei", IMEI)])
        .await;
    let mailbox = staff
        .add(&[
            ("kind", "mailbox"),
            ("label", "Boîte crise 1"),
            ("address", "crise1@loire.fr"),
        ])
        .await;
    let bad = staff
        .post(
            "/crise/materiels",
            &[("kind", "phone"), ("label", "Mobile-02"), ("imei", "12345")],
        )
        .await;
    refused(bad, StatusCode::BAD_REQUEST, "« IMEI » : 15 chiffres").await;
    assert_eq!(count(&server, "kit_items").await, 4);
    let inventory = staff.text("/crise").await;
    assert!(
        inventory.contains("PC-01") && inventory.contains("disponible"),
        "{inventory}"
    );
    let next_check = vigie_server::crisis::rules::next_check(today);
    assert!(
        inventory.contains(&vigie_server::fr::day(next_check)),
        "next annual check shown"
    );

    // A crisis declared in few fields; a bad one names the field.
    let bad = staff
        .post(
            "/crise/declarer",
            &[
                ("commune", OWN),
                ("declared_by", "Le maire"),
                ("started", &day(0)),
                ("what", " "),
            ],
        )
        .await;
    refused(
        bad,
        StatusCode::BAD_REQUEST,
        "« Ce qui s'est passé » : à remplir",
    )
    .await;
    assert_eq!(count(&server, "kit_crises").await, 0);
    let declared = staff
        .post(
            "/crise/declarer",
            &[
                ("commune", OWN),
                ("declared_by", "Paul Durand, maire"),
                ("started", &day(0)),
                ("what", "Rançongiciel : postes et messagerie chiffrés"),
            ],
        )
        .await;
    assert_eq!(declared.status(), StatusCode::SEE_OTHER);
    let crisis_page = location(&declared);
    let crisis = crisis_page.rsplit('/').next().unwrap().to_owned();

    // Lending: the laptop and the phone, to the town hall's secretary.
    let post_lend = |items: Vec<&str>, due: String| {
        let mut fields = vec![
            ("crisis".to_owned(), crisis.clone()),
            ("holder_name".to_owned(), "Jeanne Martin".to_owned()),
            ("holder_role".to_owned(), "secrétaire de mairie".to_owned()),
            ("due".to_owned(), due),
        ];
        fields.extend(items.into_iter().map(|i| ("item".to_owned(), i.to_owned())));
        let staff = &staff;
        async move {
            let refs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            staff.post("/crise/prets", &refs).await
        }
    };
    let lent = post_lend(vec![&pc1, &phone], day(10)).await;
    assert_eq!(lent.status(), StatusCode::SEE_OTHER);
    let page = staff.text(&format!("/crises/{crisis}")).await;
    assert!(
        page.contains("Jeanne Martin") && page.contains("fiche de prêt (PDF)"),
        "{page}"
    );
    let loans = loan_ids(&page);
    assert_eq!(loans.len(), 2);
    // The programme's calendar says when they are due back.
    let due: serde_json::Value = staff
        .get(&format!("/api/v1/deadlines?from={}&to={}", day(0), day(30)))
        .await
        .json()
        .await
        .unwrap();
    let returns: Vec<&serde_json::Value> = due
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "kit_return")
        .collect();
    assert_eq!(returns.len(), 2, "{due}");
    assert_eq!(returns[0]["day"], day(10));
    assert_eq!(returns[0]["commune"], "42218");
    let pc1_loan = {
        let loan = vigie_server::crisis::ledger::loans(
            &server.db,
            vigie_server::crisis::ledger::Filter {
                item: Some(pc1.parse().unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        loan[0].id.to_string()
    };

    // Refusals: lent already, out of order, due before today; nothing stored.
    refused(
        post_lend(vec![&pc1], day(10)).await,
        StatusCode::CONFLICT,
        "« PC-01 » est déjà prêté",
    )
    .await;
    let out = staff
        .post(
            &format!("/crise/materiels/{mailbox}/etat"),
            &[("out_of_order", "oui"), ("note", "écran cassé")],
        )
        .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    refused(
        post_lend(vec![&mailbox], day(10)).await,
        StatusCode::CONFLICT,
        "hors service",
    )
    .await;
    refused(
        post_lend(vec![&pc2], day(-1)).await,
        StatusCode::BAD_REQUEST,
        "« Retour prévu le »",
    )
    .await;
    refused(
        post_lend(vec![], day(3)).await,
        StatusCode::BAD_REQUEST,
        "Cochez au moins un matériel",
    )
    .await;

    // Bookings: Firminy books PC-02; an overlapping booking is refused, and
    // lending PC-02 to Saint-Étienne on those days too.
    let booked = staff
        .post(
            "/crise/reservations",
            &[
                ("commune", OTHER),
                ("item", &pc2),
                ("from", &day(0)),
                ("to", &day(5)),
                ("reason", "Exercice de crise"),
            ],
        )
        .await;
    assert_eq!(booked.status(), StatusCode::SEE_OTHER);
    let booking = location(&booked).rsplit('-').next().unwrap().to_owned();
    let overlap = staff
        .post(
            "/crise/reservations",
            &[
                ("commune", OWN),
                ("item", &pc2),
                ("from", &day(5)),
                ("to", &day(8)),
                ("reason", "Élections"),
            ],
        )
        .await;
    refused(overlap, StatusCode::CONFLICT, "déjà réservé pour Firminy").await;
    let too_many = staff
        .post(
            "/crise/reservations",
            &[
                ("commune", OWN),
                ("kind", "phone"),
                ("count", "2"),
                ("from", &day(1)),
                ("to", &day(2)),
                ("reason", "Élections"),
            ],
        )
        .await;
    refused(too_many, StatusCode::CONFLICT, "n'a que 1 téléphone mobile").await;
    // The one phone is lent until day 10, and of the two laptops one is
    // lent and the other booked by Firminy: nothing of either kind is left
    // on those days.
    for (kind, words) in [
        ("phone", "1 prêté"),
        ("laptop", "1 déjà réservé sur ces dates, 1 prêté"),
    ] {
        let none_left = staff
            .post(
                "/crise/reservations",
                &[
                    ("commune", OWN),
                    ("kind", kind),
                    ("count", "1"),
                    ("from", &day(1)),
                    ("to", &day(2)),
                    ("reason", "Élections"),
                ],
            )
            .await;
        refused(none_left, StatusCode::CONFLICT, words).await;
    }
    assert_eq!(count(&server, "kit_bookings").await, 1);
    refused(
        post_lend(vec![&pc2], day(3)).await,
        StatusCode::CONFLICT,
        "« PC-02 » est réservé pour Firminy",
    )
    .await;
    // Firminy's booking allows lending to it, but it has no agreement.
    let no_agreement = staff
        .post(
            "/crise/prets",
            &[
                ("booking", &booking),
                ("item", &pc2),
                ("holder_name", "Marc"),
                ("holder_role", "DGS"),
                ("due", &day(5)),
            ],
        )
        .await;
    refused(
        no_agreement,
        StatusCode::BAD_REQUEST,
        "pas de convention « kit de crise » en vigueur",
    )
    .await;
    assert_eq!(
        count(&server, "kit_loans").await,
        2,
        "refusals store nothing"
    );

    // The loan form, then the commune's acceptance: the signed scan.
    if let Some(text) = staff
        .pdf_text(&format!("/prets/{pc1_loan}/fiche-de-pret.pdf"))
        .await
    {
        for words in [
            "Fiche de prêt du kit de crise — Saint-Étienne",
            "PC-01",
            "n° de série PF3X9",
            &format!("IMEI {IMEI}"),
            "Jeanne Martin (secrétaire de mairie)",
            "reste l’unique propriétaire du matériel",
            "Lu et accepté",
        ] {
            assert!(text.contains(words), "{words} not in {text}");
        }
    }
    let exe = staff
        .upload(&pc1_loan, "pret", "Paul Durand, maire", b"MZ\x90\x00")
        .await;
    refused(exe, StatusCode::BAD_REQUEST, "« Fiche signée » : un PDF").await;
    let scan = b"%PDF-1.4\nfiche de pret signee\n";
    let accepted = staff
        .upload(&pc1_loan, "pret", "Paul Durand, maire", scan)
        .await;
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    let back = staff
        .get(&format!("/prets/{pc1_loan}/fiche-signee?fiche=pret"))
        .await;
    assert_eq!(back.bytes().await.unwrap().as_ref(), scan);
    let page = staff.text(&format!("/crises/{crisis}")).await;
    assert!(
        page.contains("Fiche de prêt signée par Paul Durand, maire"),
        "{page}"
    );
    assert!(
        page.replace("&#x27;", "'")
            .contains("La convention de la commune prévoit qu'elles soient restituées"),
        "the return's choice follows the agreement"
    );

    // No attestation before the wipe; the return, then "to wipe".
    refused(
        staff
            .get(&format!("/prets/{pc1_loan}/attestation-effacement.pdf"))
            .await,
        StatusCode::CONFLICT,
        "pas encore effacé",
    )
    .await;
    let bad = staff
        .post(
            &format!("/prets/{pc1_loan}/restitution"),
            &[("returned_by", "Jeanne Martin"), ("condition", "bon état")],
        )
        .await;
    refused(bad, StatusCode::BAD_REQUEST, "« Données de la commune »").await;
    let returned = staff
        .post(
            &format!("/prets/{pc1_loan}/restitution"),
            &[
                ("returned_by", "Jeanne Martin"),
                ("condition", "Bon état, chargeur rendu"),
                ("data", "returned"),
            ],
        )
        .await;
    assert_eq!(returned.status(), StatusCode::SEE_OTHER);
    refused(
        post_lend(vec![&pc1], day(3)).await,
        StatusCode::CONFLICT,
        "« PC-01 » n'est pas encore effacé",
    )
    .await;
    if let Some(text) = staff
        .pdf_text(&format!("/prets/{pc1_loan}/fiche-de-restitution.pdf"))
        .await
    {
        for words in [
            "Fiche de restitution du kit de crise",
            "Rendu par : Jeanne Martin",
            "Bon état, chargeur rendu",
            "Restituées à la commune",
        ] {
            assert!(text.contains(words), "{words} not in {text}");
        }
    }
    let signed = staff
        .upload(&pc1_loan, "restitution", "", b"\x89PNG\r\n\x1a\nphoto")
        .await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);

    // The wipe attested: available again, and the attestation says the
    // commune's data was returned to it.
    let method = vigie_server::crisis::rules::Kind::Laptop.wipe_methods()[0];
    let wiped = staff
        .post(
            &format!("/crise/materiels/{pc1}/effacement"),
            &[
                ("day", &day(0)),
                ("wiped_by", "Luc Bernard, technicien"),
                ("method", method),
            ],
        )
        .await;
    assert_eq!(wiped.status(), StatusCode::SEE_OTHER);
    if let Some(text) = staff
        .pdf_text(&format!("/prets/{pc1_loan}/attestation-effacement.pdf"))
        .await
    {
        for words in [
            "Attestation d'effacement — PC-01",
            "Luc Bernard, technicien",
            "Effacement sécurisé du disque",
            "restituées à la commune sous forme numérique",
        ] {
            assert!(text.contains(words), "{words} not in {text}");
        }
    }
    let item = staff.text(&format!("/crise/materiels/{pc1}")).await;
    assert!(
        item.contains("Effacement attesté") && item.contains("Prêté à Jeanne Martin"),
        "{item}"
    );

    // Lent again; the crisis cannot close while items are out.
    assert_eq!(
        post_lend(vec![&pc1], day(7)).await.status(),
        StatusCode::SEE_OTHER
    );
    refused(
        staff
            .post(&format!("/crises/{crisis}/cloture"), &[("confirm", "oui")])
            .await,
        StatusCode::CONFLICT,
        "pas encore rendu",
    )
    .await;

    // What the calendar is given.
    let due = vigie_server::crisis::due(&server.db, today, today + chrono::Duration::days(400))
        .await
        .unwrap();
    let kinds = |kind: &str| due.iter().filter(|d| d.kind == kind).count();
    assert_eq!(
        (
            kinds("kit_return"),
            kinds("kit_booking"),
            kinds("kit_check")
        ),
        (2, 1, 3),
        "{due:?}"
    );
    assert!(due.iter().any(|d| d.kind == "kit_return"
        && d.commune.as_deref() == Some(OWN)
        && d.link == format!("/crises/{crisis}")));

    // A commune sees its own crisis and loans, never another's.
    let (mayor, _) = sign_in_as(&server, "maire@saint-etienne.fr", Role::Commune, Some(OWN)).await;
    let own = mayor
        .get(server.at(&format!("/communes/{OWN}/crise")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        own.contains("PC-01")
            && own.contains("Mobile-01")
            && !own.contains("Déposer une fiche signée"),
        "{own}"
    );
    let (neighbour, _) = sign_in_as(&server, "maire@firminy.fr", Role::Commune, Some(OTHER)).await;
    for path in [
        format!("/crises/{crisis}"),
        format!("/communes/{OWN}/crise"),
        format!("/prets/{pc1_loan}/fiche-de-pret.pdf"),
        format!("/prets/{pc1_loan}/fiche-signee"),
    ] {
        let response = neighbour.get(server.at(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let theirs = neighbour
        .get(server.at(&format!("/communes/{OTHER}/crise")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !theirs.contains("PC-01") && theirs.contains("Exercice de crise"),
        "{theirs}"
    );
}

/// A loan made for a booking is that booking's item, not one more taken
/// from its kind; a loan of the kind with no booking is (found by a
/// review: the stock counted such a loan twice).
#[tokio::test]
async fn a_loan_for_a_booking_is_counted_once_in_the_stock() {
    use vigie_server::crisis::{ledger, rules, store};
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let today = vigie_server::cybermeteo::today();
    let days = |n: i64| today + chrono::Duration::days(n);
    let mut laptops = Vec::new();
    for (label, serial) in [("PC-01", "PF3X9"), ("PC-02", "PF3Y0"), ("PC-03", "PF3Y1")] {
        let item = rules::new_item("laptop", label, serial, "", "").unwrap();
        laptops.push(
            store::add_item(&server.db, &item, today, None)
                .await
                .unwrap(),
        );
    }
    let booked = rules::Booking {
        id: 0,
        commune: OWN.to_owned(),
        commune_name: "Saint-Étienne".to_owned(),
        item: None,
        kind: Some(rules::Kind::Laptop),
        count: 1,
        span: rules::Span {
            from: today,
            to: days(5),
        },
        item_kind: None,
    };
    let booking = store::book(&server.db, &booked, "Élections", None)
        .await
        .unwrap();
    let lend = |item: i64, booking: Option<i64>, due: i64| ledger::Handover {
        items: vec![item],
        commune: OWN.to_owned(),
        crisis: None,
        booking,
        holder_name: "Jeanne Martin".to_owned(),
        holder_role: "secrétaire de mairie".to_owned(),
        due: days(due),
    };
    // Lent for the booking, and kept three days past it.
    ledger::lend(&server.db, &lend(laptops[0], Some(booking), 8), None)
        .await
        .unwrap()
        .unwrap();
    let span = rules::Span {
        from: days(1),
        to: days(2),
    };
    let lent = || store::lent_during(&server.db, rules::Kind::Laptop, span, today);
    assert_eq!(lent().await.unwrap(), 0, "the booking already takes it");
    // After the booking's days, the loan still out is one lent.
    let after = rules::Span {
        from: days(6),
        to: days(7),
    };
    let after = store::lent_during(&server.db, rules::Kind::Laptop, after, today).await;
    assert_eq!(after.unwrap(), 1);
    let beyond = rules::Span {
        from: days(9),
        to: days(10),
    };
    let beyond = store::lent_during(&server.db, rules::Kind::Laptop, beyond, today).await;
    assert_eq!(beyond.unwrap(), 0, "due on day 8: back by day 9");
    // A loan with no booking counts.
    ledger::lend(&server.db, &lend(laptops[1], None, 5), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lent().await.unwrap(), 1);
    // So another commune may still book the third laptop, not a fourth.
    let existing: Vec<rules::Booking> = store::bookings(&server.db, today, None)
        .await
        .unwrap()
        .iter()
        .filter_map(store::BookingRow::rule)
        .collect();
    let mut other = booked.clone();
    other.commune = OTHER.to_owned();
    other.span = span;
    assert_eq!(rules::booking_refusal(&other, &existing, 3, 1), None);
    other.count = 2;
    assert!(rules::booking_refusal(&other, &existing, 3, 1).is_some());
}
