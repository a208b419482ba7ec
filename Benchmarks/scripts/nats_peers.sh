#!/usr/bin/env bash
# Two nodes on NATS, in one run: subscribers on node B, publishes through node A's API, the load
# generator on CPU 1 and every server (nodes, nats-server, redis-server) on CPU 0.
#
#   centrifugo-nats-2nodes        the real Centrifugo, memory engine + NATS broker (no history)
#   strata-nats-2nodes            Strata, the same setup (memory engine + NATS, PUB/SUB only)
#   strata-nats-redis-2nodes      Strata, NATS for delivery and Redis for history (recovery)
#   strata-redis-2nodes           Strata, the Redis broker (history and delivery in Redis)
#
# The first two compare like with like (channels without history, as Centrifugo's NATS broker
# keeps none); the last two show what NATS delivery costs beside Redis PUB/SUB with history.
#
#   CENTRIFUGO_BIN=/path/to/centrifugo ROUNDS=3 Benchmarks/scripts/nats_peers.sh > results.jsonl
#
# Needs a release build, the tools (Benchmarks/scripts/build-tools.sh) and Debian's nats-server.
set -euo pipefail
cd "$(dirname "$0")/../.."
source Benchmarks/scripts/peers_common.sh
NATS_SERVER="${NATS_SERVER:-/usr/sbin/nats-server}"

start_nats() {  # a fresh nats-server on 14222, pinned to CPU 0
    local dir; dir="$(mktemp -d /tmp/strata-bench-nats.XXXXXX)"; DIRS+=("$dir")
    (cd "$dir" && exec taskset -c 0 "$NATS_SERVER" -a 127.0.0.1 -p 14222 >"$dir/log" 2>&1 </dev/null) &
    LAST=$!; PIDS+=("$LAST")
    for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/14222) 2>/dev/null && return 0; sleep 0.1; done
    echo "nats-server did not start" >&2; return 1
}

# The benchmark configs with NATS: PUBSUB without history (memory engine), HIST with Redis history.
PUBSUB="$(mktemp /tmp/strata-bench-nats-pubsub.XXXXXX.json)"
HIST="$(mktemp /tmp/strata-bench-nats-redis.XXXXXX.json)"
python3 - "$ROOT/config/examples/bench-redis.json" "$PUBSUB" "$HIST" <<'PY'
import json, sys
base = json.load(open(sys.argv[1]))
nats = {"enabled": True, "type": "nats", "nats": {"url": "nats://127.0.0.1:14222", "prefix": "bench"}}
pubsub = json.loads(json.dumps(base))
pubsub["engine"] = {"type": "memory"}
pubsub["broker"] = nats
ns = pubsub["channel"]["without_namespace"]
for k in ("history_size", "history_ttl", "force_recovery"):
    ns.pop(k, None)
json.dump(pubsub, open(sys.argv[2], "w"))
hist = json.loads(json.dumps(base))
hist["broker"] = nats
json.dump(hist, open(sys.argv[3], "w"))
PY
trap 'cleanup; rm -f "$PUBSUB" "$HIST"' EXIT

two_nodes() {  # TARGET TEST KIND: KIND centrifugo | strata-pubsub | strata-hist | strata-redis
    local pids
    case "$3" in
        centrifugo)
            start_nats; pids="$LAST"
            start_centrifugo 18000 "$PUBSUB"; pids="$pids,$LAST"
            start_centrifugo 18001 "$PUBSUB"; pids="$pids,$LAST"
            gen "$1" "$pids" ws://127.0.0.1:18001/connection/websocket http://127.0.0.1:18000/api/publish "${PROTO:-v2}" "$2" ;;
        strata-pubsub|strata-hist|strata-redis)
            local config="$PUBSUB"
            [ "$3" = strata-hist ] && config="$HIST"
            [ "$3" = strata-redis ] && config="$ROOT/config/examples/bench-redis.json"
            pids=""
            if [ "$3" != strata-pubsub ]; then start_redis; pids="$LAST,"; fi
            if [ "$3" != strata-redis ]; then start_nats; pids="$pids$LAST,"; fi
            start_strata 18100 "$config"; pids="$pids$LAST"
            start_strata 18101 "$config"; pids="$pids,$LAST"
            gen "$1" "$pids" ws://127.0.0.1:18101/connection/websocket http://127.0.0.1:18100/api/publish v2 "$2" ;;
    esac
    cleanup
}

for _ in $(seq 1 "${ROUNDS:-1}"); do
    for t in ${TESTS:-fanout fanout-max}; do
        two_nodes centrifugo-nats-2nodes "$t" centrifugo
        two_nodes strata-nats-2nodes "$t" strata-pubsub
        two_nodes strata-nats-redis-2nodes "$t" strata-hist
        two_nodes strata-redis-2nodes "$t" strata-redis
    done
done
