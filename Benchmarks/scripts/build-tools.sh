#!/usr/bin/env bash
# Builds the benchmark tools offline from Debian packages (Go in GOPATH mode, no network): the
# load generator of Benchmarks/loadgen (golang-go, gorilla/websocket) and the Go peer of
# Benchmarks/peer (the centrifuge library v0.15 as Debian packages it). Output in
# ${STRATA_BENCH_TOOLS:-$HOME/.cache/strata-bench}/bin: strata-loadgen, strata-bench-peer.
#
#   Benchmarks/scripts/build-tools.sh          # SKIP_APT=1 skips the package install
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${SKIP_APT:-0}" != 1 ]; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
        golang-go golang-github-gorilla-websocket-dev util-linux \
        golang-github-centrifugal-centrifuge-dev golang-github-centrifugal-protocol-dev \
        golang-github-fzambia-eagle-dev golang-github-igm-sockjs-go-dev golang-github-mna-redisc-dev \
        golang-github-gomodule-redigo-dev redis-server >/dev/null
    # (the centrifuge package does not depend on everything it imports: protocol, eagle,
    # sockjs-go, redisc and redigo are named here)
fi
OUT="${STRATA_BENCH_TOOLS:-$HOME/.cache/strata-bench}"
mkdir -p "$OUT/bin" "$OUT/gopath" "$OUT/gocache"
export GO111MODULE=off GOFLAGS= GOPROXY=off GOPATH="$OUT/gopath:/usr/share/gocode" GOCACHE="$OUT/gocache"
(cd Benchmarks/loadgen && go vet . && go build -o "$OUT/bin/strata-loadgen" .)
(cd Benchmarks/peer && go vet . && go build -o "$OUT/bin/strata-bench-peer" .)
echo "built: $OUT/bin/strata-loadgen $OUT/bin/strata-bench-peer"
