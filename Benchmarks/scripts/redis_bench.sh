#!/usr/bin/env bash
# Runs the Redis store benchmarks against a private redis-server (no persistence) pinned to
# CPU 0. Usage: Benchmarks/scripts/redis_bench.sh [extra benchmark args]
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT="${PORT:-16479}"
DIR="$(mktemp -d /tmp/strata-bench-redis.XXXXXX)"
taskset -c 0 redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no --dir "$DIR" --daemonize no \
    --logfile "$DIR/redis.log" &
REDIS_PID=$!
trap 'kill $REDIS_PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
STRATA_BENCHMARKS=1 STRATA_BENCH_REDIS="127.0.0.1:$PORT" \
    swift package --allow-writing-to-package-directory benchmark --target StrataBenchmarks --filter "redis.*" "$@"
