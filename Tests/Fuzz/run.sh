#!/usr/bin/env bash
# Builds and runs the libFuzzer harnesses for StrataDelta (docs/delta-fuzzing.md) and for the
# Protobuf command decoder of StrataProtocol (docs/protobuf.md).
#
#   Tests/Fuzz/run.sh [apply|roundtrip|protobuf|all] [RUNS]      (default: all, 10000000 runs each)
#
# Each harness is compiled with swiftc together with the sources it tests (no package build, so
# it never waits for SwiftPM's lock; the protobuf harness takes SwiftProtobuf's sources from the
# package checkout, so `swift package resolve` must have run), with libFuzzer and
# AddressSanitizer (LeakSanitizer included) from the Swift toolchain's own clang runtime. Work goes to a scratch dir under /tmp
# (FUZZ_DIR to override): the binary, a corpus seeded from the fossil vectors when they are found,
# the log, and crash artifacts if any. Extra libFuzzer flags can be passed in FUZZ_FLAGS.
set -euo pipefail
cd "$(dirname "$0")/../.."

which="${1:-all}"
runs="${2:-10000000}"
scratch="${FUZZ_DIR:-/tmp/strata-fuzz}"
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

# The delta harnesses: one module with StrataDelta's sources.
build_delta() {
    local dir="$1" harness="$2"
    swiftc -sanitize=fuzzer,address -parse-as-library -O -wmo -module-name StrataDeltaFuzz \
        Sources/StrataDelta/*.swift "Tests/Fuzz/$harness" -o "$dir/fuzzer"
}

# The Protobuf harness: SwiftProtobuf and StrataCore as static libraries (instrumented too, so
# the generated decoder's branches count as coverage), then StrataProtocol with the harness.
build_protobuf() {
    local dir="$1" harness="$2"
    local checkout=.build/checkouts/swift-protobuf/Sources/SwiftProtobuf
    [[ -d "$checkout" ]] || { echo "no $checkout: run 'swift package resolve' first" >&2; return 1; }
    local flags=(-sanitize=fuzzer,address -parse-as-library -O -wmo -package-name strata -I "$dir/modules")
    mkdir -p "$dir/modules"
    swiftc "${flags[@]}" -module-name SwiftProtobuf -emit-library -static -emit-module \
        -emit-module-path "$dir/modules/SwiftProtobuf.swiftmodule" "$checkout"/*.swift -o "$dir/libSwiftProtobuf.a" &&
    swiftc "${flags[@]}" -module-name StrataCore -emit-library -static -emit-module \
        -emit-module-path "$dir/modules/StrataCore.swiftmodule" Sources/StrataCore/*.swift -o "$dir/libStrataCore.a" &&
    swiftc "${flags[@]}" -module-name StrataProtocol Sources/StrataProtocol/*.swift Sources/StrataProtocol/Protobuf/*.swift \
        "Tests/Fuzz/$harness" -L "$dir" -lSwiftProtobuf -lStrataCore -o "$dir/fuzzer"
}

# Seeds for the protobuf harness: the spec's example frames and a few commands of every kind.
seed_protobuf() {
    local corpus="$1"
    local i=0 frame
    for frame in "09 08 01 22 05 0a 03 61 62 63" "04 08 01 22 00" "00" "0b 08 02 2a 07 0a 05 63 68 61 74 31" \
        "0d 08 03 3a 09 0a 01 63 12 04 7b 7d 0a 0a" "0c 08 04 52 08 0a 01 63 38 05 40 01" "05 08 05 6a 01 0a" \
        "04 08 06 5a 00 00" "0e 08 07 2a 0a 0a 01 63 18 01 32 01 45 38 05"; do
        printf '%s' "$frame" | xxd -r -p > "$corpus/seed-$i"
        i=$((i + 1))
    done
}

fuzz() {
    local name="$1" harness="$2"
    local dir="$scratch/$name"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    echo "== building $name fuzzer"
    # ld.gold prints a warning per ASan register helper ("Cannot export local symbol"): harmless,
    # so the compiler output goes to a log that is shown only when the build fails.
    local build=build_delta
    [[ "$name" == protobuf ]] && build=build_protobuf
    $build "$dir" "$harness" > "$dir/build.log" 2>&1 || {
        grep -v 'Cannot export local symbol' "$dir/build.log" >&2
        return 1
    }
    if [[ "$name" == protobuf ]]; then seed_protobuf "$dir/corpus"; else seed "$name" "$dir/corpus"; fi
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
    protobuf) fuzz protobuf ProtobufFuzzer.swift ;;
    all) fuzz apply ApplyFuzzer.swift && fuzz roundtrip RoundTripFuzzer.swift && fuzz protobuf ProtobufFuzzer.swift ;;
    *) echo "usage: $0 [apply|roundtrip|protobuf|all] [RUNS]" >&2; exit 2 ;;
esac
