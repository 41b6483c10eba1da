//! Who may see what, route by route and role by role: a commune never sees
//! another commune's details; the staff see everything; the journal is the
//! administrator's; nothing but the sign-in page is open to strangers.
//!
//! The main test is generated from the route table
//! (`vigie_server::web::routes::table()`): every route, GET and POST, is
//! tried by every role and by strangers, with each path parameter
//! replaced by fixtures (own, other, unknown), and the answer expected is
//! derived from the route's declared access. A new route is covered as
//! soon as it is declared.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use crate::common;

use common::{TestServer, enrolled_sensor, sign_in_again, sign_in_as};
use reqwest::StatusCode;
use vigie_server::accounts::{self, Role};
use vigie_server::web::Access;

const OWN: &str = "42218"; // Saint-Étienne, the commune user's
const OTHER: &str = "42095"; // Firminy

async fn sensor_id(server: &TestServer, commune: &str) -> String {
    use sqlx::Row;
    enrolled_sensor(server, commune).await;
    let row = sqlx::query("SELECT id FROM sensors WHERE commune = $1")
        .bind(commune)
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    row.try_get(0).unwrap()
}

/// A network probe scan of `commune`, stored directly: its id.
async fn scan_id(server: &TestServer, commune: &str) -> String {
    let report: vigie_core::probe::ProbeReport = serde_json::from_value(serde_json::json!({
        "schema": "vigie.probe/1", "commune": commune,
        "started_at": "2025-03-12T08:14:00Z", "finished_at": "2025-03-12T09:14:00Z",
        "lab": false, "interrupted": false,
        "scope": { "networks": ["192.168.1.0/24"], "excluded": [], "intensity": "polite" },
        "hosts": [], "findings": [], "top": []
    }))
    .unwrap();
    let stored = vigie_server::probes::store(&server.db, &report, None, 0)
        .await
        .unwrap();
    stored.id.to_string()
}

/// A pre-audit round of `commune`, stored directly: its id.
async fn audit_id(server: &TestServer, commune: &str) -> String {
    let book = vigie_server::audits::Book::built_in().unwrap();
    vigie_server::audits::create(&server.db, commune, &book, 1, 0)
        .await
        .unwrap()
}

/// A phishing campaign of `commune` without targets, stored directly: its
/// id.
async fn campaign_id(server: &TestServer, commune: &str) -> String {
    let id = vigie_server::db::random_hex(12);
    sqlx::query(
        "INSERT INTO campaigns (id, commune, scenarios, start_day, end_day, targets,
             created_at, purge_due_at)
         VALUES ($1, $2, '[\"colis-douane\"]', '2026-01-05', '2026-01-09', 0, 0, 0)",
    )
    .bind(&id)
    .bind(commune)
    .execute(&server.db.pool)
    .await
    .unwrap();
    id
}

/// A signed sensor agreement of `commune`, as the store writes it.
async fn agreement_id(server: &TestServer, commune: &str, offer: &str) -> String {
    let facts = vigie_server::agreements::Facts {
        signed_on: chrono::NaiveDate::from_ymd_opt(2026, 1, 5),
        ..Default::default()
    };
    let nobody = vigie_server::agreements::store::Referent::default();
    let new = vigie_server::agreements::store::NewAgreement {
        commune,
        offer,
        facts: &facts,
        territory_referent: &nobody,
        commune_referent: &nobody,
        costs: None,
        data_at_end: None,
        created_by: None,
        detail: "Convention de test.",
    };
    let id = vigie_server::agreements::store::create(&server.db, &new, 0)
        .await
        .unwrap();
    // Its signed scan, for the route that serves it.
    let scan = vigie_server::agreements::store::Scan {
        kind: vigie_server::agreements::offers::DeliverableKind::Agreement,
        step: "",
        signed_on: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
        name: "convention.pdf",
        content_type: "application/pdf",
        bytes: b"%PDF-1.4\n%%EOF\n",
    };
    let change = vigie_server::agreements::store::Change::note(None, "signed_document", "Scan.");
    vigie_server::agreements::store::signed(&server.db, &id, &scan, &change, 0)
        .await
        .unwrap();
    id
}

/// A provider's link to `audit`, created as the commune would: its token.
async fn provider_link(server: &TestServer, audit: &str) -> String {
    let (browser, csrf) =
        sign_in_as(server, "lien@saint-etienne.fr", Role::Commune, Some(OWN)).await;
    let page = browser
        .post(server.at(&format!("/audits/{audit}/prestataires")))
        .form(&[("csrf", csrf.as_str()), ("name", "Infogérance 42")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page.find("/prestataire/vgp_").unwrap() + "/prestataire/".len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// `OWN`'s training link: its token.
async fn training_link(server: &TestServer) -> String {
    let code = vigie_server::territory::CommuneCode::parse(OWN).unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let (_, token) = vigie_server::elearning::create_link(&server.db, &code, None, now)
        .await
        .unwrap();
    token
}

/// A file of the documentation kit, stored directly: its id.
async fn kit_file(server: &TestServer) -> String {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO kit_files (section, title, description, name, kind, size, content, uploaded_at) \
         VALUES ('procedure', 'Fiche réflexe', 'Qui appeler', 'fiche.pdf', 'pdf', 9, $1, 0) RETURNING id",
    )
    .bind(b"%PDF-1.4\n".to_vec())
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    id.to_string()
}

/// One of the kit's links seeded by the migration: its id.
async fn kit_link(server: &TestServer) -> String {
    let id: i64 = sqlx::query_scalar("SELECT MIN(id) FROM kit_links")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    id.to_string()
}

/// The crisis kit: an item, a crisis and a loan for `OWN` and `OTHER`, a
/// booking. Stored directly: (item, crises, loans, booking).
async fn crisis_kit(server: &TestServer) -> (String, (String, String), (String, String), String) {
    use vigie_server::crisis::{ledger, rules, store};
    let today = vigie_server::cybermeteo::today();
    let mut items = Vec::new();
    for label in ["PC-01", "PC-02", "PC-03"] {
        let item = rules::new_item("laptop", label, &format!("SN-{label}"), "", "").unwrap();
        items.push(
            store::add_item(&server.db, &item, today, None)
                .await
                .unwrap(),
        );
    }
    let mut crises = Vec::new();
    let mut loans = Vec::new();
    for (commune, item) in [(OWN, items[0]), (OTHER, items[1])] {
        let crisis = store::declare(&server.db, commune, "Le maire", today, "Rançongiciel", None)
            .await
            .unwrap();
        let handover = ledger::Handover {
            items: vec![item],
            commune: commune.to_owned(),
            crisis: Some(crisis),
            booking: None,
            holder_name: "Jeanne Martin".to_owned(),
            holder_role: "secrétaire de mairie".to_owned(),
            due: today + chrono::Duration::days(7),
        };
        let reference = ledger::lend(&server.db, &handover, None)
            .await
            .unwrap()
            .unwrap();
        let loan = ledger::loans(
            &server.db,
            ledger::Filter {
                handover: Some(&reference),
                ..ledger::Filter::default()
            },
        )
        .await
        .unwrap();
        crises.push(crisis.to_string());
        loans.push(loan[0].id.to_string());
    }
    let booking = rules::Booking {
        id: 0,
        commune: OWN.to_owned(),
        commune_name: "Saint-Étienne".to_owned(),
        item: Some(items[2]),
        kind: None,
        count: 1,
        item_kind: None,
        span: rules::Span {
            from: today,
            to: today + chrono::Duration::days(3),
        },
    };
    let booking = store::book(&server.db, &booking, "Exercice de crise", None)
        .await
        .unwrap();
    (
        items[2].to_string(),
        (crises[0].clone(), crises[1].clone()),
        (loans[0].clone(), loans[1].clone()),
        booking.to_string(),
    )
}

/// Who tries a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    Admin,
    Operator,
    /// A user of the commune `OWN`.
    Commune,
    /// The bearer token of a sensor of `OWN`.
    Sensor,
}

const EVERYONE: [Who; 5] = [
    Who::Anonymous,
    Who::Admin,
    Who::Operator,
    Who::Commune,
    Who::Sensor,
];

/// Whose a path parameter's fixture is, from the most visible to the least
/// (a path with two parameters is the least visible of its two).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Owner {
    /// No commune's (a territory-wide list, an account).
    Shared,
    /// `OWN`'s.
    Own,
    /// `OTHER`'s.
    Other,
    /// Nothing by that name.
    Unknown,
}

/// The answer a caller gets, as the test classifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Sent to sign in (303 to `/connexion` for a page, 401 under `/api/`).
    SignIn,
    Forbidden,
    NotFound,
    /// Let through: whatever the handler answers (200, 303 elsewhere, a
    /// 400 for the empty form the test posts), never a server error.
    Allowed,
}

/// What `who` must get on a route of `access` whose parameter is `owner`'s.
fn expected(access: Access, who: Who, owner: Owner) -> Outcome {
    let signed_in = matches!(who, Who::Admin | Who::Operator | Who::Commune);
    let admitted = match access {
        Access::Public => true,
        Access::Sensor => who == Who::Sensor,
        Access::SignedIn | Access::Visible => signed_in,
        Access::Staff => {
            if who == Who::Commune {
                return Outcome::Forbidden;
            }
            signed_in
        }
        Access::Admin => {
            if matches!(who, Who::Operator | Who::Commune) {
                return Outcome::Forbidden;
            }
            signed_in
        }
    };
    if !admitted {
        return Outcome::SignIn;
    }
    match owner {
        Owner::Unknown => Outcome::NotFound,
        // Callers bound to `OWN` never see `OTHER`'s things.
        Owner::Other if matches!(who, Who::Commune | Who::Sensor) => Outcome::NotFound,
        _ => Outcome::Allowed,
    }
}

fn classify(path: &str, access: Access, response: &reqwest::Response) -> Result<Outcome, String> {
    let status = response.status().as_u16();
    let api = path.starts_with("/api/");
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Ok(match status {
        401 if api => Outcome::SignIn,
        // (Signing out also ends there, but clears the cookie.)
        303 if !api
            && location.starts_with("/connexion")
            && !response.headers().contains_key("set-cookie") =>
        {
            Outcome::SignIn
        }
        // The sign-in form shown again after wrong credentials.
        401 if !api && access == Access::Public => Outcome::Allowed,
        403 => Outcome::Forbidden,
        404 => Outcome::NotFound,
        500.. | 401 => return Err(format!("status {status}")),
        _ => Outcome::Allowed,
    })
}

/// The things path parameters name. Those a POST may change (a sensor it
/// revokes, a list it deletes, an account it disables) are renewed
/// before each POST.
struct Fixtures {
    sensors: (String, String),
    scans: (String, String),
    audits: (String, String),
    campaigns: (String, String),
    agreements: (String, String),
    /// A provider's link token (public: the token is the key).
    provider_token: String,
    /// `OWN`'s training link token (public: the token is the key).
    training_token: String,
    /// A file and a link of the documentation kit (the territory's).
    kit_file: String,
    kit_link: String,
    /// The crisis kit's: an item and a booking (the staff's), crises and
    /// loans (`OWN`'s, `OTHER`'s).
    kit_item: String,
    crises: (String, String),
    loans: (String, String),
    booking: String,
    victim: i64,
}

const LIST: &str = "menaces_essai";
const OTHER_ALLOWLIST: &str = "allowlist_firminy";

impl Fixtures {
    /// Each parameter's fixtures in a route of `pattern`: (value, owner).
    fn values(&self, pattern: &str, name: &str) -> Vec<(String, Owner)> {
        let three = |own: &str, other: &str, unknown: &str| {
            vec![
                (own.to_owned(), Owner::Own),
                (other.to_owned(), Owner::Other),
                (unknown.to_owned(), Owner::Unknown),
            ]
        };
        match name {
            "code" => three(OWN, OTHER, "99999"),
            "sensor" => three(&self.sensors.0, &self.sensors.1, "capteur-inconnu"),
            "scan" => three(&self.scans.0, &self.scans.1, "999999"),
            "audit" => three(&self.audits.0, &self.audits.1, "0123456789abcdef01234567"),
            "agreement" => three(
                &self.agreements.0,
                &self.agreements.1,
                "0123456789abcdef01234567",
            ),
            "campaign" => three(
                &self.campaigns.0,
                &self.campaigns.1,
                "0123456789abcdef01234567",
            ),
            "link" if pattern.starts_with("/formation/") => vec![
                (self.training_token.clone(), Owner::Shared),
                ("vgf_inconnu".to_owned(), Owner::Unknown),
            ],
            "link" => vec![
                (self.provider_token.clone(), Owner::Shared),
                ("vgp_inconnu".to_owned(), Owner::Unknown),
            ],
            "module" => vec![
                ("hameconnage".to_owned(), Owner::Shared),
                ("module-inconnu".to_owned(), Owner::Unknown),
            ],
            "file" => vec![
                (self.kit_file.clone(), Owner::Shared),
                ("999999".to_owned(), Owner::Unknown),
            ],
            "link_id" => vec![
                (self.kit_link.clone(), Owner::Shared),
                ("999999".to_owned(), Owner::Unknown),
            ],
            "item" => vec![
                (self.kit_item.clone(), Owner::Shared),
                ("999999".to_owned(), Owner::Unknown),
            ],
            "booking" => vec![
                (self.booking.clone(), Owner::Shared),
                ("999999".to_owned(), Owner::Unknown),
            ],
            "crisis" => three(&self.crises.0, &self.crises.1, "999999"),
            "loan" => three(&self.loans.0, &self.loans.1, "999999"),
            "list" => vec![
                (LIST.to_owned(), Owner::Shared),
                (OTHER_ALLOWLIST.to_owned(), Owner::Other),
                ("liste_inconnue".to_owned(), Owner::Unknown),
            ],
            "user" => vec![
                (self.victim.to_string(), Owner::Shared),
                ("999999".to_owned(), Owner::Unknown),
            ],
            // A password link's or a phishing exercise's token: it is the
            // credential; none is valid.
            "token" => vec![("0".repeat(64), Owner::Unknown)],
            other => panic!("no fixture for the path parameter {{{other}}}: add one"),
        }
    }

    /// The concrete paths of `pattern`: one per combination of its
    /// parameters' fixtures, owned by the least visible of them (a thing
    /// that does not exist, then another commune's, then one's own).
    fn paths(&self, pattern: &str) -> Vec<(String, Owner)> {
        let mut paths = vec![(String::new(), Owner::Shared)];
        let mut rest = pattern;
        while let Some(open) = rest.find('{') {
            let close = open + rest[open..].find('}').unwrap();
            let values = self.values(pattern, &rest[open + 1..close]);
            paths = paths
                .into_iter()
                .flat_map(|(path, owner)| {
                    values.iter().map(move |(value, other)| {
                        (format!("{path}{}{value}", &rest[..open]), owner.max(*other))
                    })
                })
                .collect();
            rest = &rest[close + 1..];
        }
        paths
            .into_iter()
            .map(|(path, owner)| (format!("{path}{rest}"), owner))
            .collect()
    }

    /// Puts back what a POST may have changed.
    async fn renew(&mut self, server: &TestServer) {
        use vigie_core::lists::ListKind;
        use vigie_server::lists::{NewList, Source};
        let add = |commune: &'static str| vigie_server::sensors::add_sensor(&server.db, commune);
        self.sensors = (
            add(OWN).await.unwrap().sensor_id,
            add(OTHER).await.unwrap().sensor_id,
        );
        for (name, kind, commune, text) in [
            (LIST, ListKind::Threat, None, "203.0.113.9\n"),
            (
                OTHER_ALLOWLIST,
                ListKind::Allow,
                Some(OTHER),
                "198.51.100.7\n",
            ),
        ] {
            let list = NewList {
                name: name.to_owned(),
                kind,
                commune: commune.map(str::to_owned),
                source: Source::Upload,
            };
            vigie_server::lists::upload(&server.db, &list, text)
                .await
                .unwrap();
        }
        accounts::enable_user(&server.db, VICTIM).await.unwrap();
    }
}

const VICTIM: &str = "victime@firminy.fr";

/// A signed-in role: its email, browser and CSRF token.
struct Session {
    email: &'static str,
    browser: reqwest::Client,
    csrf: String,
}

/// Every route of the table, every role, every fixture.
#[tokio::test]
async fn every_route_for_every_role() {
    let mut settings = vigie_server::ServerSettings::default();
    settings.flood.anonymous_burst = 1_000_000;
    settings.flood.guess_burst = 10_000;
    // The public page is tried as it is served when a territory turns it on.
    settings.public_territory = true;
    let server = TestServer::start_with(settings).await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let sensor_token = enrolled_sensor(&server, OWN).await;
    accounts::add_user(
        &server.db,
        VICTIM,
        Role::Commune,
        Some(OTHER),
        common::PASSWORD,
    )
    .await
    .unwrap();
    let victim: i64 = {
        use sqlx::Row;
        sqlx::query("SELECT id FROM users WHERE email = $1")
            .bind(VICTIM)
            .fetch_one(&server.db.pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    };
    let mut fixtures = Fixtures {
        sensors: (
            sensor_id(&server, OWN).await,
            sensor_id(&server, OTHER).await,
        ),
        scans: (scan_id(&server, OWN).await, scan_id(&server, OTHER).await),
        audits: (audit_id(&server, OWN).await, audit_id(&server, OTHER).await),
        campaigns: (
            campaign_id(&server, OWN).await,
            campaign_id(&server, OTHER).await,
        ),
        agreements: (
            agreement_id(&server, OWN, "sensor").await,
            agreement_id(&server, OTHER, "sensor").await,
        ),
        provider_token: String::new(),
        training_token: training_link(&server).await,
        kit_file: kit_file(&server).await,
        kit_link: kit_link(&server).await,
        kit_item: String::new(),
        crises: (String::new(), String::new()),
        loans: (String::new(), String::new()),
        booking: String::new(),
        victim,
    };
    (
        fixtures.kit_item,
        fixtures.crises,
        fixtures.loans,
        fixtures.booking,
    ) = crisis_kit(&server).await;
    fixtures.provider_token = provider_link(&server, &fixtures.audits.0).await;
    // `OWN` signed an awareness path: its users read the documentation kit.
    agreement_id(&server, OWN, "awareness_1").await;
    // The GET fixtures stay; POSTs get fresh sensors of their own.
    let stable_sensors = fixtures.sensors.clone();
    fixtures.renew(&server).await;

    let mut sessions = Vec::new();
    for (who, email, role, commune) in [
        (Who::Admin, "admin@loire.fr", Role::Admin, None),
        (
            Who::Operator,
            "operateur@prestataire.fr",
            Role::Operator,
            None,
        ),
        (
            Who::Commune,
            "secretariat@saint-etienne.fr",
            Role::Commune,
            Some(OWN),
        ),
    ] {
        let (browser, csrf) = sign_in_as(&server, email, role, commune).await;
        sessions.push((
            who,
            Session {
                email,
                browser,
                csrf,
            },
        ));
    }
    let stranger = server.browser();

    let table = vigie_server::web::routes::table();
    let mut failures = Vec::new();
    let mut tried = 0;
    for route in &table {
        // POST, PUT…: anything that may change state.
        let post = route.method != reqwest::Method::GET;
        let variants = fixtures.paths(route.path).len();
        for variant in 0..variants {
            for who in EVERYONE {
                if post && route.path.contains('{') {
                    fixtures.renew(&server).await;
                } else {
                    fixtures.sensors = stable_sensors.clone();
                }
                let (path, owner) = fixtures.paths(route.path).swap_remove(variant);
                let session = sessions.iter().find(|(w, _)| *w == who).map(|(_, s)| s);
                let (client, csrf) = match session {
                    Some(session) => (&session.browser, session.csrf.as_str()),
                    None => (&stranger, ""),
                };
                let mut request = client.request(route.method.clone(), server.at(&path));
                if who == Who::Sensor {
                    request = request.bearer_auth(&sensor_token);
                }
                if post {
                    // A valid token: what is tried is the access rule.
                    request = request.header("x-csrf-token", csrf).form(&[("csrf", csrf)]);
                }
                let response = request.send().await.unwrap();
                tried += 1;
                let want = expected(route.access, who, owner);
                let status = response.status();
                let content_type = response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                match classify(&path, route.access, &response) {
                    Ok(got) if got == want => {}
                    Ok(got) => failures.push(format!(
                        "{who:?} {} {path} ({:?}): {status} = {got:?}, expected {want:?}",
                        route.method, route.access
                    )),
                    Err(e) => failures.push(format!("{who:?} {} {path}: {e}", route.method)),
                }
                // A browser never sees JSON for an error; the API always does.
                let api = path.starts_with("/api/");
                if status.is_client_error() && !api && !content_type.starts_with("text/html") {
                    failures.push(format!(
                        "{who:?} {} {path}: {status} as {content_type}",
                        route.method
                    ));
                }
                if matches!(status.as_u16(), 401 | 403 | 404)
                    && api
                    && !content_type.starts_with("application/json")
                {
                    failures.push(format!(
                        "{who:?} {} {path}: {status} as {content_type}",
                        route.method
                    ));
                }
                // A POST may have ended the session (`/deconnexion`): sign in again.
                if let (true, Some(session)) = (post, session) {
                    let me = session
                        .browser
                        .get(server.at("/api/v1/me"))
                        .send()
                        .await
                        .unwrap();
                    if me.status() == reqwest::StatusCode::UNAUTHORIZED {
                        let (browser, csrf) = sign_in_again(&server, session.email).await;
                        let index = sessions.iter().position(|(w, _)| *w == who).unwrap();
                        sessions[index].1 = Session {
                            email: session.email,
                            browser,
                            csrf,
                        };
                    }
                }
            }
        }
    }
    assert!(
        table.iter().any(|r| r.method == reqwest::Method::POST) && tried > table.len() * 5,
        "{tried} tries"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `pattern` with its `{code}` replaced by `OWN`, and any other
/// parameter by `1`.
fn fill_parameters(pattern: &str) -> String {
    let mut path = String::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}').unwrap();
        path.push_str(&rest[..open]);
        path.push_str(if &rest[open..=close] == "{code}" {
            OWN
        } else {
            "1"
        });
        rest = &rest[close + 1..];
    }
    path.push_str(rest);
    path
}

/// Every form of a signed-in caller is refused without its CSRF token, with
/// a French page (JSON under `/api/`).
#[tokio::test]
async fn every_form_needs_its_csrf_token() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let mut failures = Vec::new();
    for route in vigie_server::web::routes::table() {
        if route.method == reqwest::Method::GET
            || matches!(route.access, Access::Public | Access::Sensor)
        {
            continue;
        }
        // Any value: the token is checked before the thing is looked up.
        let path = fill_parameters(route.path);
        let response = admin
            .request(route.method.clone(), server.at(&path))
            .form(&[("csrf", "")])
            .send()
            .await
            .unwrap();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let wanted = if path.starts_with("/api/") {
            "application/json"
        } else {
            "text/html"
        };
        if response.status() != reqwest::StatusCode::FORBIDDEN || !content_type.starts_with(wanted)
        {
            failures.push(format!(
                "{} {path}: {} as {content_type}",
                route.method,
                response.status()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn api_tokens_carry_the_same_rights() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    accounts::add_user(
        &server.db,
        "secretariat@saint-etienne.fr",
        Role::Commune,
        Some(OWN),
        "un mot de passe assez long",
    )
    .await
    .unwrap();
    let token = accounts::create_token(&server.db, "secretariat@saint-etienne.fr")
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let get = |path: String| client.get(server.at(&path)).bearer_auth(&token).send();
    assert_eq!(
        get(format!("/api/v1/communes/{OWN}/days"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        get(format!("/api/v1/communes/{OTHER}/days"))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(format!("/api/v1/communes/{OTHER}/incidents"))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get("/api/v1/weather".into()).await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_commune_page_of_another_commune_leaks_nothing() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let (mayor, _) = sign_in_as(&server, "maire@saint-etienne.fr", Role::Commune, Some(OWN)).await;
    let other = mayor
        .get(server.at(&format!("/communes/{OTHER}")))
        .send()
        .await
        .unwrap();
    let missing = mayor
        .get(server.at("/communes/99999"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (other.status(), missing.status()),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    // The same answer as for a commune that does not exist: no existence leak.
    assert_eq!(other.text().await.unwrap(), missing.text().await.unwrap());
}

#[tokio::test]
async fn a_commune_exports_only_its_own_weather() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    let (mayor, _) = sign_in_as(&server, "maire@saint-etienne.fr", Role::Commune, Some(OWN)).await;
    let csv = mayor
        .get(server.at("/export/meteo.csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 90, "90 days of one commune");
    assert!(rows.iter().all(|row| row.contains(";42218;")), "{csv}");
    let geojson: serde_json::Value = mayor
        .get(server.at("/export/meteo.geojson"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let features = geojson["features"].as_array().unwrap();
    assert_eq!(features.len(), 1);
    assert_eq!(features[0]["properties"]["code"], OWN);
    assert_eq!(features[0]["geometry"]["type"], "MultiPolygon");

    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let geojson: serde_json::Value = admin
        .get(server.at("/export/meteo.geojson"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(geojson["features"].as_array().unwrap().len(), 320);
    let bad = admin
        .get(server.at("/export/meteo.csv?from=2026-01-01&to=2020-01-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}
