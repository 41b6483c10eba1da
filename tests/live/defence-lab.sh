#!/usr/bin/env bash
# defence-lab.sh: the lab of the three-box collective defence test
# (crates/vigie/tests/live_defence.rs, issue 16).
#
# One attacker (10.66.70.2, on its loopback) reaches three communes, each
# through its own router (namespace PREFIX-rK, link 10.66.7K.0/24, the box
# captures on to-att) in front of its town hall (PREFIX-vK, 10.66.8K.10,
# a small HTTP server); the observatory (PREFIX-obs, 10.66.90.2 on its
# loopback) is reached by each router over its own link 10.66.9K.0/24,
# never by the attacker. Nothing routes out of 10.66.0.0/16.
#
# Usage: defence-lab.sh up PREFIX | defence-lab.sh down PREFIX
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
[[ $# -eq 2 ]] || { echo "usage: $0 up|down PREFIX" >&2; exit 2; }
ACTION=$1 PREFIX=$2
[[ "$PREFIX" =~ ^[a-z0-9][a-z0-9-]{0,9}$ ]] || { echo "bad PREFIX" >&2; exit 2; }
NAMESPACES=("$PREFIX-att" "$PREFIX-obs")
for k in 1 2 3; do NAMESPACES+=("$PREFIX-r$k" "$PREFIX-v$k"); done

down() {
    set +e
    local ns pid
    for ns in "${NAMESPACES[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    done
    for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
    return 0
}
if [[ $ACTION == down ]]; then down; exit 0; fi
trap 'rc=$?; [[ $rc -eq 0 ]] || down; exit $rc' EXIT

ATT="$PREFIX-att" OBS="$PREFIX-obs"
for ns in "${NAMESPACES[@]}"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$ATT" addr add 10.66.70.2/32 dev lo
ip -n "$OBS" addr add 10.66.90.2/32 dev lo
for k in 1 2 3; do
    R="$PREFIX-r$k" V="$PREFIX-v$k"
    ip -n "$ATT" link add "a$k" type veth peer name to-att netns "$R"
    ip -n "$ATT" addr add "10.66.7$k.2/24" dev "a$k"
    ip -n "$ATT" link set "a$k" up
    ip -n "$R" addr add "10.66.7$k.1/24" dev to-att
    ip -n "$R" link set to-att up
    ip -n "$ATT" route add "10.66.8$k.0/24" via "10.66.7$k.1" src 10.66.70.2
    ip -n "$R" route add 10.66.70.2/32 via "10.66.7$k.2"

    ip -n "$V" link add eth0 type veth peer name to-vic netns "$R"
    ip -n "$V" addr add "10.66.8$k.10/24" dev eth0
    ip -n "$V" link set eth0 up
    ip -n "$V" route add default via "10.66.8$k.1"
    ip -n "$R" addr add "10.66.8$k.1/24" dev to-vic
    ip -n "$R" link set to-vic up

    ip -n "$OBS" link add "o$k" type veth peer name to-obs netns "$R"
    ip -n "$OBS" addr add "10.66.9$k.2/24" dev "o$k"
    ip -n "$OBS" link set "o$k" up
    ip -n "$R" addr add "10.66.9$k.1/24" dev to-obs
    ip -n "$R" link set to-obs up
    ip -n "$R" route add 10.66.90.2/32 via "10.66.9$k.2"
    ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$R" sysctl -qw "net.ipv4.conf.to-obs.forwarding=0"
    ip -n "$R" rule add iif to-att to 10.66.90.2 prohibit

    # The town hall's site: answers on port 80 for an hour at most.
    mkdir -p "/tmp/vigie-defence-lab.$PREFIX/www$k"
    echo "mairie $k" >"/tmp/vigie-defence-lab.$PREFIX/www$k/index.html"
    setsid ip netns exec "$V" timeout 3600 python3 -m http.server 80 --bind "10.66.8$k.10" \
        --directory "/tmp/vigie-defence-lab.$PREFIX/www$k" </dev/null >/dev/null 2>&1 &
done
for k in 1 2 3; do
    for _ in $(seq 50); do
        ip netns exec "$PREFIX-v$k" ss -Hlnt | grep -q "10.66.8$k.10:80" && break
        sleep 0.1
    done
    ip netns exec "$ATT" ping -c1 -W1 "10.66.8$k.10" >/dev/null
    ip netns exec "$PREFIX-r$k" ping -c1 -W1 10.66.90.2 >/dev/null
done
if ip netns exec "$ATT" ping -c1 -W1 10.66.90.2 >/dev/null 2>&1; then
    echo "the attacker reaches the observatory" >&2; exit 1
fi
echo "up"
