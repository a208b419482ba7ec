#!/usr/bin/env bash
# Strata's Redis engine beside our Go peer's Redis engine (Debian's centrifuge library), with our
# load generator, back to back in one run. Both servers and their redis-server share CPU 0; the
# generator runs on CPU 1. Output: JSON lines on stdout (python3 Benchmarks/scripts/summarize.py).
#
#   single node:  fanout, fanout-max, recovery-storm against one server on Redis
#   publish:      one subscriber, 5,000 publishes back to back through the API: the cost of a
#                 publish with history (HTTP + script + PUB/SUB), as pub/s
#   two nodes:    subscribers on node B, publishes through node A's API (fanout, fanout-max)
#
# Needs a release build (make release) and the tools (Benchmarks/scripts/build-tools.sh).
# Env: TESTS (single-node tests), TWO_NODE_TESTS (empty: none), PUBLISH_TEST=0|1, SKIP_PEER=1, plus
# the size knobs of peers_common.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
source Benchmarks/scripts/peers_common.sh
CONFIG="$ROOT/config/examples/bench-redis.json"
TESTS="${TESTS-fanout fanout-max recovery-storm idle-conns}"
TWO_NODE_TESTS="${TWO_NODE_TESTS-fanout fanout-max}"

# --- single node, and publish with history (one subscriber, unpaced) -------------------------
single_node_suite centrifuge-go-redis "$CONFIG" strata-redis redis

# --- two nodes on one Redis: subscribers on B, publishes through A ----------------------------
for t in $TWO_NODE_TESTS; do
    start_redis; R="$LAST"
    start_go 18000 redis; A="$LAST"
    start_go 18001 redis; B="$LAST"
    gen centrifuge-go-redis-2nodes "$A,$B,$R" ws://127.0.0.1:18001/connection/websocket http://127.0.0.1:18000/api/publish v1 "$t"
    cleanup
    start_redis; R="$LAST"
    start_strata 18100 "$CONFIG"; A="$LAST"
    start_strata 18101 "$CONFIG"; B="$LAST"
    gen strata-redis-2nodes "$A,$B,$R" ws://127.0.0.1:18101/connection/websocket http://127.0.0.1:18100/api/publish v2 "$t"
    cleanup
done
