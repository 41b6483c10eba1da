//! Whole-module tests: each list format with real-looking lines, then the
//! rules that span formats (allowlists, special-use ranges, overlaps).

use std::net::IpAddr;

use super::*;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// Asserts which list (by label) holds each address; `None` for none.
fn check_ips(intel: &Intel, cases: &[(&str, Option<&str>)]) {
    for &(addr, expected) in cases {
        let got = intel.lookup_ip(ip(addr)).map(|id| intel.label(id));
        assert_eq!(got, expected, "address {addr}");
    }
}

/// Asserts which list holds each name and where the listed part starts.
fn check_names(intel: &Intel, cases: &[(&str, Option<(&str, usize)>)]) {
    for &(name, expected) in cases {
        let got = intel
            .lookup_domain(name.as_bytes())
            .map(|(id, at)| (intel.label(id), at));
        assert_eq!(got, expected, "name {name}");
    }
}

fn one_list(label: &str, text: &str) -> (Intel, LoadStats) {
    let mut builder = Intel::builder();
    let stats = builder.add_list(label, text);
    (builder.build(), stats)
}

#[test]
fn firehol_netset_ignores_special_use_ranges() {
    let text = "#\n# firehol_level1\n#\n# Entries : 4515 subnets\n#\n0.0.0.0/8\n\
                1.10.16.0/20\n10.0.0.0/8\n100.64.0.0/10\n127.0.0.0/8\n169.254.0.0/16\n\
                172.16.0.0/12\n192.168.0.0/16\n224.0.0.0/3\n5.188.10.0/23\n31.184.196.3\n";
    let (intel, stats) = one_list("firehol_level1", text);
    assert_eq!((stats.cidrs, stats.ips, stats.ignored_special), (2, 1, 8));
    assert_eq!(stats.malformed, 0);
    check_ips(
        &intel,
        &[
            ("1.10.20.1", Some("firehol_level1")),
            ("5.188.11.255", Some("firehol_level1")),
            ("31.184.196.3", Some("firehol_level1")),
            ("31.184.196.4", None),
            ("10.1.2.3", None),
            ("192.168.1.1", None),
            ("239.255.255.250", None),
        ],
    );
}

#[test]
fn block_straddling_a_private_range_keeps_its_public_part() {
    let (intel, stats) = one_list("wide", "8.0.0.0/4\n");
    assert_eq!((stats.cidrs, stats.ignored_special), (1, 0));
    check_ips(
        &intel,
        &[
            ("8.8.8.8", Some("wide")),
            ("10.0.0.1", None),
            ("11.0.0.1", Some("wide")),
        ],
    );
}

#[test]
fn spamhaus_drop_text_and_json_lines() {
    let text = "; Spamhaus DROP List 2024/05/02 - (c) 2024 The Spamhaus Project SLU\n\
                ; https://www.spamhaus.org/drop/drop.txt\n\
                ; Last-Modified: Thu, 02 May 2024 10:43:07 GMT\n\
                1.10.16.0/20 ; SBL256894\n1.19.0.0/16 ; SBL434604\n";
    let (intel, stats) = one_list("spamhaus_drop", text);
    assert_eq!(stats.cidrs, 2);
    check_ips(
        &intel,
        &[("1.19.200.1", Some("spamhaus_drop")), ("1.20.0.1", None)],
    );

    let json = "{\"cidr\":\"1.10.16.0/20\",\"sblid\":\"SBL256894\",\"rir\":\"apnic\"}\n\
                {\"cidr\":\"2a06:5280::/29\",\"sblid\":\"SBL576950\",\"rir\":\"ripencc\"}\n\
                {\"type\":\"metadata\",\"timestamp\":1714646587,\"size\":128,\"records\":2,\
                \"copyright\":\"(c) 2024 The Spamhaus Project SLU\",\
                \"terms\":\"https://www.spamhaus.org/drop/terms/\"}\n";
    let (intel, stats) = one_list("spamhaus_drop_v6", json);
    assert_eq!((stats.cidrs, stats.malformed), (2, 0));
    check_ips(
        &intel,
        &[
            ("2a06:5287::1", Some("spamhaus_drop_v6")),
            ("2a06:5288::1", None),
            ("1.10.31.255", Some("spamhaus_drop_v6")),
        ],
    );
}

#[test]
fn feodo_and_sslbl_csv() {
    let feodo = "################################################################\n\
                 # abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)          #\n\
                 # Last updated: 2024-05-02 11:15:23 UTC                        #\n\
                 ################################################################\n#\n\
                 \"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n\
                 \"2021-01-17 07:44:46\",\"51.75.144.59\",\"443\",\"online\",\"2024-05-01\",\"QakBot\"\n\
                 \"2023-10-12 16:13:24\",\"162.243.103.246\",\"8080\",\"online\",\"2024-05-02\",\"Pikabot\"\n\
                 # Number of entries: 2\n";
    let (intel, stats) = one_list("feodo_botnet_c2", feodo);
    assert_eq!((stats.ips, stats.malformed), (2, 0));
    check_ips(
        &intel,
        &[
            ("51.75.144.59", Some("feodo_botnet_c2")),
            ("162.243.103.246", Some("feodo_botnet_c2")),
            ("162.243.103.247", None),
        ],
    );

    let sslbl = "# abuse.ch SSLBL Botnet C2 IP Blacklist (CSV)\n# Firstseen,DstIP,DstPort\n\
                 2024-04-29 06:25:58,45.61.136.130,443\n2024-04-28 13:01:10,193.42.33.14,2222\n";
    let (intel, stats) = one_list("sslbl", sslbl);
    assert_eq!(stats.ips, 2);
    check_ips(&intel, &[("193.42.33.14", Some("sslbl"))]);
}

#[test]
fn urlhaus_csv_takes_the_url_host() {
    let text = "################################################################\n\
        # abuse.ch URLhaus Database Dump (CSV - online URLs only)      #\n\
        ################################################################\n#\n\
        # id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n\
        \"2841530\",\"2024-05-02 10:15:06\",\"http://115.55.237.117:50947/Mozi.m\",\"online\",\
        \"2024-05-02 10:15:06\",\"malware_download\",\"32-bit,elf,mips,Mozi\",\
        \"https://urlhaus.abuse.ch/url/2841530/\",\"lrz_urlhaus\"\n\
        \"2841529\",\"2024-05-02 10:14:05\",\"https://Cdn.Bad-Payload.Xyz/load/inv.zip\",\"online\",\
        \"2024-05-02 10:14:05\",\"malware_download\",\"zip\",\
        \"https://urlhaus.abuse.ch/url/2841529/\",\"abuse_ch\"\n";
    let (intel, stats) = one_list("urlhaus", text);
    assert_eq!((stats.ips, stats.domains, stats.malformed), (1, 1, 0));
    check_ips(&intel, &[("115.55.237.117", Some("urlhaus"))]);
    check_names(
        &intel,
        &[
            ("cdn.bad-payload.xyz", Some(("urlhaus", 0))),
            ("urlhaus.abuse.ch", None),
        ],
    );
}

#[test]
fn threatfox_csv_keeps_network_indicators() {
    let text = "################################################################\n\
        # ThreatFox IOCs: recent                                       #\n\
        ################################################################\n#\n\
        # \"first_seen_utc\",\"ioc_id\",\"ioc_value\",\"ioc_type\",\"threat_type\",\"fk_malware\",\
        \"malware_alias\",\"malware_printable\",\"last_seen_utc\",\"confidence_level\",\"reference\",\
        \"tags\",\"anonymous\",\"reporter\"\n\
        \"2024-05-02 10:33:13\", \"1271874\", \"45.95.147.236:80\", \"ip:port\", \"botnet_cc\", \
        \"elf.mirai\", \"Katana\", \"Mirai\", \"\", \"75\", \"None\", \"Mirai\", \"0\", \"abuse_ch\"\n\
        \"2024-05-02 10:30:02\", \"1271873\", \"dns.update-check.top\", \"domain\", \"botnet_cc\", \
        \"win.cobalt_strike\", \"None\", \"Cobalt Strike\", \"\", \"100\", \"\", \"c2\", \"0\", \"x\"\n\
        \"2024-05-02 10:29:44\", \"1271872\", \"http://103.153.79.104/gate.php\", \"url\", \
        \"botnet_cc\", \"win.lokipws\", \"None\", \"Loki\", \"\", \"100\", \"\", \"\", \"0\", \"x\"\n\
        \"2024-05-02 10:29:40\", \"1271871\", \"0dd56a1d3e5a2c4b7b1a73f8f4e2c6d1\", \"md5_hash\", \
        \"payload\", \"win.agent_tesla\", \"None\", \"Agent Tesla\", \"\", \"100\", \"\", \"\", \"0\", \"x\"\n";
    let (intel, stats) = one_list("threatfox", text);
    assert_eq!((stats.ips, stats.domains), (2, 1));
    assert_eq!((stats.unsupported, stats.malformed), (1, 0));
    check_ips(
        &intel,
        &[
            ("45.95.147.236", Some("threatfox")),
            ("103.153.79.104", Some("threatfox")),
        ],
    );
    check_names(&intel, &[("DNS.update-check.top.", Some(("threatfox", 0)))]);
}

#[test]
fn malformed_lines_are_counted_with_line_numbers() {
    let text = "1.2.3.4\n300.1.2.3\n# comment\n5.6.7.0/40\n\nhello world\n8.8.4.4\n";
    let (intel, stats) = one_list("mixed", text);
    assert_eq!((stats.ips, stats.malformed), (2, 3));
    let lines: Vec<usize> = stats.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![2, 4, 6]);
    assert_eq!(
        stats.problems[1].to_string(),
        "line 4: CIDR prefix length too long for the address family (\"5.6.7.0/40\")"
    );
    assert_eq!(intel.stats()[0], stats);
    check_ips(&intel, &[("8.8.4.4", Some("mixed"))]);
}

#[test]
fn allowlist_overrides_lists() {
    let mut builder = Intel::builder();
    builder.add_list("firehol_level1", "203.0.113.0/24\n");
    builder.add_list("urlhaus", "evil.example\ncdn.shared.example\n");
    let stats = builder.add_allowlist("203.0.113.53\nsafe.evil.example\nshared.example\n");
    assert_eq!((stats.ips, stats.domains, stats.allowlist), (1, 2, true));
    let intel = builder.build();
    check_ips(
        &intel,
        &[
            ("203.0.113.52", Some("firehol_level1")),
            ("203.0.113.53", None),
            ("203.0.113.54", Some("firehol_level1")),
        ],
    );
    check_names(
        &intel,
        &[
            ("evil.example", Some(("urlhaus", 0))),
            ("www.evil.example", Some(("urlhaus", 4))),
            ("safe.evil.example", None),
            ("a.safe.evil.example", None),
            ("cdn.shared.example", None),
        ],
    );
}

#[test]
fn subdomains_match_on_label_boundaries() {
    let (intel, _) = one_list("compromised_supply_chain", "Evil.COM.\n");
    check_names(
        &intel,
        &[
            ("evil.com", Some(("compromised_supply_chain", 0))),
            ("a.b.EVIL.com", Some(("compromised_supply_chain", 4))),
            ("notevil.com", None),
            ("evil.com.attacker.net", None),
            ("com", None),
        ],
    );
}

#[test]
fn mapped_ipv6_matches_ipv4_entries() {
    let (intel, _) = one_list("tor_exit", "185.220.101.1\n::ffff:185.220.102.0/120\n");
    check_ips(
        &intel,
        &[
            ("::ffff:185.220.101.1", Some("tor_exit")),
            ("185.220.102.9", Some("tor_exit")),
            ("::185.220.101.1", None),
        ],
    );
}

#[test]
fn overlapping_blocks_answer_with_the_first_list() {
    let mut builder = Intel::builder();
    builder.add_list("feodo_botnet_c2", "45.61.136.130\n");
    builder.add_list("spamhaus_drop", "45.61.136.0/22\n");
    builder.add_list("feodo_botnet_c2", "45.61.139.7\n");
    let intel = builder.build();
    check_ips(
        &intel,
        &[
            ("45.61.136.130", Some("feodo_botnet_c2")),
            ("45.61.139.7", Some("feodo_botnet_c2")),
            ("45.61.136.131", Some("spamhaus_drop")),
            ("45.61.140.0", None),
        ],
    );
    assert_eq!(intel.stats().len(), 3);
}

#[test]
fn empty_intel_answers_nothing() {
    let intel = Intel::empty();
    assert!(intel.is_empty());
    assert_eq!(intel.lookup_ip(ip("1.2.3.4")), None);
    assert_eq!(intel.lookup_domain(b"evil.com"), None);
}

#[test]
fn loads_a_directory_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("b_second.txt", "198.51.100.0/24\n");
    write(
        "a_first.csv",
        "# Firstseen,DstIP,DstPort\n2024-01-01,198.51.100.7,443\n",
    );
    write("allowlist-commune.txt", "198.51.100.8\n");
    write(".hidden.txt", "198.51.100.9\n");
    std::fs::create_dir(dir.path().join("archive")).unwrap();
    write("archive/old.txt", "192.0.2.1\n");
    let intel = Intel::load_dir(dir.path()).unwrap();
    let labels: Vec<&str> = intel.stats().iter().map(|s| s.label.as_str()).collect();
    assert_eq!(labels, ["a_first", "allowlist-commune", "b_second"]);
    check_ips(
        &intel,
        &[
            ("198.51.100.7", Some("a_first")),
            ("198.51.100.8", None),
            ("198.51.100.9", Some("b_second")),
            ("192.0.2.1", None),
        ],
    );
}

#[test]
fn missing_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = Intel::load_dir(&missing).unwrap_err();
    assert!(matches!(err, IntelError::ReadDir { .. }));
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn example_directory_loads_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/intel-example");
    let intel = Intel::load_dir(&dir).unwrap();
    for stats in intel.stats() {
        assert_eq!(stats.malformed, 0, "{stats}");
        assert!(stats.entries() > 0, "{stats}");
    }
    check_ips(
        &intel,
        &[
            ("192.0.2.10", Some("feodo_botnet_c2")),
            ("198.51.100.1", Some("firehol_level1")),
            ("198.51.100.53", None),
            ("10.0.0.1", None),
            ("2001:db8:dead::1", Some("spamhaus_drop_v6")),
            ("192.0.2.200", Some("tor_exit")),
        ],
    );
    check_names(
        &intel,
        &[
            (
                "x.payload.malware-drop.example",
                Some(("urlhaus_online", 2)),
            ),
            ("safe.malware-drop.example", None),
            (
                "telemetry.compromised.example",
                Some(("compromised_supply_chain", 0)),
            ),
        ],
    );
}

#[test]
fn a_million_entries() {
    // Every third address from 1.0.0.0, so no two entries merge.
    const COUNT: u32 = 1_000_000;
    const BASE: u32 = 0x0100_0000;
    let mut text = String::with_capacity(COUNT as usize * 14);
    for i in 0..COUNT {
        text.push_str(&std::net::Ipv4Addr::from(BASE + 3 * i).to_string());
        text.push('\n');
    }
    let (intel, stats) = one_list("big", &text);
    assert_eq!((stats.ips, stats.malformed), (COUNT as usize, 0));
    assert_eq!(intel.len(), COUNT as usize);
    for i in (0..COUNT).step_by(997).chain([COUNT - 1]) {
        let listed = IpAddr::from(std::net::Ipv4Addr::from(BASE + 3 * i));
        let absent = IpAddr::from(std::net::Ipv4Addr::from(BASE + 3 * i + 1));
        assert_eq!(
            intel.lookup_ip(listed).map(|id| intel.label(id)),
            Some("big")
        );
        assert_eq!(intel.lookup_ip(absent), None);
    }
    assert_eq!(intel.lookup_ip(ip("0.255.255.255")), None);
    assert_eq!(intel.lookup_ip(ip("1.45.200.0")), None);
}

#[test]
fn a_host_listed_inside_a_private_range_is_kept() {
    // A lab (the corpus uses 10.66.x.x) or an operator's own list names
    // hosts in private space on purpose; only whole-block bogon entries go.
    let (intel, stats) = one_list("lab_attacker", "10.66.1.2\n192.168.7.0/24\n10.0.0.0/8\n");
    assert_eq!((stats.ips, stats.cidrs, stats.ignored_special), (1, 1, 1));
    check_ips(
        &intel,
        &[
            ("10.66.1.2", Some("lab_attacker")),
            ("192.168.7.9", Some("lab_attacker")),
            ("10.66.1.3", None),
        ],
    );
}

#[test]
fn allowlisted_addresses_are_told_whether_listed_or_not() {
    let mut builder = Intel::builder();
    builder.add_list("firehol_level1", "203.0.113.0/24\n");
    builder.add_allowlist("203.0.113.53\n198.51.100.0/25\n2001:db8::/64\n10.66.1.3\n10.0.0.0/8\n");
    let intel = builder.build();
    let check = |addr: &str, expected: bool| {
        assert_eq!(intel.is_allowlisted(ip(addr)), expected, "address {addr}");
    };
    check("203.0.113.53", true);
    check("::ffff:203.0.113.53", true);
    check("203.0.113.52", false);
    check("198.51.100.127", true);
    check("198.51.100.128", false);
    check("2001:db8::1", true);
    check("2001:db8:1::1", false);
    // A whole special-use block is left out of allowlists as out of lists; a
    // single address inside one is kept.
    check("10.66.1.3", true);
    check("10.66.1.4", false);
    assert!(!Intel::empty().is_allowlisted(ip("203.0.113.53")));
}
