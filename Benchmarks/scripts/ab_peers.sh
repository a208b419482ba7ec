#!/usr/bin/env bash
# A/B of two Strata builds beside a peer, in one run: for each round and each test, the peer, then
# OLD, then NEW, each on a fresh process pinned to CPU 0 with the generator on CPU 1 (as
# lmdb_peers.sh). Output: JSON lines on stdout, targets PEER / strata-old / strata-new; tables with
# python3 Benchmarks/scripts/summarize.py. PEER=centrifugo needs CENTRIFUGO_BIN.
#
#   OLD=/path/to/old/strata NEW=.build/release/strata PEER=centrifugo ROUNDS=3 \
#     TESTS="fanout fanout-max recovery-storm idle-conns" Benchmarks/scripts/ab_peers.sh
#
# CONFIG defaults to the LMDB benchmark config (config/examples/bench-lmdb.json).
set -euo pipefail
OLD="$(realpath "${OLD:?OLD must name a strata binary}")"
NEW="$(realpath "${NEW:-.build/release/strata}")"
cd "$(dirname "$0")/../.."
source Benchmarks/scripts/peers_common.sh
CONFIG="${CONFIG:-$ROOT/config/examples/bench-lmdb.json}"
PEER="${PEER:-centrifugo}"
for _ in $(seq 1 "${ROUNDS:-3}"); do
    for t in ${TESTS:-fanout fanout-max recovery-storm idle-conns}; do
        peer_bench "$PEER" "$t"
        for side in old new; do
            if [ "$side" = old ]; then STRATA="$OLD"; else STRATA="$NEW"; fi
            start_node "$CONFIG"
            TESTS="$t" strata_bench 18100 "$NODE_PIDS" "strata-$side"
            cleanup
        done
    done
done
