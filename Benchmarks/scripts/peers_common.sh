# Shared by redis_peers.sh and lmdb_peers.sh (sourced, not run): process bookkeeping and the Strata
# start-up, pinned to CPU 0 like the peers. Each start_* sets LAST to the new process's PID (no
# command substitution: a subshell would run the EXIT trap and stop everything started so far).
ROOT="$PWD"
PEERS="$ROOT/../shared/peers"
STRATA="${STRATA_BIN:-$ROOT/.build/release/strata}"  # STRATA_BIN: another build, for A/B runs
PIDS=()
DIRS=()  # Strata's working directories (its LMDB store and log), removed with the servers
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; PIDS=(); sleep 0.5
    for d in "${DIRS[@]:-}"; do [ -n "$d" ] && rm -rf "$d"; done; DIRS=()
}
trap cleanup EXIT
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }
ulimit -n 65536 2>/dev/null || true

start_strata() {  # PORT CONFIG — a fresh working directory, so an LMDB store starts empty
    local dir; dir="$(mktemp -d /tmp/strata-bench.XXXXXX)"; DIRS+=("$dir")
    (cd "$dir" && exec taskset -c 0 "$STRATA" --config "$2" --port "$1" >"$dir/log" 2>&1 </dev/null) &
    LAST=$!; PIDS+=("$LAST")
    for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "strata on $1 did not start: $(cat "$dir/log")" >&2; return 1
}

# bench.sh against a running Strata: strata_bench PORT SERVER_PIDS TARGET_NAME [TEST_NAME] (env: TESTS, sizes)
strata_bench() {
    PROTO=centrifugo-v2 WS_URL="ws://127.0.0.1:$1/connection/websocket" PUB_URL="http://127.0.0.1:$1/api/publish" \
        PUB_MODE=api API_KEY=bench-key SERVER_PID="$2" "$PEERS/bench.sh" external \
        | sed "s/\"target\":\"external\"/\"target\":\"$3\"/${4:+; s/\"test\":\"fanout-max\"/\"test\":\"$4\"/}"
}

start_redis() {  # a fresh redis-server on the peers' port, pinned to CPU 0
    PEER_CPU=0 "$PEERS/start-redis.sh" >/tmp/strata-bench-start.out; LAST="$(field PID </tmp/strata-bench-start.out)"; PIDS+=("$LAST")
}

start_go() {  # PORT [ENGINE]: the Go centrifuge peer, pinned to CPU 0 (Redis engine: on the running redis-server)
    PORT="$1" ENGINE="${2:-redis}" REDIS_ADDR=127.0.0.1:16379 PEER_CPU=0 "$PEERS/start-centrifuge-go.sh" >/tmp/strata-bench-start.out
    LAST="$(field PID </tmp/strata-bench-start.out)"; PIDS+=("$LAST")
}

# start_node CONFIG [redis]: a fresh Strata on 18100, after its own redis-server when asked; sets
# NODE_PIDS (what the generator measures CPU and RSS of).
start_node() {
    NODE_PIDS=""
    if [ "${2:-}" = redis ]; then start_redis; NODE_PIDS="$LAST,"; fi
    start_strata 18100 "$1"; NODE_PIDS="$NODE_PIDS$LAST"
}

# single_node_suite PEER CONFIG TARGET [redis]: the peer (a bench.sh target) through $TESTS, then
# Strata through each test on a fresh node; then the publish test (one subscriber, 5,000
# publishes back to back) unless PUBLISH_TEST=0. The peer publishes twice: through its
# `/publish?channel=` (body = data, as bench.sh drives it) and through its `/api/publish`
# (`{"channel","data"}`, the request Strata gets: same generator work, JSON parsed on both sides).
# SKIP_GO=1 skips the peer's $TESTS.
single_node_suite() {
    local peer="$1" config="$2" target="$3" redis="${4:-}"
    [ "${SKIP_GO:-0}" = 1 ] || [ -z "$TESTS" ] || TESTS="$TESTS" "$PEERS/bench.sh" "$peer"
    for t in $TESTS; do
        start_node "$config" "$redis"
        TESTS="$t" strata_bench 18100 "$NODE_PIDS" "$target"
        cleanup
    done
    [ "${PUBLISH_TEST:-1}" = 1 ] || return 0
    FANOUT_N=1 FANOUT_M=5000 TESTS=fanout-max "$PEERS/bench.sh" "$peer" | sed 's/"test":"fanout-max"/"test":"publish"/'
    if [[ "$peer" == centrifuge-go-* ]]; then
        # The Go peer publishes through `/publish?channel=` above; also through its `/api/publish`.
        local peer_pids=""
        if [ "$redis" = redis ]; then start_redis; peer_pids="$LAST,"; fi
        start_go 18000 "${redis:-memory}"; peer_pids="$peer_pids$LAST"
        FANOUT_N=1 FANOUT_M=5000 TESTS=fanout-max PROTO=centrifuge-v1 WS_URL=ws://127.0.0.1:18000/connection/websocket PUB_URL=http://127.0.0.1:18000/api/publish \
            PUB_MODE=api SERVER_PID="$peer_pids" "$PEERS/bench.sh" external \
            | sed "s/\"target\":\"external\"/\"target\":\"$peer-api\"/; s/\"test\":\"fanout-max\"/\"test\":\"publish\"/"
        cleanup
    fi
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
