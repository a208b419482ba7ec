#!/usr/bin/env bash
# A/B of two Strata builds on concurrent publishes: OLD and NEW binaries alternate, each on a fresh
# node and its own fresh redis-server (pinned to CPU 0), publishers (Benchmarks/publish-load) on
# CPU 1. Output: JSON lines on stdout, targets strata-old / strata-new.
#
#   OLD=/path/to/strata NEW=.build/release/strata ROUNDS=6 CONC=8 Benchmarks/scripts/publish_load_ab.sh
set -euo pipefail
# Absolute paths: each node starts in a working directory of its own.
OLD="$(realpath "${OLD:?OLD must name a strata binary}")"
[ -z "${NEW:-}" ] || NEW="$(realpath "$NEW")"
cd "$(dirname "$0")/../.."
source Benchmarks/scripts/peers_common.sh
CONFIG="$ROOT/config/examples/bench-redis.json"
build_publish_load
for _ in $(seq 1 "${ROUNDS:-6}"); do
    for side in old new; do
        if [ "$side" = old ]; then STRATA="$OLD"; else STRATA="${NEW:-$ROOT/.build/release/strata}"; fi
        start_node "$CONFIG" redis
        publish_load http://127.0.0.1:18100/api/publish "$NODE_PIDS" "strata-$side" "${CONC:-8}" bench-key
        cleanup
    done
done
rm -rf "$PUBLISH_LOAD_DIR"
