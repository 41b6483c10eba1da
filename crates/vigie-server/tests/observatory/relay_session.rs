//! The outbox's SMTP session (issue 11's sending benchmark): a round's
//! messages go through one connection to the relay, not one each, and a
//! message the relay cannot take does not stop the others.

use vigie_server::db::now_ms;
use vigie_server::outbox::{self, Email};

use crate::common::TestServer;
use crate::mail::{free_port, python, relay, start_sink};

async fn write(server: &TestServer, to: &str) {
    let email = Email {
        kind: "test",
        recipient: to.to_owned(),
        subject: "Essai de l'observatoire".to_owned(),
        text: "Texte brut, accentué : été.".to_owned(),
        html: "<p>Texte <strong>HTML</strong>.</p>".to_owned(),
    };
    let mut tx = server.db.pool.begin().await.unwrap();
    outbox::enqueue(&mut tx, &email, "https://observatoire.example.fr", now_ms())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn issue_11_a_rounds_messages_share_one_connection() {
    let Some(python) = python() else { return };
    let server = TestServer::start().await;
    let port = free_port();
    let sink = start_sink(python, port);
    write(&server, "premier@commune.example.fr").await;
    // Not an address: refused before it reaches the relay.
    write(&server, "pas une adresse").await;
    write(&server, "second@commune.example.fr").await;
    write(&server, "troisieme@commune.example.fr").await;

    let summary = outbox::send_due(&server.db, &relay(port), now_ms())
        .await
        .unwrap();
    assert_eq!((summary.sent, summary.failed), (3, 1), "{summary:?}");
    let received = sink.received();
    assert_eq!(received.len(), 3);
    let ports: Vec<_> = received.iter().map(|m| m["peer_port"].clone()).collect();
    assert!(ports.iter().all(|p| *p == ports[0]), "{ports:?}");

    // The next round opens its own.
    write(&server, "quatrieme@commune.example.fr").await;
    let summary = outbox::send_due(&server.db, &relay(port), now_ms())
        .await
        .unwrap();
    assert_eq!(summary.sent, 1, "{summary:?}");
    let received = sink.received();
    assert_eq!(received.len(), 4);
    assert_ne!(received[3]["peer_port"], ports[0]);
}
