//! `vigie bench defence` with tiny sizes, so that the bench cannot rot:
//! it runs whole (a few minutes of a small territory's day through the
//! list's job, every delivery phase against the real server, the bytes
//! per box) and every request gets the answer it should. No time or rate
//! is asserted: the machine's speed is not this test's business.
//! Loopback only: no root, no network.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::process::Command;

#[test]
fn bench_defence_runs_with_tiny_sizes() {
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args([
            "bench",
            "defence",
            "--boxes",
            "30",
            "--incidents-per-box",
            "2000",
            "--minutes",
            "5",
            "--seconds",
            "1",
            "--connections",
            "4",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for expected in [
        "5 passages du calcul, les 5 premières minutes seulement",
        "rapport calcul / lecture",
        "liste du territoire, rien de nouveau (304)",
        "liste du territoire entière",
        "rapport au manifeste",
        "octets par boîtier et par jour",
        "un passage du calcul 24 h après le dernier",
    ] {
        assert!(
            stdout.contains(expected),
            "« {expected} » absent :\n{stdout}"
        );
    }
    assert_eq!(stdout.matches("0 erreur ;").count(), 5, "{stdout}");
}
