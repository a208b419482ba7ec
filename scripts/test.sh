#!/usr/bin/env bash
# Runs every test: Swift unit tests, then the end-to-end suite that drives the real server binary
# with the pinned real clients. Installs what it needs first. (`make test` calls this.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
scripts/python-env.sh
python3 scripts/check-modules.py   # Package.swift declares exactly what each target imports
swift build --build-tests
swift test --skip-build 2>&1 | tee .build/swift-test.log
# Every fuzz harness builds (libFuzzer + ASan) and runs a short smoke run; the long runs are in
# docs/reliability.md.
FUZZ_DIR="$PWD/.build/fuzz" Tests/Fuzz/run.sh all 20000
STRATA_BIN="$PWD/.build/debug/strata" .venv/bin/python -m pytest Tests/Integration -q -p no:cacheprovider
