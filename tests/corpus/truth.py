#!/usr/bin/env python3
"""Writes the corpus's ground truth (truth.json) from the facts that
make-corpus.sh measured in each capture.

The truth says, for each scenario, which incidents a correct engine reports
(category, rule when it is fixed by the traffic, external source, direction,
and the allowed range of events), which it MAY report (tolerated), and
which strings must never appear in any report (privacy markers). It states
what the traffic is, not what one engine happens to output.

Schema (vigie.corpus-truth/1):
  scenarios[].expected[]:  {category, rule|null, source|null|[alternatives],
                            direction, target_port|null, indicator|null,
                            min_events, max_events}
  scenarios[].tolerated[]: {category, rule|null, source|null|[alternatives],
                            direction, max_events}
  An incident must match an expected or a tolerated entry; a null rule,
  target_port or indicator is not checked.
"""

import argparse
import datetime
import json
import sys
import tomllib

ATT = "10.66.1.2"
C2 = "10.66.1.3"
KNOWN = "10.66.1.4"
RESOLVER = "10.66.1.53"
SPOOF = "10.66.1.66"

DESCRIPTIONS = {
    "nmap_syn": "nmap SYN scan (-sS) of the top 1000 TCP ports of the town-hall server",
    "nmap_version": "nmap version detection (-sV) of the top 100 TCP ports: SYN scan, "
    "then full connections to the open ports (ssh, http) with nmap's probes",
    "masscan": "masscan of TCP ports 1-2000 at 500 packets/s, its own TCP/IP stack",
    "hydra_ssh": "hydra guessing the SSH password of one account (60 wrong + the right one, "
    "4 tasks); several guesses per connection",
    "web_exploits": "exploit requests to nginx as scanners send them: Log4Shell, Shellshock, "
    "path traversal, SQL injection, command injection, XSS, secret files, webshells",
    "web_login_bruteforce": "30 POSTs of different passwords to /wp-login.php",
    "ping_sweep": "nmap ICMP echo sweep (-sn -PE) of the town-hall LAN 10.66.2.0/24 "
    "(256 addresses, 3 alive), across the router",
    "syn_burst": "hping3 SYN burst at ~10,000 packets/s on port 80 from one spoofed address",
    "low_rate_flood": "hping3 SYN flood at ~300 packets/s for ~5 s on port 80 from the attacker's "
    "own address (its kernel resets every SYN-ACK: all half-open), a town hall's scale",
    "busy_site": "a crowd behind one address loads the home page ~300 times a second for ~4 s, "
    "one connection each, every handshake completed: busy, not a flood",
    "reputation": "a town-hall machine contacts a listed C2 address and resolves a listed C2 "
    "name; a listed attacker connects to the town-hall site",
    "suspicious_dns": "a town-hall machine queries 40 algorithmically generated .com names "
    "and sends 40 tunnelling-like TXT queries (50-63 character base32 labels)",
    "benign": "ordinary traffic: page loads with a sign-in, one SSH login running a "
    "command, ordinary DNS queries, one outside web visit",
}


def read_facts(path):
    facts = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            key, _, value = line.partition("=")
            scenario, _, name = key.partition(".")
            facts.setdefault(scenario, {})[name] = value
    return facts


def expect(category, source, events, *, rule=None, direction="inbound",
           target_port=None, indicator=None, min_events=None):
    return {
        "category": category,
        "rule": rule,
        "source": source,
        "direction": direction,
        "target_port": target_port,
        "indicator": indicator,
        "min_events": events if min_events is None else min_events,
        "max_events": events,
    }


def tolerate(category, source, max_events, *, rule=None, direction="inbound"):
    return {"category": category, "rule": rule, "source": source,
            "direction": direction, "max_events": max_events}


def as_number(value):
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def num(facts, key):
    try:
        return int(facts[key])
    except (KeyError, ValueError):
        sys.exit(f"truth.py: fact {key!r} missing or not a number in {facts}")


def nmap_syn(f):
    return [expect("scan", ATT, num(f, "ports"), rule="scan.syn")], []


def nmap_version(f):
    # Version detection also runs nmap's version scripts, whose HTTP
    # requests (/nmaplowercheck..., /HNAP1, /evox/about, POST /sdk) carry
    # nmap's User-Agent: a scanner signature must recognise each of them.
    # Its plain probes (GET / without User-Agent) match nothing, and its few
    # SSH connections stay far below the brute-force threshold.
    expected = [expect("scan", ATT, num(f, "ports"), rule="scan.syn")]
    if num(f, "nse_requests") > 0:
        expected.append(expect("web_exploit", ATT, num(f, "nse_requests"), rule="web.scanner",
                               target_port=80))
    return expected, []


def masscan(f):
    return [expect("scan", ATT, num(f, "ports"), rule="scan.syn")], []


def hydra_ssh(f):
    # SSH is encrypted, but each password the server checks costs the client
    # one request and the server one short reply, so attempts can be told
    # from the traffic. The server's log says how many it checked: hydra
    # retries the guess that sshd answers by closing the connection
    # (MaxAuthTries), so that is more than hydra's own count. A connection
    # that only asked which methods are offered is one attempt for an
    # engine that counts connections, none for one that counts passwords.
    checks = num(f, "server_password_checks")
    no_password = num(f, "connections_with_data") - num(f, "connections_with_password")
    return [expect("brute_force", ATT, checks + no_password, min_events=checks,
                   rule="brute_force.ssh", target_port=22)], []


SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def load_signatures(path):
    """Signature id -> (severity rank, position in the file)."""
    with open(path, "rb") as f:
        entries = tomllib.load(f)["signature"]
    return {s["id"]: (SEVERITY_RANK[s["severity"]], i) for i, s in enumerate(entries)}


def filed_under(carried, signatures):
    """A request is one attack: it counts for the most severe signature it
    carries, the first in the file among equals (the engine's rule, see
    crates/vigie-sensor/src/detect/web.rs)."""
    for sig in carried:
        if sig not in signatures:
            sys.exit(f"truth.py: {sig} is not a signature of the signature file")
    return max(carried, key=lambda sig: (signatures[sig][0], -signatures[sig][1]))


def web_exploits(f, signatures):
    filed = {}
    for key, value in sorted(f.items()):
        if key.startswith("request."):
            sig = filed_under(value.split(","), signatures)
            filed[sig] = filed.get(sig, 0) + 1
    expected = [expect("web_exploit", ATT, n, rule=sig, target_port=80)
                for sig, n in sorted(filed.items())]
    return expected, []


def web_login_bruteforce(f):
    return [expect("brute_force", ATT, num(f, "posts"), rule="brute_force.web", target_port=80)], []


def ping_sweep(f):
    return [expect("sweep", ATT, num(f, "hosts"), rule="sweep.icmp")], []


def syn_burst(f):
    return [expect("flood", SPOOF, num(f, "syn_packets"), rule="flood.syn", target_port=80)], []


def low_rate_flood(f):
    return [expect("flood", ATT, num(f, "syn_packets"), rule="flood.syn", target_port=80)], []


def busy_site(_f):
    return [], []


def reputation(f):
    return [
        expect("reputation", KNOWN, num(f, "known_attacker_connections")),
        expect("reputation", C2, num(f, "c2_connections"), direction="outbound"),
        # The resolver is the remote party of the query; an engine may tell
        # it or leave the source empty for a name.
        expect("reputation", [None, RESOLVER], num(f, "c2_queries"), direction="outbound",
               indicator="c2.vigie-lab.test"),
    ], []


def suspicious_dns(f):
    dga = num(f, "dga_queries")
    # The DGA names are uniformly random letters, like real DGAs'; now and
    # then one has no long consonant run and reads like a word, and a
    # per-name heuristic may let it through: at least 90 % must be caught.
    return [
        expect("suspicious_dns", None, dga, rule="dns.dga", direction="outbound",
               min_events=dga * 9 // 10),
        expect("suspicious_dns", None, num(f, "tunnel_queries"), rule="dns.tunnel",
               direction="outbound"),
    ], []


def benign(_f):
    return [], []


SCENARIOS = {
    "nmap_syn": nmap_syn,
    "nmap_version": nmap_version,
    "masscan": masscan,
    "hydra_ssh": hydra_ssh,
    "web_exploits": web_exploits,
    "web_login_bruteforce": web_login_bruteforce,
    "ping_sweep": ping_sweep,
    "syn_burst": syn_burst,
    "low_rate_flood": low_rate_flood,
    "busy_site": busy_site,
    "reputation": reputation,
    "suspicious_dns": suspicious_dns,
    "benign": benign,
}


def privacy_markers(facts, marker):
    """Strings of the traffic that no report may contain: internal
    addresses, payloads, URIs, visited and queried names."""
    markers = [
        "10.66.2.", marker, "vigietest", "/etc/passwd", "wp-login", "/login",
        ".git/config", "wp-config", "c99.php", "jndi", "<script", "UNION",
        "() {", "/bin/bash", "actualites", "style.css", "www.example.org",
        "service-public", "t.vigie-lab.test",
    ]
    dns = facts.get("suspicious_dns", {})
    for key in ("dga_names", "tunnel_labels"):
        markers += [m for m in dns.get(key, "").split("|") if m]
    return markers


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--home-net", required=True)
    parser.add_argument("--marker", required=True)
    parser.add_argument("--signatures", required=True,
                        help="crates/vigie-sensor/data/signatures.toml")
    args = parser.parse_args()
    facts = read_facts(args.facts)
    signatures = load_signatures(args.signatures)
    scenarios = []
    for name, build in SCENARIOS.items():
        f = facts.get(name)
        if f is None:
            continue
        expected, tolerated = build(f, signatures) if name == "web_exploits" else build(f)
        measured = {k: as_number(v) for k, v in f.items() if k not in ("pcap", "command")}
        entry = {
            "name": name,
            "pcap": f["pcap"],
            "description": DESCRIPTIONS[name],
            "exact": all(e["min_events"] == e["max_events"] for e in expected),
            "expected": expected,
            "tolerated": tolerated,
            "measured": measured,
        }
        if "command" in f:
            entry["command"] = f["command"]
        scenarios.append(entry)
    truth = {
        "schema": "vigie.corpus-truth/1",
        "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "home_net": [args.home_net],
        "intel_dir": "intel",
        "tools": facts.get("tools", {}),
        "privacy_markers": privacy_markers(facts, args.marker),
        "scenarios": scenarios,
    }
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(truth, out, indent=2, ensure_ascii=False)
        out.write("\n")


if __name__ == "__main__":
    main()
