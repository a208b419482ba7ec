#!/usr/bin/env bash
# Builds Strata (release) and runs it on the embedded default configuration. (`make run` calls this.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --static-swift-stdlib --product strata   # = make release
exec .build/release/strata --config "${STRATA_CONFIG:-config/strata.json}" "$@"
