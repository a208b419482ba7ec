#!/usr/bin/env bash
# Builds and runs the libFuzzer harnesses for StrataDelta (docs/delta-fuzzing.md).
#
#   Tests/Fuzz/run.sh [apply|roundtrip|all] [RUNS]      (default: all, 10000000 runs each)
#
# Each harness is compiled with swiftc together with Sources/StrataDelta/*.swift (no package
# build, so it never waits for SwiftPM's lock), with libFuzzer and AddressSanitizer (LeakSanitizer
# included) from the Swift toolchain's own clang runtime. Work goes to a scratch dir under /tmp
# (FUZZ_DIR to override): the binary, a corpus seeded from the fossil vectors when they are found,
# the log, and crash artifacts if any. Extra libFuzzer flags can be passed in FUZZ_FLAGS.
set -euo pipefail
cd "$(dirname "$0")/../.."

which="${1:-all}"
runs="${2:-10000000}"
scratch="${FUZZ_DIR:-/tmp/strata-delta-fuzz}"
vectors="Tests/StrataDeltaTests/Vectors/fossil"

# Seeds: for every vector small enough for the input layout, the harness's framing around it.
seed() {
    local name="$1" corpus="$2"
    [[ -n "$vectors" ]] || return 0
    local file case size
    for file in "$vectors"/*.source "$vectors"/malformed/*.source; do
        case="${file%.source}"
        size=$(stat -c %s "$file")
        (( size <= 255 )) || continue
        if [[ "$name" == apply ]]; then
            { printf "\\x$(printf %02x "$size")"; cat "$file" "$case.delta"; } > "$corpus/seed-$(basename "$case")"
        elif [[ -f "$case.target" ]]; then
            local total=$(( size + $(stat -c %s "$case.target") ))
            local split=$(( total == 0 ? 0 : (size * 255 + total - 1) / total ))
            { printf '\x00'; printf "\\x$(printf %02x "$split")"; cat "$file" "$case.target"; } > "$corpus/seed-$(basename "$case")"
        fi
    done
}

fuzz() {
    local name="$1" harness="$2"
    local dir="$scratch/$name"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    echo "== building $name fuzzer"
    # ld.gold prints a warning per ASan register helper ("Cannot export local symbol"): harmless,
    # so the compiler output goes to a log that is shown only when the build fails.
    swiftc -sanitize=fuzzer,address -parse-as-library -O -wmo -module-name StrataDeltaFuzz \
        Sources/StrataDelta/*.swift "Tests/Fuzz/$harness" -o "$dir/fuzzer" > "$dir/build.log" 2>&1 || {
        grep -v 'Cannot export local symbol' "$dir/build.log" >&2
        return 1
    }
    seed "$name" "$dir/corpus"
    echo "== running $name fuzzer: $runs runs (log: $dir/fuzz.log)"
    local start=$SECONDS
    # -print_final_stats reports the executions done; LeakSanitizer is on by default with ASan.
    # shellcheck disable=SC2086
    "$dir/fuzzer" -runs="$runs" -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
        ${FUZZ_FLAGS:-} "$dir/corpus" > "$dir/fuzz.log" 2>&1 || {
        echo "!! $name fuzzer failed after $((SECONDS - start)) s; tail of $dir/fuzz.log:"
        tail -n 40 "$dir/fuzz.log"
        return 1
    }
    echo "== $name done in $((SECONDS - start)) s"
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)' "$dir/fuzz.log" || true
}

case "$which" in
    apply) fuzz apply ApplyFuzzer.swift ;;
    roundtrip) fuzz roundtrip RoundTripFuzzer.swift ;;
    all) fuzz apply ApplyFuzzer.swift && fuzz roundtrip RoundTripFuzzer.swift ;;
    *) echo "usage: $0 [apply|roundtrip|all] [RUNS]" >&2; exit 2 ;;
esac
