//! Fuzzes the probe's HTTP response parser, title and challenge extraction.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_probe::protocols::web::http::{client, parse, portals};

fuzz_target!(|data: &[u8]| {
    let _ = client::is_complete(data);
    let _ = portals::ivanti_version(data);
    let _ = parse::title(data);
    if let Ok(response) = parse::parse_response(data) {
        assert!(response.head.len <= data.len());
        assert!(response.head.headers.len() <= parse::MAX_HEADERS);
        if let Some(title) = response.title() {
            assert!(!title.is_empty() && title.chars().count() <= parse::MAX_TITLE_CHARS);
        }
        let _ = response.challenge();
        let _ = response.has_password_input();
        let _ = portals::exchange_version(&response);
        for (path, kind) in portals::PROBES {
            let _ = portals::identify(*kind, path, &response);
        }
        if let Some(server) = response.head.header("server") {
            let _ = parse::server_product(server);
            let _ = parse::server_os(server);
        }
    }
});
