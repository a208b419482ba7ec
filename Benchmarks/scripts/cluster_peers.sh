#!/usr/bin/env bash
# Two nodes on a single redis-server and on a Redis Cluster, Strata beside the real Centrifugo, in
# one run: subscribers on node B, publishes through node A's API, the load generator on CPU 1 and
# every server (both nodes, every redis-server) on CPU 0.
#
#   centrifugo-redis-2nodes      the real Centrifugo, engine.redis.address (one redis-server on 16379)
#   strata-redis-2nodes          Strata, the same
#   centrifugo-cluster-2nodes    the real Centrifugo, engine.redis.cluster_address (three masters on
#                                17001-17003, cluster bus on 27001-27003; no replicas)
#   strata-cluster-2nodes        Strata, the same
#
# A channel's keys live on one master of the cluster, and a classic PUBLISH there reaches the
# subscribing node through the cluster bus: the cluster rows show what that costs beside one Redis.
# CLUSTER_REPLICAS=1 gives each master a replica (17004-17006; targets *-cluster-replicas-2nodes):
# replication costs CPU 0 as well. The CPU and RSS measured are the nodes' and every redis-server's.
#
#   CENTRIFUGO_BIN=/path/to/centrifugo ROUNDS=3 Benchmarks/scripts/cluster_peers.sh > results.jsonl
#
# Env: TESTS (generator tests, default "fanout fanout-max"), PUBLISH_CONCS (concurrent publishers of
# Benchmarks/publish-load through node A with one subscriber-less channel, default "8"; empty: none),
# DURATION (publish-load, default 5s), ROUNDS, CLUSTER_REPLICAS (0 or 1), SKIP_CENTRIFUGO=1,
# SKIP_STRATA=1, SKIP_SINGLE=1 (cluster rows only), plus the size knobs of peers_common.sh.
# Needs a release build, the tools (Benchmarks/scripts/build-tools.sh), Debian's redis-server and
# redis-cli. Output: JSON lines on stdout (python3 Benchmarks/scripts/summarize.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
source Benchmarks/scripts/peers_common.sh
REDIS_CLI="${REDIS_CLI:-redis-cli}"
REPLICAS="${CLUSTER_REPLICAS:-0}"
PUBLISH_CONCS="${PUBLISH_CONCS-8}"
[ "${SKIP_CENTRIFUGO:-0}" = 1 ] || : "${CENTRIFUGO_BIN:?CENTRIFUGO_BIN must name a Centrifugo binary (or SKIP_CENTRIFUGO=1)}"

# The benchmark config on one Redis (as it is) and on the cluster (the same, cluster_address).
SINGLE="$ROOT/config/examples/bench-redis.json"
CLUSTER="$(mktemp /tmp/strata-bench-cluster.XXXXXX.json)"
python3 - "$SINGLE" "$CLUSTER" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["engine"] = {"type": "redis", "redis": {"cluster_address": ["127.0.0.1:17001,127.0.0.1:17002,127.0.0.1:17003"],
                                            "prefix": "strata"}}
json.dump(cfg, open(sys.argv[2], "w"))
PY
trap 'cleanup; rm -f "$CLUSTER"; [ -z "${PUBLISH_LOAD_DIR:-}" ] || rm -rf "$PUBLISH_LOAD_DIR"' EXIT

cluster_ok() {  # PORT: the node says cluster_state:ok, and a replica's link to its master is up
    "$REDIS_CLI" -p "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
    "$REDIS_CLI" -p "$1" info replication 2>/dev/null | grep -q '^role:slave' || return 0
    "$REDIS_CLI" -p "$1" info replication 2>/dev/null | grep -q '^master_link_status:up'
}

start_cluster() {  # fresh cluster nodes on 17001.. pinned to CPU 0, made a cluster; sets CLUSTER_PIDS
    local count=$((3 * (1 + REPLICAS))) addrs=() port dir i
    CLUSTER_PIDS=""
    for i in $(seq 1 "$count"); do
        port=$((17000 + i))
        dir="$(mktemp -d /tmp/strata-bench-cluster.XXXXXX)"; DIRS+=("$dir")
        (cd "$dir" && exec taskset -c 0 redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
            --cluster-enabled yes --cluster-config-file "$dir/nodes.conf" --cluster-node-timeout 5000 \
            --repl-diskless-sync yes --repl-diskless-sync-delay 0 >"$dir/log" 2>&1 </dev/null) &
        PIDS+=("$!"); CLUSTER_PIDS="$CLUSTER_PIDS${CLUSTER_PIDS:+,}$!"; addrs+=("127.0.0.1:$port")
        for _ in $(seq 1 50); do "$REDIS_CLI" -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    done
    "$REDIS_CLI" --cluster create "${addrs[@]}" --cluster-replicas "$REPLICAS" --cluster-yes >/dev/null \
        || { echo "redis-cli --cluster create failed" >&2; return 1; }
    for i in $(seq 1 "$count"); do
        for _ in $(seq 1 100); do cluster_ok $((17000 + i)) && continue 2; sleep 0.1; done
        echo "cluster node $((17000 + i)) not ok" >&2; return 1
    done
}

# two_nodes SERVER REDIS TEST: SERVER centrifugo | strata, REDIS redis | cluster; TEST a generator
# test, or publish-N (N publishers of publish-load).
two_nodes() {
    local pids config port target="$1-$2-2nodes"
    [ "$2" = cluster ] && [ "$REPLICAS" != 0 ] && target="$1-cluster-replicas-2nodes"
    if [ "$2" = cluster ]; then start_cluster; pids="$CLUSTER_PIDS"; config="$CLUSTER"
    else start_redis; pids="$LAST"; config="$SINGLE"; fi
    if [ "$1" = centrifugo ]; then
        port=18000
        start_centrifugo 18000 "$config"; pids="$pids,$LAST"
        start_centrifugo 18001 "$config"; pids="$pids,$LAST"
    else
        port=18100
        start_strata 18100 "$config"; pids="$pids,$LAST"
        start_strata 18101 "$config"; pids="$pids,$LAST"
    fi
    case "$3" in
        publish-*) publish_load "http://127.0.0.1:$port/api/publish" "$pids" "$target" "${3#publish-}" bench-key ;;
        *) gen "$target" "$pids" "ws://127.0.0.1:$((port + 1))/connection/websocket" "http://127.0.0.1:$port/api/publish" \
               "${PROTO:-v2}" "$3" ;;
    esac
    cleanup
}

[ -z "$PUBLISH_CONCS" ] || build_publish_load
servers=""
[ "${SKIP_CENTRIFUGO:-0}" = 1 ] || servers="centrifugo"
[ "${SKIP_STRATA:-0}" = 1 ] || servers="$servers strata"
redises="redis cluster"
[ "${SKIP_SINGLE:-0}" = 1 ] && redises="cluster"
for _ in $(seq 1 "${ROUNDS:-1}"); do
    for t in ${TESTS-fanout fanout-max} $(for c in $PUBLISH_CONCS; do echo "publish-$c"; done); do
        for r in $redises; do
            for s in $servers; do two_nodes "$s" "$r" "$t"; done
        done
    done
done
