#!/usr/bin/env bash
# lab.sh: the network lab of the live box's end-to-end test
# (crates/vigie/tests/live.rs).
#
# It builds network namespaces joined by veth pairs (10.66.60-62.x only,
# never connected to the host's network): an attacker on the internet side,
# the commune's router, where the box captures on the internet-facing
# interface as on a mirror port, the town-hall server (openssh-server with
# a test account, nginx), and the observatory, reachable from the router's
# namespace only. The test starts the observatory, the box and the tools
# itself; `down` ends whatever still runs in the lab's namespaces.
#
# Usage: lab.sh up PREFIX     builds the lab, prints its facts as KEY=VALUE
#        lab.sh down PREFIX   removes it (safe to run any number of times,
#                             and after a failed or interrupted `up`)
#
# PREFIX names the run (lowercase letters, digits, dashes; 12 characters at
# most): namespaces PREFIX-{att,rtr,vic,obs}, work directory
# /tmp/vigie-live-lab.PREFIX. See README.md beside this file.
set -euo pipefail

# Lab addresses. Only these are ever used as destinations.
RTR_OUT_IP=10.66.60.1
ATT_IP=10.66.60.2
# More attacker addresses, for attacks from many sources.
EXTRA_FIRST=100
EXTRA_COUNT=50
LAN_NET=10.66.61.0/24
RTR_LAN_IP=10.66.61.1
VIC_IP=10.66.61.10
OBS_NET=10.66.62.0/24
RTR_OBS_IP=10.66.62.1
OBS_IP=10.66.62.2
# Unassigned: every namespace's resolv.conf points here, so a stray name
# lookup goes nowhere instead of to the host's resolver.
NO_RESOLVER_IP=10.66.60.53

SSH_USER=vigielive
SSH_PASSWORD=VIGIE-PRIVATE-live-ssh
# Daemons end by themselves after this long even if `down` never runs.
DAEMON_LIFETIME=3600

export PATH="$PATH:/usr/sbin:/sbin"
exec 3>&2
log() { printf '[lab %s] %s\n' "$PREFIX" "$*" >&3; }
die() { printf '[lab %s] error: %s\n' "$PREFIX" "$*" >&3; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

[[ $# -eq 2 ]] || usage
ACTION=$1
PREFIX=$2
[[ "$PREFIX" =~ ^[a-z0-9][a-z0-9-]{0,11}$ ]] || die "bad PREFIX $PREFIX (lowercase letters, digits, dashes; 12 characters at most)"
[[ $EUID -eq 0 ]] || die "must run as root: it creates network namespaces"

NS_ATT="$PREFIX-att" NS_RTR="$PREFIX-rtr" NS_VIC="$PREFIX-vic" NS_OBS="$PREFIX-obs"
NAMESPACES=("$NS_ATT" "$NS_RTR" "$NS_VIC" "$NS_OBS")
WORK="/tmp/vigie-live-lab.$PREFIX"

# --- down ----------------------------------------------------------------------

down() {
    local ns pid
    set +e
    for ns in "${NAMESPACES[@]}"; do
        # Whatever runs in the lab's namespaces was started for the lab (its
        # daemons, the test's observatory, box and tools): end it, by its id.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    done
    for ns in "${NAMESPACES[@]}"; do
        ip netns del "$ns" 2>/dev/null
        rm -rf "/etc/netns/$ns"
    done
    rmdir /etc/netns 2>/dev/null
    # The account is removed only by the lab that created it.
    if [[ -f "$WORK/created-user" ]]; then userdel "$SSH_USER" 2>/dev/null; fi
    rm -rf "$WORK"
    return 0
}

if [[ "$ACTION" == down ]]; then
    down
    log "removed"
    exit 0
fi
[[ "$ACTION" == up ]] || usage

for tool in ip sysctl /usr/sbin/sshd ssh-keygen nginx useradd userdel chpasswd ss timeout setsid; do
    command -v "$tool" >/dev/null 2>&1 || die "missing $tool: install the packages of tests/live/packages.txt and tests/corpus/packages.txt"
done
for ns in "${NAMESPACES[@]}"; do
    [[ ! -e "/var/run/netns/$ns" ]] || die "namespace $ns exists already: run lab.sh down $PREFIX"
done

# From here, a failure removes whatever was built.
on_exit() {
    local rc=$?
    if [[ $rc -ne 0 ]]; then
        down
        log "up failed (exit $rc); lab removed"
    fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

mkdir -p "$WORK"
chmod 755 "$WORK" # nginx workers (nobody) read the site from here

# Starts a daemon in a namespace, detached from this script (it outlives
# `up`) and from the caller's pipes, bounded in time.
start_daemon() {
    local ns=$1 name=$2; shift 2
    setsid ip netns exec "$ns" timeout "$DAEMON_LIFETIME" "$@" \
        </dev/null >"$WORK/$name.log" 2>&1 3>&- &
}

# Waits until a TCP port listens in a namespace.
wait_listen() {
    local ns=$1 addr=$2 _
    for _ in $(seq 100); do
        if ip netns exec "$ns" ss -Hlnt | awk '{print $4}' | grep -qx "$addr"; then return 0; fi
        sleep 0.1
    done
    die "nothing listens on $addr in $ns: $(tail -5 "$WORK"/*.log 2>/dev/null)"
}

build_namespaces() {
    local ns
    for ns in "${NAMESPACES[@]}"; do
        ip netns add "$ns"
        mkdir -p "/etc/netns/$ns"
        echo "nameserver $NO_RESOLVER_IP" >"/etc/netns/$ns/resolv.conf"
        ip -n "$ns" link set lo up
        # No IPv6: its autoconfiguration chatter would pollute the captures.
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    done
}

build_links() {
    local i
    # Internet side: the attacker's namespace holds every outside address.
    ip -n "$NS_ATT" link add eth0 type veth peer name to-att netns "$NS_RTR"
    ip -n "$NS_ATT" addr add "$ATT_IP/24" dev eth0
    for ((i = EXTRA_FIRST; i < EXTRA_FIRST + EXTRA_COUNT; i++)); do
        ip -n "$NS_ATT" addr add "10.66.60.$i/24" dev eth0
    done
    ip -n "$NS_ATT" link set eth0 up
    ip -n "$NS_ATT" route add default via "$RTR_OUT_IP"
    ip -n "$NS_RTR" addr add "$RTR_OUT_IP/24" dev to-att
    ip -n "$NS_RTR" link set to-att up

    # Town-hall LAN.
    ip -n "$NS_VIC" link add eth0 type veth peer name to-vic netns "$NS_RTR"
    ip -n "$NS_VIC" addr add "$VIC_IP/24" dev eth0
    ip -n "$NS_VIC" link set eth0 up
    ip -n "$NS_VIC" route add default via "$RTR_LAN_IP"
    ip -n "$NS_RTR" addr add "$RTR_LAN_IP/24" dev to-vic
    ip -n "$NS_RTR" link set to-vic up

    # The observatory: its own link, no route beyond it, so only the
    # router's namespace (where the box runs) can talk to it.
    ip -n "$NS_OBS" link add eth0 type veth peer name to-obs netns "$NS_RTR"
    ip -n "$NS_OBS" addr add "$OBS_IP/24" dev eth0
    ip -n "$NS_OBS" link set eth0 up
    ip -n "$NS_RTR" addr add "$RTR_OBS_IP/24" dev to-obs
    ip -n "$NS_RTR" link set to-obs up

    # The router has no default route: nothing leaves the lab. It forwards
    # between the internet side and the LAN only: packets from either side
    # towards the observatory are refused, and nothing from the
    # observatory's link is forwarded.
    ip netns exec "$NS_RTR" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$NS_RTR" sysctl -qw net.ipv4.conf.to-obs.forwarding=0
    ip -n "$NS_RTR" rule add iif to-att to "$OBS_NET" prohibit
    ip -n "$NS_RTR" rule add iif to-vic to "$OBS_NET" prohibit
}

check_paths() {
    local _
    for _ in $(seq 30); do
        if ip netns exec "$NS_ATT" ping -c1 -W1 "$VIC_IP" >/dev/null 2>&1 &&
            ip netns exec "$NS_RTR" ping -c1 -W1 "$OBS_IP" >/dev/null 2>&1; then
            if ip netns exec "$NS_ATT" ping -c1 -W1 "$OBS_IP" >/dev/null 2>&1; then
                die "the attacker reaches the observatory: the lab is not isolated"
            fi
            return 0
        fi
        sleep 0.2
    done
    die "the lab does not route from $ATT_IP to $VIC_IP, or from the router to $OBS_IP"
}

setup_victim() {
    if id "$SSH_USER" >/dev/null 2>&1; then
        log "account $SSH_USER already exists: reusing it, not deleting it"
    else
        useradd -M -d /nonexistent -s /bin/sh -c "Vigie live test account" "$SSH_USER"
        : >"$WORK/created-user"
    fi
    printf '%s:%s\n' "$SSH_USER" "$SSH_PASSWORD" | chpasswd

    # sshd: own config and host key; no PAM (its failure delay would slow
    # hydra down for nothing); MaxAuthTries 2 so that each few guesses open
    # a new connection, which is what the engine counts.
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
MaxAuthTries 2
MaxStartups 100:30:200
LoginGraceTime 30
UseDNS no
PrintMotd no
EOF
    start_daemon "$NS_VIC" sshd /usr/sbin/sshd -D -e -f "$WORK/sshd_config"

    mkdir -p "$WORK/www" "$WORK/nginx-tmp"
    cat >"$WORK/www/index.html" <<'EOF'
<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Mairie de Vigie-Lab</title></head>
<body><h1>Mairie de Vigie-Lab</h1><p><a href="/login">Espace agents</a></p></body></html>
EOF
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
    types { text/html html; }
    default_type application/octet-stream;
    server {
        listen $VIC_IP:80;
        server_name mairie.vigie-lab.test;
        root $WORK/www;
        location = /login {
            default_type text/html;
            return 200 '<form method="post"><input name="user"><input name="password" type="password"></form>\n';
        }
    }
}
EOF
    start_daemon "$NS_VIC" nginx nginx -c "$WORK/nginx.conf" -g 'daemon off;'
    wait_listen "$NS_VIC" "$VIC_IP:22"
    wait_listen "$NS_VIC" "$VIC_IP:80"
}

log "building namespaces ${NAMESPACES[*]}"
build_namespaces
build_links
check_paths
setup_victim
log "up: attacker $ATT_IP, town hall $VIC_IP (sshd, nginx), observatory $OBS_IP"

# The facts the test reads.
cat <<EOF
NS_ATT=$NS_ATT
NS_RTR=$NS_RTR
NS_VIC=$NS_VIC
NS_OBS=$NS_OBS
CAPTURE_INTERFACE=to-att
ATT_IP=$ATT_IP
EXTRA_SOURCES=$(for ((i = EXTRA_FIRST; i < EXTRA_FIRST + EXTRA_COUNT; i++)); do printf '10.66.60.%s ' "$i"; done | sed 's/ $//')
VIC_IP=$VIC_IP
HOME_NET=$LAN_NET
OBS_IP=$OBS_IP
RTR_OBS_IP=$RTR_OBS_IP
SSH_USER=$SSH_USER
SSH_PASSWORD=$SSH_PASSWORD
WORK=$WORK
EOF
