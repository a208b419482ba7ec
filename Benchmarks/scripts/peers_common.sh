# Shared by the peer scripts (sourced, not run): process bookkeeping, pinned start-up of Strata,
# its peers and redis-server on CPU 0, and the load generator on CPU 1. Everything comes from this
# repository and Debian packages: Benchmarks/scripts/build-tools.sh builds the generator and the Go
# peer; the real Centrifugo is the binary CENTRIFUGO_BIN names. Each start_* sets LAST to the new
# process's PID (no command substitution: a subshell would run the EXIT trap and stop everything
# started so far).
ROOT="$PWD"
TOOLS="${STRATA_BENCH_TOOLS:-$HOME/.cache/strata-bench}/bin"
LG="$TOOLS/strata-loadgen"
GO_PEER_BIN="$TOOLS/strata-bench-peer"
[ -x "$LG" ] && [ -x "$GO_PEER_BIN" ] || { echo "missing $LG or $GO_PEER_BIN: run Benchmarks/scripts/build-tools.sh" >&2; exit 1; }
# STRATA as given: a space-separated list of builds (NAME=PATH or PATH) for the scripts that
# run several (`strata_builds`); read before STRATA is set to the one build started by default.
STRATA_BUILD_LIST="${STRATA:-${STRATA_BIN:-$ROOT/.build/release/strata}}"
STRATA="${STRATA_BIN:-$ROOT/.build/release/strata}"  # STRATA_BIN: another build, for A/B runs
PIDS=()
DIRS=()  # working directories (an LMDB store, logs), removed with the servers
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done
    PIDS=()
    for d in "${DIRS[@]:-}"; do [ -n "$d" ] && rm -rf "$d"; done; DIRS=()
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || true

wait_health() {  # PORT NAME DIR
    for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "$2 on $1 did not start: $(cat "$3/log" 2>/dev/null)" >&2; return 1
}

start_strata() {  # PORT CONFIG — a fresh working directory, so an LMDB store starts empty
    local dir; dir="$(mktemp -d /tmp/strata-bench.XXXXXX)"; DIRS+=("$dir")
    (cd "$dir" && exec taskset -c 0 "$STRATA" --config "$2" --port "$1" >"$dir/log" 2>&1 </dev/null) &
    LAST=$!; PIDS+=("$LAST")
    wait_health "$1" strata "$dir"
}

start_redis() {  # a fresh redis-server on 16379 without persistence, pinned to CPU 0
    local dir; dir="$(mktemp -d /tmp/strata-bench-redis.XXXXXX)"; DIRS+=("$dir")
    (cd "$dir" && exec taskset -c 0 redis-server --port 16379 --bind 127.0.0.1 --save "" --appendonly no >"$dir/log" 2>&1 </dev/null) &
    LAST=$!; PIDS+=("$LAST")
    for _ in $(seq 1 50); do redis-cli -p 16379 ping >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "redis-server did not start" >&2; return 1
}

start_go() {  # PORT [ENGINE]: the Go peer (memory, or Redis on the running redis-server)
    local dir; dir="$(mktemp -d /tmp/strata-bench-go.XXXXXX)"; DIRS+=("$dir")
    (cd "$dir" && PORT="$1" ENGINE="${2:-memory}" REDIS_ADDR=127.0.0.1:16379 exec taskset -c 0 "$GO_PEER_BIN" >"$dir/log" 2>&1 </dev/null) &
    LAST=$!; PIDS+=("$LAST")
    wait_health "$1" go-peer "$dir"
}

start_centrifugo() {  # PORT CONFIG: the real Centrifugo (CENTRIFUGO_BIN) on the given config
    local dir; dir="$(mktemp -d /tmp/strata-bench-cf.XXXXXX)"; DIRS+=("$dir")
    (cd "$dir" && exec taskset -c 0 "${CENTRIFUGO_BIN:?CENTRIFUGO_BIN must name a Centrifugo binary}" --config "$2" \
        --http_server.port "$1" >"$dir/log" 2>&1 </dev/null) &
    LAST=$!; PIDS+=("$LAST")
    wait_health "$1" centrifugo "$dir"
}

# gen TARGET PIDS WS_URL PUB_URL PROTO TEST [NAME]: one test of the generator on CPU 1, sizes from
# FANOUT_N FANOUT_M FANOUT_SIZE FANOUT_RATE STORM_N STORM_K IDLE_N WARMUP_N HOLD_N HOLD_S; NAME
# renames the test.
gen() {
    local n="${FANOUT_N:-1000}" test="$6" extra=()
    case "$test" in
        recovery-storm) n="${STORM_N:-1000}" ;;
        idle-conns) n="${IDLE_N:-10000}" ;;
        hold) n="${HOLD_N:-100000}" ;;
    esac
    sleep 0.5
    taskset -c 1 env GOGC=400 "$LG" -proto "$5" -test "$test" -target "$1" -server-pid "$2" -ws "$3" -pub "$4" -key bench-key \
        -n "$n" -m "${FANOUT_M:-2000}" -size "${FANOUT_SIZE:-256}" -rate "${FANOUT_RATE:-50}" -k "${STORM_K:-50}" \
        -hold "${HOLD_S:-60}s" -warmup "${WARMUP_N:-100}" \
        ${7:+-extra "renamed_from=$test"} | if [ -n "${7:-}" ]; then sed "s/\"test\":\"$test\"/\"test\":\"$7\"/"; else cat; fi \
        || echo "$1 $test failed" >&2
}

# strata_bench PORT PIDS TARGET [TEST_NAME]: $TESTS against a running Strata, in client protocol
# $PROTO (v2 = JSON, the default; protobuf).
strata_bench() {
    for t in $TESTS; do
        gen "$3" "$2" "ws://127.0.0.1:$1/connection/websocket" "http://127.0.0.1:$1/api/publish" "${PROTO:-v2}" "$t" "${4:-}"
    done
}

# peer_bench PEER TEST [TEST_NAME] [redis]: one test against a fresh peer — centrifuge-go-memory,
# centrifuge-go-redis (our Go peer) or centrifugo (CENTRIFUGO_BIN, memory engine).
peer_bench() {
    local pids=""
    case "$1" in
        centrifuge-go-memory) start_go 18000 memory; pids="$LAST" ;;
        centrifuge-go-redis) start_redis; pids="$LAST,"; start_go 18000 redis; pids="$pids$LAST" ;;
        centrifugo)
            local conf; conf="$(mktemp /tmp/strata-bench-cf-config.XXXXXX.json)"
            python3 -c "import json,sys; c=json.load(open(sys.argv[1])); c['engine']={'type':'memory'}; json.dump(c,open(sys.argv[2],'w'))" \
                "$ROOT/config/examples/bench-lmdb.json" "$conf"
            start_centrifugo 18000 "$conf"; pids="$LAST"; rm -f "$conf" ;;
        *) echo "unknown peer $1" >&2; return 1 ;;
    esac
    local proto=v1; [ "$1" = centrifugo ] && proto="${PROTO:-v2}"
    gen "$1" "$pids" ws://127.0.0.1:18000/connection/websocket http://127.0.0.1:18000/api/publish "$proto" "$2" "${3:-}"
    cleanup
}

# start_node CONFIG [redis]: a fresh Strata on 18100, after its own redis-server when asked; sets
# NODE_PIDS (what the generator measures CPU and RSS of).
start_node() {
    NODE_PIDS=""
    if [ "${2:-}" = redis ]; then start_redis; NODE_PIDS="$LAST,"; fi
    start_strata 18100 "$1"; NODE_PIDS="$NODE_PIDS$LAST"
}

# single_node_suite PEER CONFIG TARGET [redis]: the peer through $TESTS, then Strata through each
# test on a fresh node; then the publish test (one subscriber, 5,000 publishes back to back, each
# waiting for its reply) unless PUBLISH_TEST=0. SKIP_PEER=1 skips the peer.
single_node_suite() {
    local peer="$1" config="$2" target="$3" redis="${4:-}"
    if [ "${SKIP_PEER:-${SKIP_GO:-0}}" != 1 ]; then
        for t in $TESTS; do peer_bench "$peer" "$t"; done
    fi
    for t in $TESTS; do
        start_node "$config" "$redis"
        TESTS="$t" strata_bench 18100 "$NODE_PIDS" "$target"
        cleanup
    done
    [ "${PUBLISH_TEST:-1}" = 1 ] || return 0
    FANOUT_N=1 FANOUT_M=5000 peer_bench "$peer" fanout-max publish
    start_node "$config" "$redis"
    FANOUT_N=1 FANOUT_M=5000 TESTS=fanout-max strata_bench 18100 "$NODE_PIDS" "$target" publish
    cleanup
}

# build_publish_load: builds Benchmarks/publish-load (Go standard library only) into a fresh
# temporary directory; sets PUBLISH_LOAD_DIR (remove it when done) and PUBLISH_LOAD (the binary).
build_publish_load() {
    PUBLISH_LOAD_DIR="$(mktemp -d /tmp/publish-load.XXXXXX)"
    (cd "$ROOT/Benchmarks/publish-load" && GO111MODULE=off GOPATH="$PUBLISH_LOAD_DIR" GOCACHE="$PUBLISH_LOAD_DIR/cache" go build -o "$PUBLISH_LOAD_DIR/publish-load" .)
    PUBLISH_LOAD="$PUBLISH_LOAD_DIR/publish-load"
}

# publish_load URL PIDS TARGET CONC [KEY]: publishers on CPU 1 against a running server for
# $DURATION (default 5s), measuring the CPU of PIDS; one JSON line.
publish_load() {
    sleep 1
    taskset -c 1 "$PUBLISH_LOAD" -url "$1" -server-pid "$2" -target "$3" -conc "$4" -key "${5:-}" -duration "${DURATION:-5s}"
}

# strata_builds: BUILDS from STRATA_BUILD_LIST, each NAME=ABSOLUTE_PATH (unnamed ones: strata,
# strata-2, …). Run each with `STRATA="${build#*=}" start_node …`.
strata_builds() {
    BUILDS=()
    local i=0 s
    for s in $STRATA_BUILD_LIST; do
        i=$((i + 1))
        if [[ "$s" == *=* ]]; then BUILDS+=("${s%%=*}=$(realpath "${s#*=}")")
        elif [ "$i" = 1 ]; then BUILDS+=("strata=$(realpath "$s")")
        else BUILDS+=("strata-$i=$(realpath "$s")"); fi
    done
}
