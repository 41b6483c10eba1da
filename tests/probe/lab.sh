#!/usr/bin/env bash
# lab.sh: the network probe's lab of real Debian services, each weakness
# planted on its own host.
#
# It builds network namespaces joined by veth pairs to a bridge in a
# "switch" namespace (10.66.80.0/24, no route anywhere else: nothing can
# leave the lab), starts real services in them and leaves them running;
# `down` stops everything it started and removes the namespaces, the
# throwaway account and the state directory. Each daemon is also bounded in
# time (VIGIE_LAB_LIFETIME seconds, 1800 by default) in case `down` is
# never called.
#
# Usage: lab.sh up PREFIX [--bench N] [--install]
#        lab.sh down PREFIX
#   PREFIX     a short unique name for this lab ([a-z0-9]{1,12}); its
#              namespaces are PREFIX-*, its state /tmp/vigie-probe-lab-PREFIX/
#   --bench N  instead of the planted hosts, N (1..80) ordinary hosts with a
#              few services each (ssh and a web site, plus one of https,
#              anonymous FTP, Redis, SMB, telnet, SNMP), for `vigie bench probe`
#   --install  apt-get install the Debian packages of packages.txt if a tool
#              is missing (otherwise a missing tool is an error)
#
# What `up` writes in the state directory: hosts.tsv (role, address, open
# TCP ports, open UDP ports, one host a line), out.pcap (everything the
# out-of-scope host receives, captured from the start) and the services'
# logs. See README.md beside this file for the hosts and their weaknesses.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PATH="$PATH:/usr/sbin:/sbin"

NET=10.66.80
PROBE_IP=$NET.2
# The weak account of the SSH host (issue 16): an account a town hall
# usually has (crates/vigie-probe/data/accounts.txt) with one of the most
# common French passwords (data/likely-passwords.txt), a pair that the
# dictionary (data/passwords.txt) does not hold.
WEAK_USER=${VIGIE_LAB_USER:-secretariat}
WEAK_PASSWORD=${VIGIE_LAB_PASSWORD:-azerty}
# The revealed account of the SNMP host (issue 16): a name neither
# accounts.txt nor the commune's or agents' names give, listed only by the
# host's Windows user table over SNMP, with a common French password of
# likely-passwords.txt (the fifth tried: etatcivil, 123456, azerty,
# vigielab<year>, motdepasse); its SSH accepts only this account.
REVEALED_USER=${VIGIE_LAB_REVEALED_USER:-etatcivil}
REVEALED_PASSWORD=${VIGIE_LAB_REVEALED_PASSWORD:-motdepasse}
LIFETIME=${VIGIE_LAB_LIFETIME:-1800}

log() { printf '[probe-lab +%3ds] %s\n' "$SECONDS" "$*" >&2; }
die() { printf '[probe-lab] error: %s\n' "$*" >&2; exit 1; }
usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

[[ $# -ge 2 ]] || usage
ACTION=$1 P=$2
shift 2
[[ "$P" =~ ^[a-z0-9]{1,12}$ ]] || die "PREFIX must be 1 to 12 lowercase letters or digits"
STATE=/tmp/vigie-probe-lab-$P
BENCH=0
INSTALL=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --bench) BENCH=${2:?--bench needs a number of hosts}; shift ;;
        --install) INSTALL=1 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
[[ "$BENCH" =~ ^[0-9]+$ && $BENCH -le 80 ]] || die "--bench takes 1 to 80 hosts"
[[ $EUID -eq 0 ]] || die "must run as root: it creates network namespaces and a throwaway account"

# --- down --------------------------------------------------------------------

down() {
    local ns pid _
    set +e
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$P-"); do
        # Whatever runs in our namespaces was started by this script.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
    done
    for _ in $(seq 20); do
        [[ -z "$(for ns in $(ip netns list | awk '{print $1}' | grep "^$P-"); do ip netns pids "$ns"; done)" ]] && break
        sleep 0.1
    done
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$P-"); do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns del "$ns"
        rm -rf "/etc/netns/$ns"
    done
    rmdir /etc/netns 2>/dev/null
    for user in "$WEAK_USER" "$REVEALED_USER"; do
        if [[ -f "$STATE/created-user-$user" ]]; then userdel -r "$user" 2>/dev/null; fi
    done
    rm -rf "$STATE"
    return 0
}

if [[ "$ACTION" == down ]]; then
    down
    log "lab $P removed"
    exit 0
fi
[[ "$ACTION" == up ]] || usage

# --- tools -------------------------------------------------------------------

REQUIRED_TOOLS=(ip ss tcpdump nmap openssl /usr/sbin/sshd ssh-keygen nginx vsftpd
    /usr/sbin/inetd /usr/sbin/telnetd smbd redis-server snmpd /usr/bin/python3
    useradd userdel chpasswd timeout setsid)

missing_tools() {
    local t
    for t in "${REQUIRED_TOOLS[@]}"; do command -v "$t" >/dev/null 2>&1 || echo "$t"; done
}

MISSING=$(missing_tools | tr '\n' ' ')
if [[ -n "$MISSING" && $INSTALL -eq 1 ]]; then
    log "installing Debian packages (missing: $MISSING)"
    mapfile -t PACKAGES < <(grep -v '^#' "$HERE/packages.txt" | grep .)
    timeout 300 apt-get update -q
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends \
        "${PACKAGES[@]}"
    MISSING=$(missing_tools | tr '\n' ' ')
fi
[[ -z "$MISSING" ]] || die "missing tools: $MISSING; install the packages of $HERE/packages.txt (or run with --install)"

[[ ! -e "$STATE" ]] || die "$STATE exists: lab $P is up already (lab.sh down $P first)"
trap 'rc=$?; if [[ $rc -ne 0 ]]; then log "failed (exit $rc): removing the lab"; down; fi' EXIT
trap 'exit 130' INT TERM
mkdir -p "$STATE"
# Daemons that drop privileges (nginx workers, vsftpd, sshd's privsep
# child) read their files here.
chmod 755 "$STATE"
: >"$STATE/hosts.tsv"

# --- namespaces ----------------------------------------------------------------

SW="$P-sw"
PORTS=0

# Creates a namespace with lo up and no IPv6 (its autoconfiguration chatter
# would pollute the capture). Its resolver is RESOLVER (a lookup by a
# program there goes to that address, inside the lab, or fails).
make_ns() {
    local ns=$1 resolver=$2
    ip netns add "$ns"
    mkdir -p "/etc/netns/$ns"
    echo "nameserver $resolver" >"/etc/netns/$ns/resolv.conf"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# Adds a host namespace on the switch with the given addresses (/24, no
# default route).
add_host() {
    local ns=$1 resolver=$2 addr
    shift 2
    make_ns "$ns" "$resolver"
    PORTS=$((PORTS + 1))
    ip -n "$ns" link add eth0 type veth peer name "p$PORTS" netns "$SW"
    ip -n "$SW" link set "p$PORTS" master br0
    ip -n "$SW" link set "p$PORTS" up
    for addr in "$@"; do ip -n "$ns" addr add "$addr/24" dev eth0; done
    ip -n "$ns" link set eth0 up
}

# Starts a long-running program in a namespace, detached from this script
# (it outlives `up`) and bounded in time.
start_daemon() {
    local ns=$1 name=$2
    shift 2
    setsid ip netns exec "$ns" timeout "$LIFETIME" "$@" >>"$STATE/$name.log" 2>&1 </dev/null &
}

# Waits until a TCP or UDP port listens in a namespace.
wait_listen() {
    local ns=$1 proto=$2 addr=$3 _
    for _ in $(seq 100); do
        if ip netns exec "$ns" ss -Hln"${proto:0:1}" | awk '{print $4}' | grep -qx "$addr"; then
            return 0
        fi
        sleep 0.1
    done
    die "nothing listens on $proto $addr in $ns (see $STATE/*.log)"
}

record_host() { printf '%s\t%s\t%s\t%s\n' "$@" >>"$STATE/hosts.tsv"; }

# --- keys and certificates -----------------------------------------------------

make_keys() {
    local ca=$STATE/ca
    mkdir -p "$ca/new"
    ssh-keygen -q -t ed25519 -N '' -f "$STATE/ssh_host_ed25519_key"
    # The lab's CA, and a certificate it signs for the well-kept hosts.
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Autorite du labo Vigie" \
        -keyout "$ca/ca.key" -out "$ca/ca.crt" 2>/dev/null
    openssl req -new -newkey rsa:2048 -nodes -subj "/CN=portail.mairie.test" \
        -keyout "$STATE/valid.key" -out "$ca/valid.csr" 2>/dev/null
    printf 'subjectAltName=DNS:portail.mairie.test,DNS:serveur.mairie.test\n' >"$ca/valid.ext"
    openssl x509 -req -in "$ca/valid.csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" -CAcreateserial \
        -days 365 -sha256 -extfile "$ca/valid.ext" -out "$STATE/valid.crt" 2>/dev/null
    # An expired self-signed certificate: OpenSSL 3.0's `x509` cannot set
    # dates in the past, `ca -selfsign -startdate/-enddate` can.
    openssl req -new -newkey rsa:2048 -nodes -subj "/CN=intranet.mairie.test" \
        -keyout "$STATE/expired.key" -out "$ca/expired.csr" 2>/dev/null
    : >"$ca/index.txt"
    echo 01 >"$ca/serial"
    cat >"$ca/ca.cnf" <<EOF
[ca]
default_ca = lab
[lab]
database = $ca/index.txt
new_certs_dir = $ca/new
serial = $ca/serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
EOF
    openssl ca -batch -selfsign -config "$ca/ca.cnf" -keyfile "$STATE/expired.key" \
        -in "$ca/expired.csr" -startdate 20230101000000Z -enddate 20240101000000Z \
        -notext -out "$STATE/expired.crt" 2>/dev/null
}

# --- services ------------------------------------------------------------------

# sshd MODE: `weak` (passwords accepted, the weak account allowed),
# `revealed` (passwords accepted, only the revealed account allowed),
# `ordinary` (passwords accepted, no account the dictionary knows allowed),
# `hardened` (keys only).
svc_sshd() {
    local ns=$1 addr=$2 mode=$3 conf=$STATE/sshd-$1.conf
    mkdir -p /run/sshd
    {
        echo "ListenAddress $addr:22"
        echo "HostKey $STATE/ssh_host_ed25519_key"
        echo "PidFile $STATE/sshd-$ns.pid"
        # No PAM: the password is checked against the shadow file, and
        # nothing of the host's PAM setup is involved.
        echo "UsePAM no"
        echo "PermitRootLogin no"
        echo "UseDNS no"
        echo "PrintMotd no"
        echo "MaxStartups 100:30:200"
        case $mode in
            weak) echo "PasswordAuthentication yes"; echo "AllowUsers $WEAK_USER" ;;
            revealed) echo "PasswordAuthentication yes"; echo "AllowUsers $REVEALED_USER" ;;
            ordinary) echo "PasswordAuthentication yes"; echo "AllowUsers vigie-lab-nobody" ;;
            hardened)
                echo "PasswordAuthentication no"
                echo "KbdInteractiveAuthentication no"
                echo "AuthenticationMethods publickey" ;;
        esac
    } >"$conf"
    start_daemon "$ns" "sshd-$ns" /usr/sbin/sshd -D -e -f "$conf"
    wait_listen "$ns" tcp "$addr:22"
}

# nginx MODE: `expired` (443 with the expired self-signed certificate),
# `hardened` (443 only, TLS 1.2+, the CA-signed certificate, no version),
# `site` (80, plus 443 with the CA-signed certificate if WITH_TLS=1).
svc_nginx() {
    local ns=$1 addr=$2 mode=$3 d=$STATE/nginx-$1 servers
    mkdir -p "$d/www"
    printf '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Mairie de Vigie-Lab</title></head><body><h1>Mairie</h1></body></html>\n' >"$d/www/index.html"
    chmod -R a+rX "$d"
    local tls_site="listen $addr:443 ssl; ssl_certificate $STATE/valid.crt; ssl_certificate_key $STATE/valid.key; root $d/www;"
    case $mode in
        expired) servers="server { listen $addr:443 ssl; ssl_certificate $STATE/expired.crt; ssl_certificate_key $STATE/expired.key; root $d/www; }" ;;
        hardened) servers="server_tokens off; ssl_protocols TLSv1.2 TLSv1.3; server { $tls_site add_header Strict-Transport-Security max-age=31536000; }" ;;
        site) servers="server { listen $addr:80; root $d/www; }"
            if [[ "${WITH_TLS:-0}" == 1 ]]; then servers="$servers server { $tls_site }"; fi ;;
    esac
    cat >"$d/nginx.conf" <<EOF
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 256; }
http {
    access_log $d/access.log;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    types { text/html html; }
    $servers
}
EOF
    start_daemon "$ns" "nginx-$ns" nginx -c "$d/nginx.conf" -g 'daemon off;'
    case $mode in
        site) wait_listen "$ns" tcp "$addr:80"
            if [[ "${WITH_TLS:-0}" == 1 ]]; then wait_listen "$ns" tcp "$addr:443"; fi ;;
        *) wait_listen "$ns" tcp "$addr:443" ;;
    esac
}

# vsftpd with anonymous login (read-only), no local accounts; HOME...
# are folders of a `home` folder in its root (home directories it lists).
svc_vsftpd() {
    local ns=$1 addr=$2 d=$STATE/ftp-$1 home
    shift 2
    mkdir -p "$d/root/pub" "$d/empty"
    for home in "$@"; do mkdir -p "$d/root/home/$home"; done
    echo "Comptes rendus du conseil municipal" >"$d/root/pub/LISEZMOI.txt"
    chmod -R a+rX,go-w "$d"
    cat >"$d/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=$addr
background=NO
anonymous_enable=YES
local_enable=NO
write_enable=NO
anon_root=$d/root
secure_chroot_dir=$d/empty
ftp_username=ftp
xferlog_enable=NO
# Its sandboxes (seccomp, new namespaces) fail in containers.
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
EOF
    start_daemon "$ns" "vsftpd-$ns" vsftpd "$d/vsftpd.conf"
    wait_listen "$ns" tcp "$addr:21"
}

# inetutils telnetd under openbsd-inetd (in the foreground with -d).
svc_telnet() {
    local ns=$1 addr=$2
    echo "$addr:telnet stream tcp nowait root /usr/sbin/telnetd telnetd" >"$STATE/inetd-$ns.conf"
    start_daemon "$ns" "inetd-$ns" /usr/sbin/inetd -d "$STATE/inetd-$ns.conf"
    wait_listen "$ns" tcp "$addr:23"
}

# Samba, standalone, SMB1 (NT1) still accepted, on 445 only.
svc_samba() {
    local ns=$1 addr=$2 d=$STATE/samba-$1 sub
    for sub in lock state cache private pid ncalrpc share; do mkdir -p "$d/$sub"; done
    cat >"$d/smb.conf" <<EOF
[global]
    workgroup = MAIRIE
    netbios name = NAS-MAIRIE
    server string = NAS de la mairie
    server role = standalone server
    server min protocol = NT1
    interfaces = $addr/24
    bind interfaces only = yes
    smb ports = 445
    disable netbios = yes
    lock directory = $d/lock
    state directory = $d/state
    cache directory = $d/cache
    private dir = $d/private
    pid directory = $d/pid
    ncalrpc dir = $d/ncalrpc
    passdb backend = tdbsam:$d/private/passdb.tdb
    log file = $d/log.%m
    load printers = no
    printcap name = /dev/null
    disable spoolss = yes
[partage]
    path = $d/share
    read only = yes
EOF
    start_daemon "$ns" "smbd-$ns" smbd --foreground --no-process-group --debug-stdout -s "$d/smb.conf"
    wait_listen "$ns" tcp "$addr:445"
}

# Redis without a password, protected mode off.
svc_redis() {
    local ns=$1 addr=$2 d=$STATE/redis-$1
    mkdir -p "$d"
    start_daemon "$ns" "redis-$ns" redis-server --bind "$addr" --port 6379 --protected-mode no \
        --save '' --appendonly no --dir "$d" --daemonize no
    wait_listen "$ns" tcp "$addr:6379"
}

# snmpd answering the community `public`; with USER... it also serves a
# Windows server's user table (LAN Manager MIB, svUserName
# 1.3.6.1.4.1.77.1.2.25.1.1, each row indexed by the name's length and
# bytes), as the SNMP service of Windows does.
svc_snmpd() {
    local ns=$1 addr=$2 d=$STATE/snmp-$1 user name=imprimante-accueil index
    shift 2
    [[ $# -eq 0 ]] || name=serveur-mairie
    mkdir -p "$d"
    cat >"$d/snmpd.conf" <<EOF
rocommunity public default
sysLocation Mairie, local technique
sysContact secretariat@mairie.test
sysName $name
EOF
    for user in "$@"; do
        index=$(printf '%s' "$user" | od -An -tu1 | tr -s ' \n' '..' | sed 's/^\.//; s/\.$//')
        printf 'override .1.3.6.1.4.1.77.1.2.25.1.1.%s.%s octet_str "%s"\n' \
            "${#user}" "$index" "$user" >>"$d/snmpd.conf"
    done
    start_daemon "$ns" "snmpd-$ns" env SNMP_PERSISTENT_DIR="$d" snmpd -f -C -c "$d/snmpd.conf" \
        -Lf "$d/snmpd.log" -p "$d/snmpd.pid" "udp:$addr:161"
    wait_listen "$ns" udp "$addr:161"
}

# The badly behaved services of odd-service.py (MODE:PORT...).
svc_odd() {
    local ns=$1 addr=$2 spec
    shift 2
    start_daemon "$ns" "odd-$ns" /usr/bin/python3 "$HERE/odd-service.py" "$addr" "$@"
    for spec in "$@"; do wait_listen "$ns" tcp "$addr:${spec#*:}"; done
}

# --- the planted hosts -----------------------------------------------------------

planted_hosts() {
    local t=127.0.0.1
    add_host "$P-ssh" $t $NET.10; svc_sshd "$P-ssh" $NET.10 weak
    record_host ssh $NET.10 22 ""
    add_host "$P-ftp" $t $NET.11; svc_vsftpd "$P-ftp" $NET.11 urbanisme Public
    record_host ftp $NET.11 21 ""
    add_host "$P-telnet" $t $NET.12; svc_telnet "$P-telnet" $NET.12
    record_host telnet $NET.12 23 ""
    add_host "$P-smb" $t $NET.13; svc_samba "$P-smb" $NET.13
    record_host smb $NET.13 445 ""
    add_host "$P-redis" $t $NET.14; svc_redis "$P-redis" $NET.14
    record_host redis $NET.14 6379 ""
    add_host "$P-tls" $t $NET.15; svc_nginx "$P-tls" $NET.15 expired
    record_host tls $NET.15 443 ""
    add_host "$P-snmp" $t $NET.16
    svc_snmpd "$P-snmp" $NET.16 Administrateur Guest "$REVEALED_USER"
    svc_sshd "$P-snmp" $NET.16 revealed
    record_host snmp $NET.16 22 161
    add_host "$P-hard" $t $NET.17
    svc_sshd "$P-hard" $NET.17 hardened
    svc_nginx "$P-hard" $NET.17 hardened
    record_host hardened $NET.17 22,443 ""
    add_host "$P-odd" $t $NET.18; svc_odd "$P-odd" $NET.18 garbage:22 hang:443 garbage:6379
    record_host odd $NET.18 22,443,6379 ""
    # Out of scope: .99 is excluded by the scope, .200 is outside its
    # network; both listen on common ports, and everything that reaches
    # them is captured.
    add_host "$P-out" $t $NET.99 $NET.200
    svc_odd "$P-out" $NET.99 silent:22 silent:80 silent:443 silent:445
    svc_odd "$P-out" $NET.200 silent:22 silent:80 silent:443 silent:445
    record_host excluded $NET.99 22,80,443,445 ""
    record_host outside $NET.200 22,80,443,445 ""
    : >"$STATE/out.err"
    setsid ip netns exec "$P-out" timeout "$LIFETIME" tcpdump -i eth0 -n -U -s 256 -Z root \
        -w "$STATE/out.pcap" >/dev/null 2>"$STATE/out.err" </dev/null &
    local _
    for _ in $(seq 100); do
        grep -q 'listening on' "$STATE/out.err" && return 0
        sleep 0.05
    done
    die "tcpdump did not start: $(cat "$STATE/out.err")"
}

# Ordinary hosts for the benchmark: ssh and a web site each, and one more
# service in turn.
bench_hosts() {
    local i addr ns extra tcp udp
    for i in $(seq 0 $((BENCH - 1))); do
        addr=$NET.$((20 + i)) ns="$P-b$i" tcp="22,80" udp=""
        add_host "$ns" 127.0.0.1 "$addr"
        svc_sshd "$ns" "$addr" ordinary
        extra=$((i % 6))
        WITH_TLS=$([[ $extra == 0 ]] && echo 1 || echo 0) svc_nginx "$ns" "$addr" site
        case $extra in
            0) tcp="$tcp,443" ;;
            1) svc_vsftpd "$ns" "$addr"; tcp="21,$tcp" ;;
            2) svc_redis "$ns" "$addr"; tcp="$tcp,6379" ;;
            3) svc_samba "$ns" "$addr"; tcp="$tcp,445" ;;
            4) svc_telnet "$ns" "$addr"; tcp="22,23,80" ;;
            5) svc_snmpd "$ns" "$addr"; udp=161 ;;
        esac
        record_host "bench$i" "$addr" "$tcp" "$udp"
    done
}

# --- main ------------------------------------------------------------------------

log "building lab $P in $STATE"
make_ns "$SW" 127.0.0.1
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set br0 up
# The probe's resolver is the out-of-scope host: a name lookup the probe
# makes through the system's resolver shows in the capture.
add_host "$P-probe" $NET.200 $PROBE_IP
record_host probe $PROBE_IP "" ""
make_keys
lab_account() {
    local user=$1 password=$2
    if id "$user" >/dev/null 2>&1; then
        log "account $user already exists: reusing it, not deleting it"
    else
        useradd -M -d /nonexistent -s /bin/sh -c "Vigie probe lab account" "$user"
        touch "$STATE/created-user-$user"
    fi
    printf '%s:%s\n' "$user" "$password" | chpasswd
}
lab_account "$WEAK_USER" "$WEAK_PASSWORD"
if [[ $BENCH -eq 0 ]]; then lab_account "$REVEALED_USER" "$REVEALED_PASSWORD"; fi

if [[ $BENCH -gt 0 ]]; then bench_hosts; else planted_hosts; fi

# Every host answers the probe's namespace before the lab is declared up;
# not the out-of-scope ones: nothing from the probe's address may reach
# them, the capture must stay empty of it (their listeners are up).
while IFS=$'\t' read -r role addr _ _; do
    [[ $role == probe || $role == excluded || $role == outside ]] && continue
    ok=0
    for _ in $(seq 50); do
        if ip netns exec "$P-probe" ping -c1 -W1 "$addr" >/dev/null 2>&1; then ok=1; break; fi
        sleep 0.1
    done
    [[ $ok == 1 ]] || die "$addr ($role) does not answer from the probe's namespace"
done <"$STATE/hosts.tsv"
log "lab $P up: $(wc -l <"$STATE/hosts.tsv") hosts; run tools with: ip netns exec $P-probe ..."
