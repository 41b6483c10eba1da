#!/bin/sh
# The live sensor's benchmark (issue 4, "Proof"): builds vigie in release
# and runs `vigie bench live`, which replays a generated mixed capture with
# tcpreplay onto a veth pair between two network namespaces it creates
# (10.66.70.x, no route out) and removes, at increasing rates, beside
# tcpdump on the same interface. Prints a table per capture and the line
# for the README.
#
# Needs root and Debian's iproute2, tcpreplay and tcpdump. Takes about
# four minutes. Options go to `vigie bench live` (e.g. --seconds 5,
# --rates 500,1000, --reference-only); see `vigie bench live --help`.
set -eu
cd "$(dirname "$0")/../../.."

if [ "$(id -u)" != 0 ]; then
    echo "run.sh : root requis (espaces de noms réseau, capture) : sudo $0" >&2
    exit 1
fi
for tool in ip tcpreplay tcpdump; do
    command -v "$tool" >/dev/null || {
        echo "run.sh : $tool introuvable (apt-get install iproute2 tcpreplay tcpdump)" >&2
        exit 1
    }
done
cargo build --release -p vigie
exec target/release/vigie bench live "$@"
