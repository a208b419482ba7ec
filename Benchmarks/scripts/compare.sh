#!/usr/bin/env bash
# Strata beside its peers, with the load generator of Benchmarks/loadgen, in one run: for each
# round and each test, the real Centrifugo (when CENTRIFUGO_BIN names its binary), the Go peer of
# Benchmarks/peer (GO_PEER=1; memory engine), then each Strata build, each on a fresh process
# pinned to CPU 0 with the generator on CPU 1. JSON lines on stdout;
# `python3 Benchmarks/scripts/summarize.py results.jsonl` makes the tables.
#
#   Benchmarks/scripts/build-tools.sh && make release
#   CENTRIFUGO_BIN=/path/to/centrifugo Benchmarks/scripts/compare.sh > results.jsonl
#
# Env: STRATA (space-separated builds, default .build/release/strata; each is named
# strata, strata-2, … unless given as NAME=PATH), CENTRIFUGO_BIN (optional), TESTS (fanout
# fanout-max recovery-storm idle-conns), ROUNDS (1), CONFIG (config/examples/bench-lmdb.json:
# anonymous connect, history on the top-level namespace; Centrifugo gets the same with its memory
# engine, or CENTRIFUGO_CONFIG), sizes N M SIZE RATE K IDLE_N.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
TOOLS="${STRATA_BENCH_TOOLS:-$HOME/.cache/strata-bench}/bin"
LG="$TOOLS/strata-loadgen"
[ -x "$LG" ] || { echo "missing $LG: run Benchmarks/scripts/build-tools.sh" >&2; exit 1; }
CONFIG="$(realpath "${CONFIG:-config/examples/bench-lmdb.json}")"
TESTS="${TESTS:-fanout fanout-max recovery-storm idle-conns}"
PORT=18300
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

PIDS=(); DIRS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done
    for d in "${DIRS[@]:-}"; do [ -n "$d" ] && rm -rf "$d"; done
    PIDS=(); DIRS=()
}
trap cleanup EXIT

# start NAME BINARY: a fresh process in a fresh directory on $PORT, pinned to CPU 0; sets PID.
start() {
    local dir; dir="$(mktemp -d /tmp/strata-compare.XXXXXX)"; DIRS+=("$dir")
    if [ "$1" = go-peer ]; then
        (cd "$dir" && PORT="$PORT" ENGINE=memory exec taskset -c 0 "$2" >"$dir/log" 2>&1 </dev/null) &
    elif [ "$1" = centrifugo ]; then
        # Centrifugo has no LMDB engine: the same config on its memory engine (or CENTRIFUGO_CONFIG).
        local cconf="${CENTRIFUGO_CONFIG:-}"
        if [ -z "$cconf" ]; then
            cconf="$dir/centrifugo.json"
            python3 -c "import json,sys; c=json.load(open(sys.argv[1])); c['engine']={'type':'memory'}; json.dump(c,open(sys.argv[2],'w'))" "$CONFIG" "$cconf"
        fi
        (cd "$dir" && exec taskset -c 0 "$2" --config "$cconf" --http_server.port "$PORT" >"$dir/log" 2>&1 </dev/null) &
    else
        (cd "$dir" && exec taskset -c 0 "$2" --config "$CONFIG" --port "$PORT" >"$dir/log" 2>&1 </dev/null) &
    fi
    PID=$!; PIDS+=("$PID")
    for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "$1 did not start: $(cat "$dir/log")" >&2; return 1
}

run() {  # NAME BINARY TEST
    local key; key="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['http_api']['key'])" "$CONFIG")"
    start "$1" "$2"
    local n="${N:-1000}"; [ "$3" = idle-conns ] && n="${IDLE_N:-10000}"
    local proto=v2; [ "$1" = go-peer ] && proto=v1
    taskset -c 1 env GOGC=400 "$LG" -proto "$proto" -test "$3" -target "$1" -server-pid "$PID" -key "$key" \
        -ws "ws://127.0.0.1:$PORT/connection/websocket" -pub "http://127.0.0.1:$PORT/api/publish" \
        -n "$n" -m "${M:-2000}" -size "${SIZE:-256}" -rate "${RATE:-50}" -k "${K:-50}" || echo "$1 $3 failed" >&2
    cleanup
}

TARGETS=()
[ -n "${CENTRIFUGO_BIN:-}" ] && TARGETS+=("centrifugo=$(realpath "$CENTRIFUGO_BIN")")
[ "${GO_PEER:-0}" = 1 ] && TARGETS+=("go-peer=$TOOLS/strata-bench-peer")
i=0
for s in ${STRATA:-.build/release/strata}; do
    i=$((i + 1))
    if [[ "$s" == *=* ]]; then TARGETS+=("${s%%=*}=$(realpath "${s#*=}")")
    elif [ "$i" = 1 ]; then TARGETS+=("strata=$(realpath "$s")")
    else TARGETS+=("strata-$i=$(realpath "$s")"); fi
done

for _ in $(seq 1 "${ROUNDS:-1}"); do
    for t in $TESTS; do
        for target in "${TARGETS[@]}"; do run "${target%%=*}" "${target#*=}" "$t"; done
    done
done
