#!/usr/bin/env bash
# A/B of two Strata builds on concurrent publishes: OLD and NEW binaries alternate, each on a fresh
# node and its own fresh redis-server (pinned to CPU 0), publishers (Benchmarks/publish-load) on
# CPU 1. Output: JSON lines on stdout, targets strata-old / strata-new.
#
#   OLD=/path/to/strata NEW=.build/release/strata ROUNDS=6 CONC=8 Benchmarks/scripts/publish_load_ab.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source Benchmarks/scripts/peers_common.sh
CONFIG="$ROOT/config/examples/bench-redis.json"
TOOL="$(mktemp -d /tmp/publish-load.XXXXXX)"
(cd Benchmarks/publish-load && GO111MODULE=off GOPATH="$TOOL" GOCACHE="$TOOL/cache" go build -o "$TOOL/publish-load" .)
for _ in $(seq 1 "${ROUNDS:-6}"); do
    for side in old new; do
        if [ "$side" = old ]; then STRATA="$OLD"; else STRATA="${NEW:-$ROOT/.build/release/strata}"; fi
        start_node "$CONFIG" redis
        sleep 1
        taskset -c 1 "$TOOL/publish-load" -url http://127.0.0.1:18100/api/publish -key bench-key -server-pid "$NODE_PIDS" \
            -target "strata-$side" -conc "${CONC:-8}" -duration "${DURATION:-4s}"
        cleanup
    done
done
rm -rf "$TOOL"
