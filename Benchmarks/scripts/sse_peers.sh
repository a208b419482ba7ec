#!/usr/bin/env bash
# One-way SSE fan-out: Strata's uni_sse beside Nchan's EventSource (nginx + Nchan, the peer of
# ../shared/peers), with the same load generator (-proto uni-sse / nchan-sse), each server fresh
# per test, pinned to CPU 0, the generator on CPU 1. JSON lines on stdout.
#
#   Benchmarks/scripts/build-tools.sh && make release
#   NCHAN_START=/path/to/peers/start-nchan.sh Benchmarks/scripts/sse_peers.sh > results.jsonl
#
# Env: NCHAN_START (start-nchan.sh of the peers; without it only Strata runs), FLOOR (1: also the
# NIO floor, Benchmarks/nio-sse-floor, built here on first use), TESTS (fanout fanout-max), ROUNDS
# (1), CONFIG (Strata's, default config/examples/bench-lmdb.json; uni_sse is switched on in a
# copy), STRATA (space-separated builds, NAME=PATH or PATH, as compare.sh takes them; each is
# reported as strata-uni-sse-NAME when more than one is given), the size knobs of peers_common.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
source Benchmarks/scripts/peers_common.sh
strata_builds
SSE_CONFIG="$(mktemp /tmp/strata-bench-sse.XXXXXX.json)"
python3 -c "import json,sys; c=json.load(open(sys.argv[1])); c['uni_sse']={'enabled':True}; json.dump(c,open(sys.argv[2],'w'))" \
    "${CONFIG:-config/examples/bench-lmdb.json}" "$SSE_CONFIG"

FLOOR_BIN="$ROOT/Benchmarks/nio-sse-floor/.build/release/nio-sse-floor"
if [ "${FLOOR:-0}" = 1 ] && [ ! -x "$FLOOR_BIN" ]; then
    swift build -c release --package-path "$ROOT/Benchmarks/nio-sse-floor" >&2
fi

for _ in $(seq 1 "${ROUNDS:-1}"); do
    for t in ${TESTS:-fanout fanout-max}; do
        if [ "${FLOOR:-0}" = 1 ]; then
            (exec taskset -c 0 "$FLOOR_BIN" 18200 >/dev/null 2>&1 </dev/null) &
            LAST=$!; PIDS+=("$LAST")
            wait_health 18200 nio-sse-floor /nonexistent
            gen nio-sse-floor "$LAST" http://127.0.0.1:18200/sub http://127.0.0.1:18200/pub nchan-sse "$t"
            cleanup
        fi
        if [ -n "${NCHAN_START:-}" ]; then
            out="$(PEER_CPU=0 "$NCHAN_START")"
            master="$(echo "$out" | sed -n 's/.*PID=\([0-9]*\).*/\1/p')"; PIDS+=("$master")
            sleep 0.5
            workers="$(pgrep -P "$master" | paste -sd, -)"
            gen nchan-sse "$master,$workers" http://127.0.0.1:18080/sub http://127.0.0.1:18080/pub nchan-sse "$t"
            cleanup
        fi
        for build in "${BUILDS[@]}"; do
            target=strata-uni-sse; [ "${#BUILDS[@]}" = 1 ] || target="strata-uni-sse-${build%%=*}"
            STRATA="${build#*=}" start_node "$SSE_CONFIG"
            gen "$target" "$NODE_PIDS" http://127.0.0.1:18100/connection/uni_sse http://127.0.0.1:18100/api/publish uni-sse "$t"
            cleanup
        done
    done
done
rm -f "$SSE_CONFIG"
