#!/usr/bin/env bash
# Concurrent publishes with history through the HTTP API, on Redis: our Go peer's
# /api/publish beside Strata's, the same request to both, each server and its own fresh
# redis-server pinned to CPU 0, the publishers (Benchmarks/publish-load) on CPU 1. With many in
# flight the servers pipeline into Redis, so this measures the cost of a publish rather than one
# round trip. Output: JSON lines on stdout.
#
# Needs a release build (make release) and the tools (Benchmarks/scripts/build-tools.sh).
# Env: CONCS (default "1 8 32"), DURATION (default 5s), ROUNDS (default 1).
set -euo pipefail
cd "$(dirname "$0")/../.."
source Benchmarks/scripts/peers_common.sh
CONFIG="$ROOT/config/examples/bench-redis.json"
build_publish_load

for _ in $(seq 1 "${ROUNDS:-1}"); do
    for conc in ${CONCS:-1 8 32}; do
        start_redis; R="$LAST"
        start_go 18000 redis
        publish_load http://127.0.0.1:18000/api/publish "$LAST,$R" centrifuge-go-redis-api "$conc"
        cleanup
        start_node "$CONFIG" redis
        publish_load http://127.0.0.1:18100/api/publish "$NODE_PIDS" strata-redis "$conc" bench-key
        cleanup
    done
done
rm -rf "$PUBLISH_LOAD_DIR"
