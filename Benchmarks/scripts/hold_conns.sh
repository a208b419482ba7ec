#!/usr/bin/env bash
# Many connections held at once (issue 15, target 4): HOLD_N connections (default 100,000), each
# subscribed to one shared channel, held for HOLD_S seconds (default 60; the servers ping them),
# then one publication through the API that must reach every one. Strata on LMDB, then the peers
# (PEERS, default "centrifuge-go-memory", add "centrifugo" with CENTRIFUGO_BIN), each pinned to
# CPU 0 with the generator on CPU 1. Output: JSON lines (test "hold"): connects per second, RSS
# per connection, server CPU while held, delivered / missing.
#
# Every connection is a file descriptor on both sides, so the script raises the open-files limit
# to what HOLD_N needs. Where the hard limit is lower and cannot be raised (a container without
# CAP_SYS_RESOURCE), it holds as many as the limit allows and says so on stderr and in the result
# (requested_n).
#
#   HOLD_N=100000 HOLD_S=60 PEERS="centrifuge-go-memory centrifugo" Benchmarks/scripts/hold_conns.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source Benchmarks/scripts/peers_common.sh
want="${HOLD_N:-100000}"
need=$((want + 1000))
ulimit -Hn "$need" 2>/dev/null || true
ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
limit="$(ulimit -n)"
if [ "$limit" -lt "$need" ]; then
    HOLD_N=$((limit - 1000))
    echo "open-files limit is $limit and cannot be raised here: holding $HOLD_N connections, not $want" >&2
else
    HOLD_N="$want"
fi
export HOLD_N
# Beyond ~28,000 connections from one address the client runs out of ephemeral ports.
if [ "$HOLD_N" -gt 28000 ] && [ "$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)" -gt 2000 ]; then
    echo 1024 65535 > /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null \
        || echo "could not widen net.ipv4.ip_local_port_range: connects past ~28,000 may fail" >&2
fi
for peer in ${PEERS:-centrifuge-go-memory}; do
    peer_bench "$peer" hold | sed "s/}\$/,\"requested_n\":$want}/"
done
start_node "$ROOT/config/examples/bench-lmdb.json"
TESTS=hold strata_bench 18100 "$NODE_PIDS" strata-lmdb | sed "s/}\$/,\"requested_n\":$want}/"
cleanup
