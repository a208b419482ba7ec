#!/usr/bin/env bash
# Strata on its embedded LMDB store (durability: sync) beside a peer, with our load generator,
# back to back in one run. Each server is pinned to CPU 0, the generator to CPU 1. Output: JSON
# lines on stdout (tables: python3 Benchmarks/scripts/summarize.py results.jsonl).
#
#   fanout, fanout-max, recovery-storm, idle-conns   the generator's tests (Benchmarks/loadgen)
#   publish   one subscriber, 5,000 publishes back to back through the API: the cost of a publish
#             with history (HTTP + durable append + fan-out), as pub/s
#
# Needs a release build (make release) and the tools (Benchmarks/scripts/build-tools.sh).
# Env: PEER (centrifuge-go-memory, our Go peer, by default; `centrifugo` with CENTRIFUGO_BIN for
# the real Centrifugo), TESTS (empty: none), PUBLISH_TEST=0|1, SKIP_PEER=1, plus the size knobs
# FANOUT_N FANOUT_M FANOUT_SIZE FANOUT_RATE STORM_N STORM_K IDLE_N.
set -euo pipefail
cd "$(dirname "$0")/../.."
source Benchmarks/scripts/peers_common.sh
CONFIG="$ROOT/config/examples/bench-lmdb.json"
TESTS="${TESTS-fanout fanout-max recovery-storm idle-conns}"

single_node_suite "${PEER:-centrifuge-go-memory}" "$CONFIG" strata-lmdb
