//! From packets to the map: the real sensor engine's reports through the
//! real ingest. A run sent as one report and the same run sent as a live
//! sensor's batches (one of them twice) give the observatory the same
//! counts: nothing lost, nothing counted twice.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use crate::common;

use chrono::Utc;
use common::{TestServer, enrolled_sensor, sign_in_as};
use vigie_sensor::capture::CaptureReader;
use vigie_sensor::engine::{Engine, Settings};
use vigie_sensor::synth::traffic::{Mix, write_capture};
use vigie_server::accounts::Role;

async fn post(
    server: &TestServer,
    token: &str,
    seq: u64,
    mut report: vigie_core::Report,
) -> serde_json::Value {
    report.seq = Some(seq);
    let response = reqwest::Client::new()
        .post(server.at("/api/v1/reports"))
        .bearer_auth(token)
        .json(&report)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn one_report_or_live_batches_give_the_same_counts() {
    let server = TestServer::start().await;
    vigie_server::territory::ensure_builtin(&server.db)
        .await
        .unwrap();
    // Six hours of a town hall's traffic ending an hour ago.
    let start = Utc::now().timestamp_nanos_opt().unwrap() - 7 * 3600 * 1_000_000_000;
    let mut capture = Vec::new();
    let mix = Mix {
        packets: 40_000,
        start,
        packets_per_second: 2,
        seed: 4,
        attacks: true,
    };
    write_capture(&mut capture, &mix).unwrap();
    let settings = || Settings {
        host_key: [3; 32],
        ..Settings::default()
    };

    let mut whole = Engine::new(settings());
    whole
        .read_capture(&mut CaptureReader::new(&capture[..]).unwrap())
        .unwrap();
    let whole_token = enrolled_sensor(&server, "42218").await;
    post(&server, &whole_token, 0, whole.finish()).await;

    let live_token = enrolled_sensor(&server, "42059").await;
    let mut live = Engine::new(settings());
    let mut reader = CaptureReader::new(&capture[..]).unwrap();
    let (mut seq, mut seen) = (0, 0u64);
    while let Some(frame) = reader.next_frame().unwrap() {
        live.process(frame.ts_nanos, frame.linktype, frame.data, frame.orig_len);
        seen += 1;
        if seen.is_multiple_of(3_000) {
            let batch = live.drain();
            post(&server, &live_token, seq, batch.clone()).await;
            if seq == 4 {
                // The acknowledgement was lost: the sensor sends it again.
                assert_eq!(
                    post(&server, &live_token, seq, batch).await["status"],
                    "duplicate"
                );
            }
            seq += 1;
        }
    }
    post(&server, &live_token, seq, live.finish()).await;

    let (admin, _) = sign_in_as(&server, "admin@loire.fr", Role::Admin, None).await;
    let days = |code: &'static str| {
        let admin = admin.clone();
        let url = server.at(&format!("/api/v1/communes/{code}/days"));
        async move {
            admin
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<Vec<serde_json::Value>>()
                .await
                .unwrap()
        }
    };
    let (one, batched) = (days("42218").await, days("42059").await);
    assert!(!one.is_empty());
    assert_eq!(
        one, batched,
        "the same counts by day, category and direction"
    );
    let total: i64 = one
        .iter()
        .map(|d| d["inbound"].as_i64().unwrap() + d["outbound"].as_i64().unwrap())
        .sum();
    assert!(total >= 7, "the generated attacks are all there: {one:?}");
}
