//! `vigie bench campaigns` with tiny sizes, so that the bench cannot rot:
//! it runs whole (campaigns written and sent to its SMTP server, the
//! tracking links under load, the checks) and finds nothing lost. No
//! time or rate is asserted: the machine's speed is not this test's
//! business. Loopback only: no root, no network.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::process::Command;

#[test]
fn bench_campaigns_runs_with_tiny_sizes() {
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args([
            "bench",
            "campaigns",
            "--messages",
            "30",
            "--targets",
            "12",
            "--seconds",
            "1",
            "--connections",
            "4",
            "--rate",
            "200",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for expected in [
        "30 messages, 30 Message-ID distincts, 0 répétés, 0 sans Message-ID, 0 envoyés selon la file mais non reçus",
        "12 jetons lus",
        "rien de perdu",
    ] {
        assert!(
            stdout.contains(expected),
            "« {expected} » absent :\n{stdout}"
        );
    }
}
