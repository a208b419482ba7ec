#!/usr/bin/env bash
# Strata's Redis engine beside the Go centrifuge peer's Redis engine, with the load generator of
# ../shared/peers, back to back in one run. Both servers and their redis-server share CPU 0; the
# generator runs on CPU 1. Output: JSON lines on stdout (summarize with ../shared/peers/summarize.py).
#
#   single node:  fanout, fanout-max, recovery-storm against one server on Redis
#   publish:      one subscriber, 5,000 publishes back to back through the API: the cost of a
#                 publish with history (HTTP + script + PUB/SUB), as pub/s
#   two nodes:    subscribers on node B, publishes through node A's API (fanout, fanout-max)
#
# Needs a release build (make release) and the peers built (../shared/peers/setup.sh).
# Env: TESTS (single-node tests), TWO_NODE_TESTS (empty: none), PUBLISH_TEST=0|1, SKIP_GO=1, plus bench.sh's size knobs.
set -euo pipefail
cd "$(dirname "$0")/../.."
source Benchmarks/scripts/peers_common.sh
CONFIG="$ROOT/config/examples/bench-redis.json"
TESTS="${TESTS-fanout fanout-max recovery-storm}"
TWO_NODE_TESTS="${TWO_NODE_TESTS-fanout fanout-max}"

# --- single node, and publish with history (one subscriber, unpaced) -------------------------
single_node_suite centrifuge-go-redis "$CONFIG" strata-redis redis

# --- two nodes on one Redis: subscribers on B, publishes through A ----------------------------
for t in $TWO_NODE_TESTS; do
    start_redis; R="$LAST"
    start_go 18000; A="$LAST"
    start_go 18001; B="$LAST"
    PROTO=centrifuge-v1 WS_URL=ws://127.0.0.1:18001/connection/websocket PUB_URL=http://127.0.0.1:18000/publish \
        SERVER_PID="$A,$B,$R" TESTS="$t" "$PEERS/bench.sh" external | sed 's/"target":"external"/"target":"centrifuge-go-redis-2nodes"/'
    cleanup
    start_redis; R="$LAST"
    start_strata 18100 "$CONFIG"; A="$LAST"
    start_strata 18101 "$CONFIG"; B="$LAST"
    PROTO=centrifugo-v2 WS_URL=ws://127.0.0.1:18101/connection/websocket PUB_URL=http://127.0.0.1:18100/api/publish \
        PUB_MODE=api API_KEY=bench-key SERVER_PID="$A,$B,$R" TESTS="$t" "$PEERS/bench.sh" external \
        | sed 's/"target":"external"/"target":"strata-redis-2nodes"/'
    cleanup
done
