#!/usr/bin/env bash
# Strata on its embedded LMDB store (durability: sync) beside the Go centrifuge peer's memory
# engine, with the load generator of ../shared/peers, back to back in one run. Each server is
# pinned to CPU 0, the generator to CPU 1. Output: JSON lines on stdout (summarize with
# ../shared/peers/summarize.py).
#
#   fanout, fanout-max, recovery-storm   as bench.sh defines them
#   publish   one subscriber, 5,000 publishes back to back through the API: the cost of a publish
#             with history (HTTP + durable append + fan-out), as pub/s
#
# Needs a release build (make release) and the peers built (../shared/peers/setup.sh).
# Env: PEER (a bench.sh target: centrifuge-go-memory by default, `centrifugo` for the real
# Centrifugo v6.9.1), TESTS (empty: none), PUBLISH_TEST=0|1, SKIP_GO=1 (skip the peer's tests),
# plus bench.sh's size knobs.
set -euo pipefail
cd "$(dirname "$0")/../.."
source Benchmarks/scripts/peers_common.sh
CONFIG="$ROOT/config/examples/bench-lmdb.json"
TESTS="${TESTS-fanout fanout-max recovery-storm}"

single_node_suite "${PEER:-centrifuge-go-memory}" "$CONFIG" strata-lmdb
