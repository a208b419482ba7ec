#!/usr/bin/env bash
# Strata beside its peers, with the load generator of Benchmarks/loadgen, in one run: for each
# round and each test, the real Centrifugo (when CENTRIFUGO_BIN names its binary; memory engine),
# the Go peer of Benchmarks/peer (GO_PEER=1; memory engine), then each Strata build, each on a
# fresh process pinned to CPU 0 with the generator on CPU 1. JSON lines on stdout;
# `python3 Benchmarks/scripts/summarize.py results.jsonl` makes the tables.
#
#   Benchmarks/scripts/build-tools.sh && make release
#   CENTRIFUGO_BIN=/path/to/centrifugo Benchmarks/scripts/compare.sh > results.jsonl
#
# Env: PROTOS (client protocols, space-separated: v2 = JSON (default), protobuf; a protobuf
# target is named NAME-protobuf; the Go peer speaks v1 only and runs with v2), STRATA (space-separated builds, default .build/release/strata; named strata, strata-2, …
# unless given as NAME=PATH), CENTRIFUGO_BIN, GO_PEER, TESTS (fanout fanout-max recovery-storm
# idle-conns), ROUNDS (1), CONFIG (config/examples/bench-lmdb.json), and the size knobs of
# peers_common.sh (FANOUT_N FANOUT_M FANOUT_SIZE FANOUT_RATE STORM_N STORM_K IDLE_N).
set -euo pipefail
cd "$(dirname "$0")/../.."
source Benchmarks/scripts/peers_common.sh
CONFIG="$(realpath "${CONFIG:-config/examples/bench-lmdb.json}")"
strata_builds

for _ in $(seq 1 "${ROUNDS:-1}"); do
    for t in ${TESTS:-fanout fanout-max recovery-storm idle-conns}; do
        for proto in ${PROTOS:-v2}; do
            suffix=""; [ "$proto" = v2 ] || suffix="-$proto"
            if [ -n "${CENTRIFUGO_BIN:-}" ]; then
                PROTO="$proto" peer_bench centrifugo "$t" >"${TMPDIR:-/tmp}/cf-line.$$" && sed "s/\"target\":\"centrifugo\"/\"target\":\"centrifugo$suffix\"/" "${TMPDIR:-/tmp}/cf-line.$$"
                rm -f "${TMPDIR:-/tmp}/cf-line.$$"
            fi
            [ "${GO_PEER:-0}" != 1 ] || [ "$proto" != v2 ] || peer_bench centrifuge-go-memory "$t"
            for build in "${BUILDS[@]}"; do
                STRATA="${build#*=}" start_node "$CONFIG"
                PROTO="$proto" TESTS="$t" strata_bench 18100 "$NODE_PIDS" "${build%%=*}$suffix"
                cleanup
            done
        done
    done
done
