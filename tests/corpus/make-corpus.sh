#!/usr/bin/env bash
# make-corpus.sh: builds Vigie's labelled corpus of REAL attacks.
#
# It creates an isolated lab of network namespaces joined by veth pairs
# (10.66.x.x only, never connected to the host's network), runs real attack
# tools and benign traffic through a router, captures each scenario with
# tcpdump on the router's internet-facing interface (what a mirror port
# between the internet box and the town-hall LAN sees), and writes the
# ground truth (truth.json) next to the captures. Everything it started or
# created is removed on exit.
#
# Usage: make-corpus.sh [--install] [--only NAME[,NAME...]] OUTDIR
#   --install  apt-get install the Debian packages of packages.txt if a tool
#              is missing (otherwise a missing tool is an error)
#   --only     run only these scenarios (for development)
#
# See README.md beside this file for the lab and the scenarios.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ALL_SCENARIOS=(nmap_syn nmap_version masscan hydra_ssh web_exploits
    web_login_bruteforce ping_sweep syn_burst low_rate_flood busy_site reputation
    suspicious_dns benign)

# Lab addresses. Only these are ever used as destinations.
ATT_IP=10.66.1.2         # the attacker: every attack tool runs from here
C2_IP=10.66.1.3          # a botnet C2 server (listed in intel/botnet_c2.txt)
KNOWN_IP=10.66.1.4       # a listed attacker (intel/known_attacker.txt)
USER_IP=10.66.1.20       # a benign visitor of the town-hall site
RESOLVER_IP=10.66.1.53   # the internet provider's DNS resolver (dnsmasq)
MIRROR_IP=10.66.1.80     # a benign outside web site (www.example.org)
SPOOF_IP=10.66.1.66      # unassigned: the SYN burst's spoofed source
RTR_OUT_IP=10.66.1.1
RTR_LAN_IP=10.66.2.1
VIC_IP=10.66.2.10        # town-hall server: openssh-server + nginx
H2_IP=10.66.2.11         # another town-hall machine (answers pings only)
HOME_NET=10.66.2.0/24

SSH_USER=vigietest
# Planted privacy marker: it travels in the traffic (password, page body,
# form body) and must never appear in a report.
MARKER=VIGIE-PRIVATE-7f3a
SSH_PASSWORD="$MARKER-ssh"
SYN_BURST_COUNT=10000
LOW_FLOOD_COUNT=1500     # ~300/s for ~5 s: a flood at a town hall's scale
BUSY_VISITS=1200         # the busy day's completed connections (4 s at the same pace)

# Messages go to file descriptor 3, the script's own stderr: the cleanup may
# run inside a function whose stderr is redirected to a tool's log.
exec 3>&2
log() { printf '[make-corpus +%3ds] %s\n' "$SECONDS" "$*" >&3; }
die() { printf '[make-corpus] error: %s\n' "$*" >&3; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

INSTALL=0
ONLY=""
OUTDIR=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --install) INSTALL=1 ;;
        --only) ONLY=${2:?--only needs a list of scenarios}; shift ;;
        -h|--help) usage ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) [[ -z "$OUTDIR" ]] || die "only one OUTDIR"; OUTDIR=$1 ;;
    esac
    shift
done
[[ -n "$OUTDIR" ]] || usage
[[ $EUID -eq 0 ]] || die "must run as root: it creates network namespaces and sends raw packets"

SCENARIOS=("${ALL_SCENARIOS[@]}")
if [[ -n "$ONLY" ]]; then
    IFS=, read -r -a SCENARIOS <<<"$ONLY"
    for s in "${SCENARIOS[@]}"; do
        [[ " ${ALL_SCENARIOS[*]} " == *" $s "* ]] || die "unknown scenario $s (known: ${ALL_SCENARIOS[*]})"
    done
fi

# --- tools -------------------------------------------------------------------

REQUIRED_TOOLS=(ip ping tcpdump tshark nmap masscan hydra hping3 /usr/sbin/sshd ssh
    ssh-keygen sshpass nginx curl dig dnsmasq python3 useradd userdel chpasswd
    timeout ss sysctl)

missing_tools() {
    local t
    for t in "${REQUIRED_TOOLS[@]}"; do
        command -v "$t" >/dev/null 2>&1 || echo "$t"
    done
}

export PATH="$PATH:/usr/sbin:/sbin"
MISSING=$(missing_tools | tr '\n' ' ')
if [[ -n "$MISSING" ]]; then
    if [[ $INSTALL -eq 1 ]]; then
        log "installing Debian packages (missing: $MISSING)"
        mapfile -t PACKAGES < <(grep -v '^#' "$HERE/packages.txt")
        timeout 300 apt-get update -q
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends \
            "${PACKAGES[@]}"
        MISSING=$(missing_tools | tr '\n' ' ')
    fi
    [[ -z "$MISSING" ]] || die "missing tools: $MISSING; install the packages of $HERE/packages.txt (or run with --install)"
fi

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

# --- lab state and cleanup ---------------------------------------------------

P="vigie-c-$$"
NS_ATT="$P-att" NS_RTR="$P-rtr" NS_VIC="$P-vic" NS_H2="$P-h2"
NAMESPACES=("$NS_ATT" "$NS_RTR" "$NS_VIC" "$NS_H2")
WORK=$(mktemp -d /tmp/vigie-corpus.XXXXXX)
chmod 755 "$WORK"   # nginx workers (nobody) read the site from here
# Tools drop files in the current directory (hydra.restore, paused.conf).
cd "$WORK"
DAEMONS=()
CAPTURE_PID=""
CREATED_NS=()
CREATED_USER=0
FACTS="$WORK/facts.txt"
: >"$FACTS"

cleanup() {
    local rc=$? pid ns
    set +e
    if [[ -n "$CAPTURE_PID" ]]; then
        kill -INT "$CAPTURE_PID" 2>/dev/null
        wait "$CAPTURE_PID" 2>/dev/null
    fi
    for pid in "${DAEMONS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${DAEMONS[@]}"; do wait "$pid" 2>/dev/null; done
    for ns in "${CREATED_NS[@]}"; do
        # Whatever still runs in our namespaces was started by this script
        # (a tool's child that outlived its timeout): end it, by its id.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
        rm -rf "/etc/netns/$ns"
    done
    rmdir /etc/netns 2>/dev/null
    if [[ $CREATED_USER -eq 1 ]]; then userdel -r "$SSH_USER" 2>/dev/null; fi
    if [[ -n "${VIGIE_CORPUS_KEEP_WORK:-}" ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    if [[ $rc -ne 0 ]]; then log "failed (exit $rc); lab removed"; else log "lab removed"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs a command in a namespace. In the background and waited for, so that
# a signal to this script runs the cleanup at once rather than after the
# command (bash defers traps until a foreground command ends).
in_ns() {
    local ns=$1; shift
    ip netns exec "$ns" "$@" &
    wait "$!"
}

# Starts a long-running program in a namespace, bounded to 15 minutes even if
# this script is killed with SIGKILL, and remembers it for cleanup.
start_daemon() {
    local ns=$1 logfile=$2; shift 2
    ip netns exec "$ns" timeout 900 "$@" >>"$logfile" 2>&1 3>&- &
    DAEMONS+=("$!")
}

# Waits until a TCP or UDP port listens in a namespace.
wait_listen() {
    local ns=$1 proto=$2 addr=$3 _
    for _ in $(seq 50); do
        if in_ns "$ns" ss -Hln"${proto:0:1}" | awk '{print $4}' | grep -qx "$addr"; then return 0; fi
        sleep 0.1
    done
    die "nothing listens on $proto $addr in $ns"
}

fact() { printf '%s.%s=%s\n' "$1" "$2" "$3" >>"$FACTS"; }

# --- lab ---------------------------------------------------------------------

build_lab() {
    local ns addr port pair _
    log "building the lab: namespaces $P-{att,rtr,vic,h2}"
    for ns in "${NAMESPACES[@]}"; do
        ip netns add "$ns"
        CREATED_NS+=("$ns")
        # `ip netns exec` mounts /etc/netns/NS/resolv.conf over
        # /etc/resolv.conf: a stray name lookup by a tool goes to the lab's
        # resolver, never to the host's.
        mkdir -p "/etc/netns/$ns"
        echo "nameserver $RESOLVER_IP" >"/etc/netns/$ns/resolv.conf"
        in_ns "$ns" ip link set lo up
        # No IPv6: its autoconfiguration chatter would pollute the captures.
        in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    done

    # Internet side: the attacker's namespace holds every outside address.
    ip -n "$NS_ATT" link add eth0 type veth peer name to-att netns "$NS_RTR"
    ip -n "$NS_ATT" addr add "$ATT_IP/24" dev eth0
    for addr in "$C2_IP" "$KNOWN_IP" "$USER_IP" "$RESOLVER_IP" "$MIRROR_IP"; do
        ip -n "$NS_ATT" addr add "$addr/24" dev eth0
    done
    ip -n "$NS_ATT" link set eth0 up
    ip -n "$NS_ATT" route add default via "$RTR_OUT_IP"

    # The router: no default route, so nothing can leave the lab.
    ip -n "$NS_RTR" addr add "$RTR_OUT_IP/24" dev to-att
    ip -n "$NS_RTR" link set to-att up
    ip -n "$NS_RTR" link add br-lan type bridge
    ip -n "$NS_RTR" addr add "$RTR_LAN_IP/24" dev br-lan
    ip -n "$NS_RTR" link set br-lan up
    in_ns "$NS_RTR" sysctl -qw net.ipv4.ip_forward=1

    # Town-hall LAN: the victim server and a second machine on the bridge.
    for pair in "$NS_VIC:to-vic:$VIC_IP" "$NS_H2:to-h2:$H2_IP"; do
        IFS=: read -r ns port addr <<<"$pair"
        ip -n "$ns" link add eth0 type veth peer name "$port" netns "$NS_RTR"
        ip -n "$NS_RTR" link set "$port" master br-lan
        ip -n "$NS_RTR" link set "$port" up
        ip -n "$ns" addr add "$addr/24" dev eth0
        ip -n "$ns" link set eth0 up
        ip -n "$ns" route add default via "$RTR_LAN_IP"
    done

    # The bridge needs a moment to forward; prove both paths work.
    for _ in $(seq 30); do
        if in_ns "$NS_ATT" ping -c1 -W1 "$VIC_IP" >/dev/null 2>&1 &&
            in_ns "$NS_ATT" ping -c1 -W1 "$H2_IP" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    die "the lab does not route from $ATT_IP to $VIC_IP"
}

setup_victim() {
    log "victim $VIC_IP: account $SSH_USER, openssh-server, nginx"
    if id "$SSH_USER" >/dev/null 2>&1; then
        log "account $SSH_USER already exists: reusing it, not deleting it"
    else
        useradd -m -s /bin/sh -c "Vigie corpus test account" "$SSH_USER"
        CREATED_USER=1
    fi
    printf '%s:%s\n' "$SSH_USER" "$SSH_PASSWORD" | chpasswd

    # sshd: own config and host key; no PAM (its failure delay would slow
    # hydra down for nothing), passwords allowed, MaxAuthTries left at its
    # default like a real server's.
    mkdir -p /run/sshd
    ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh_host_ed25519_key"
    cat >"$WORK/sshd_config" <<EOF
ListenAddress $VIC_IP:22
HostKey $WORK/ssh_host_ed25519_key
PidFile $WORK/sshd.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication no
PermitRootLogin no
AllowUsers $SSH_USER
MaxStartups 100:30:200
LoginGraceTime 30
UseDNS no
PrintMotd no
EOF
    start_daemon "$NS_VIC" "$WORK/sshd.log" /usr/sbin/sshd -D -e -f "$WORK/sshd_config"

    # nginx: a small town-hall site with a login page.
    mkdir -p "$WORK/www" "$WORK/nginx-tmp"
    cat >"$WORK/www/index.html" <<EOF
<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Mairie de Vigie-Lab</title>
<link rel="stylesheet" href="/style.css"></head>
<body><img src="/logo.png" alt="Blason"><h1>Mairie de Vigie-Lab</h1>
<p>Horaires d'ouverture : du lundi au vendredi.</p>
<!-- $MARKER: must never reach a report -->
<p><a href="/actualites.html">Actualités</a> · <a href="/login">Espace agents</a></p></body></html>
EOF
    cat >"$WORK/www/actualites.html" <<'EOF'
<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Actualités</title>
<link rel="stylesheet" href="/style.css"></head><body><h1>Actualités</h1>
<p>Conseil municipal jeudi à 20 h.</p></body></html>
EOF
    printf 'body { font-family: sans-serif; margin: 2em; }\nh1 { color: #1d3557; }\n' >"$WORK/www/style.css"
    # A 1x1 PNG.
    printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82' >"$WORK/www/logo.png"
    chmod -R a+rX "$WORK/www"
    cat >"$WORK/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 256; }
http {
    access_log $WORK/nginx-access.log;
    client_body_temp_path $WORK/nginx-tmp/body;
    proxy_temp_path $WORK/nginx-tmp/proxy;
    fastcgi_temp_path $WORK/nginx-tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx-tmp/uwsgi;
    scgi_temp_path $WORK/nginx-tmp/scgi;
    types { text/html html; text/css css; image/png png; }
    default_type application/octet-stream;
    server {
        listen $VIC_IP:80;
        server_name mairie.vigie-lab.test;
        root $WORK/www;
        location = /login {
            default_type text/html;
            return 200 '<form method="post"><input name="user"><input name="password" type="password"></form>\n';
        }
        location = /wp-login.php {
            default_type text/html;
            return 200 '<p>Erreur : mot de passe incorrect.</p>\n';
        }
    }
}
EOF
    start_daemon "$NS_VIC" "$WORK/nginx.log" nginx -c "$WORK/nginx.conf" -g 'daemon off;'
    wait_listen "$NS_VIC" tcp "$VIC_IP:22"
    wait_listen "$NS_VIC" tcp "$VIC_IP:80"
}

setup_outside() {
    log "outside: resolver $RESOLVER_IP (dnsmasq), web sites $C2_IP and $MIRROR_IP"
    # The provider's resolver: answers the lab's names, NXDOMAIN for the rest.
    start_daemon "$NS_ATT" "$WORK/dnsmasq.log" dnsmasq -k --conf-file=/dev/null \
        --no-resolv --no-hosts --no-poll --bind-interfaces \
        --listen-address="$RESOLVER_IP" --pid-file="$WORK/dnsmasq.pid" \
        --local=/com/ --local=/org/ --local=/test/ --local=/fr/ \
        --address=/c2.vigie-lab.test/"$C2_IP" \
        --host-record=www.example.org,"$MIRROR_IP" \
        --host-record=www.service-public.fr,"$MIRROR_IP"
    mkdir -p "$WORK/c2www" "$WORK/mirror"
    echo "ok" >"$WORK/c2www/index.html"
    echo "<html><body>Example Domain</body></html>" >"$WORK/mirror/index.html"
    # A static web server; not `python3 -m http.server`, whose start looks
    # up its own address in the DNS.
    cat >"$WORK/serve.py" <<'EOF'
import functools, http.server, socketserver, sys

class Server(http.server.HTTPServer):
    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[2])
Server((sys.argv[1], 80), handler).serve_forever()
EOF
    start_daemon "$NS_ATT" "$WORK/c2.log" python3 "$WORK/serve.py" "$C2_IP" "$WORK/c2www"
    start_daemon "$NS_ATT" "$WORK/mirror.log" python3 "$WORK/serve.py" "$MIRROR_IP" "$WORK/mirror"
    wait_listen "$NS_ATT" udp "$RESOLVER_IP:53"
    wait_listen "$NS_ATT" tcp "$C2_IP:80"
    wait_listen "$NS_ATT" tcp "$MIRROR_IP:80"
}

# --- capture -----------------------------------------------------------------

CAPTURE_FILE=""

capture_start() {
    CAPTURE_FILE="$OUTDIR/$1.pcap"
    rm -f "$CAPTURE_FILE"
    : >"$WORK/tcpdump.err"
    ip netns exec "$NS_RTR" timeout 300 tcpdump -i to-att -s 0 -U -n -B 8192 -Z root \
        -w "$CAPTURE_FILE" 2>"$WORK/tcpdump.err" 3>&- &
    CAPTURE_PID=$!
    local _
    for _ in $(seq 100); do
        grep -q 'listening on' "$WORK/tcpdump.err" && return 0
        sleep 0.05
    done
    die "tcpdump did not start: $(cat "$WORK/tcpdump.err")"
}

capture_stop() {
    sleep 1
    kill -INT "$CAPTURE_PID"
    wait "$CAPTURE_PID" || true
    CAPTURE_PID=""
    local dropped
    dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$WORK/tcpdump.err")
    [[ "${dropped:-0}" == 0 ]] || die "tcpdump dropped $dropped packets in $CAPTURE_FILE"
    local captured
    captured=$(sed -n 's/ packets captured//p' "$WORK/tcpdump.err")
    fact "$(basename "$CAPTURE_FILE" .pcap)" packets "$captured"
    log "  captured $captured packets -> $(basename "$CAPTURE_FILE")"
}

# Counts the distinct values of FIELD over the packets matching FILTER.
count_distinct() {
    tshark -r "$CAPTURE_FILE" -Y "$1" -T fields -e "$2" 2>>"$WORK/tshark.err" | sort -u | grep -c . || true
}
count_packets() {
    tshark -r "$CAPTURE_FILE" -Y "$1" -T fields -e frame.number 2>>"$WORK/tshark.err" | grep -c . || true
}

# Fails the run when the capture does not show what the tool was asked to do:
# the truth must describe the capture, not the intention.
expect_equal() {
    [[ "$2" == "$3" ]] || die "$1: expected $3, the capture shows $2 $(tail -3 "$WORK/tshark.err" 2>/dev/null)"
}

SYN_FROM_ATT="ip.src==$ATT_IP && ip.dst==$VIC_IP && tcp.flags.syn==1 && tcp.flags.ack==0"

source "$HERE/scenarios.sh"

# --- main --------------------------------------------------------------------

START=$SECONDS
build_lab
setup_victim
setup_outside
for s in "${SCENARIOS[@]}"; do
    log "scenario $s"
    fact "$s" pcap "$s.pcap"
    capture_start "$s"
    "scenario_$s"
    capture_stop
    "measure_$s"
done
fact tools nmap "$(nmap --version | sed -n 's/^Nmap version \([^ ]*\).*/\1/p')"
fact tools masscan "$(masscan --version 2>/dev/null | sed -n 's/^Masscan version \([^ ]*\).*/\1/p')"
fact tools hydra "$(hydra -h 2>&1 | sed -n '1s/^Hydra v\([^ ]*\).*/\1/p')"
fact tools hping3 "$(hping3 -v 2>&1 | sed -n 's/^hping3 version \([^ ]*\).*/\1/p')"
fact tools openssh "$(/usr/sbin/sshd -V 2>&1 | sed -n '1s/^\(OpenSSH_[^ ,]*\).*/\1/p')"
fact tools nginx "$(nginx -v 2>&1 | sed -n 's/^nginx version: //p')"
python3 "$HERE/truth.py" --facts "$FACTS" --out "$OUTDIR/truth.json" --home-net "$HOME_NET" \
    --marker "$MARKER" --signatures "$HERE/../../crates/vigie-sensor/data/signatures.toml"
log "wrote $OUTDIR/truth.json ($(( SECONDS - START )) s)"
