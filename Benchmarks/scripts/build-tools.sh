#!/usr/bin/env bash
# Builds the benchmark tools offline from Debian packages: the load generator of
# Benchmarks/loadgen (Go, against Debian's golang-go and gorilla/websocket, GOPATH mode, no
# network). Output: ${STRATA_BENCH_TOOLS:-$HOME/.cache/strata-bench}/bin/strata-loadgen.
#
#   Benchmarks/scripts/build-tools.sh          # SKIP_APT=1 skips the package install
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${SKIP_APT:-0}" != 1 ]; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
        golang-go golang-github-gorilla-websocket-dev util-linux >/dev/null
fi
OUT="${STRATA_BENCH_TOOLS:-$HOME/.cache/strata-bench}"
mkdir -p "$OUT/bin" "$OUT/gopath" "$OUT/gocache"
export GO111MODULE=off GOFLAGS= GOPROXY=off GOPATH="$OUT/gopath:/usr/share/gocode" GOCACHE="$OUT/gocache"
(cd Benchmarks/loadgen && go vet . && go build -o "$OUT/bin/strata-loadgen" .)
echo "built: $OUT/bin/strata-loadgen"
