#!/usr/bin/env bash
# Builds and runs the libFuzzer harnesses (docs/reliability.md): StrataDelta's applier and
# encoder, the Protobuf and JSON decoders of the client protocol (with tags filters and the
# server API's request schema), the stored publication record, the config loaders (JSON, YAML,
# TOML) and the RESP reader.
#
#   Tests/Fuzz/run.sh [apply|roundtrip|protobuf|json|record|config|resp|all] [RUNS]   (default: all, 10000000 runs each)
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
    swiftc -sanitize=fuzzer,address -parse-as-library -O -wmo -package-name strata -module-name StrataDeltaFuzz \
        Sources/StrataDelta/*.swift "Tests/Fuzz/$harness" -o "$dir/fuzzer"
}

# The Protobuf and JSON harnesses: SwiftProtobuf and StrataCore as static libraries (instrumented
# too, so the generated decoder's branches count as coverage), then StrataProtocol with the
# harness (and, for JSON, the server API's request schema, which reads only StrataProtocol).
build_protobuf() {
    local dir="$1" harness="$2"
    local extra=()
    [[ "$harness" == JSONProtocolFuzzer.swift ]] && extra=(Sources/StrataServerAPI/APIRequestSchema.swift)
    local checkout=.build/checkouts/swift-protobuf/Sources/SwiftProtobuf
    [[ -d "$checkout" ]] || { echo "no $checkout: run 'swift package resolve' first" >&2; return 1; }
    local shared="$scratch/shared"
    local flags=(-sanitize=fuzzer,address -parse-as-library -O -wmo -package-name strata -I "$dir/modules" -I "$shared/modules")
    mkdir -p "$dir/modules" "$shared/modules"
    # SwiftProtobuf takes a minute to build instrumented: once per run of this script, for both harnesses.
    if [[ -z "${protobuf_built:-}" ]]; then
        swiftc "${flags[@]}" -module-name SwiftProtobuf -emit-library -static -emit-module \
            -emit-module-path "$shared/modules/SwiftProtobuf.swiftmodule" "$checkout"/*.swift -o "$shared/libSwiftProtobuf.a" || return 1
        protobuf_built=1
    fi
    swiftc "${flags[@]}" -module-name StrataCore -emit-library -static -emit-module \
        -emit-module-path "$dir/modules/StrataCore.swiftmodule" Sources/StrataCore/*.swift -o "$dir/libStrataCore.a" &&
    swiftc "${flags[@]}" -module-name StrataProtocol Sources/StrataProtocol/*.swift Sources/StrataProtocol/Protobuf/*.swift \
        "${extra[@]}" "Tests/Fuzz/$harness" -L "$dir" -L "$shared" -lSwiftProtobuf -lStrataCore -o "$dir/fuzzer"
}

# StrataCore, StrataCompression (zstd and zlib through their system module maps) and
# StrataRecordFormat as static libraries, for the record and RESP harnesses.
build_record_libs() {
    local dir="$1"
    local flags=(-sanitize=fuzzer,address -parse-as-library -O -wmo -package-name strata -I "$dir/modules")
    mkdir -p "$dir/modules"
    swiftc "${flags[@]}" -module-name StrataCore -emit-library -static -emit-module \
        -emit-module-path "$dir/modules/StrataCore.swiftmodule" Sources/StrataCore/*.swift -o "$dir/libStrataCore.a" &&
    swiftc "${flags[@]}" -module-name StrataCompression -I Sources/CZstd -I Sources/CZlib -emit-library -static -emit-module \
        -emit-module-path "$dir/modules/StrataCompression.swiftmodule" Sources/StrataCompression/*.swift \
        -o "$dir/libStrataCompression.a"
}

# The record harness: StrataRecordFormat with the harness, on the libraries above.
build_record() {
    local dir="$1" harness="$2"
    build_record_libs "$dir" &&
    swiftc -sanitize=fuzzer,address -parse-as-library -O -wmo -package-name strata -I "$dir/modules" -module-name StrataRecordFormat \
        -I Sources/CZstd -I Sources/CZlib Sources/StrataRecordFormat/*.swift "Tests/Fuzz/$harness" \
        -L "$dir" -lStrataCompression -lStrataCore -lzstd -lz -o "$dir/fuzzer"
}

# The config harness: Yams with libyaml built here (the C with the toolchain's clang,
# instrumented like the Swift code: the parser's branches are coverage), then StrataConfig (its
# own TOML reader included) with the harness. Yams builds once per scratch directory.
build_config() {
    local dir="$1" harness="$2"
    local yams=.build/checkouts/Yams/Sources
    [[ -d "$yams" ]] || { echo "no Yams checkout: run 'swift package resolve' first" >&2; return 1; }
    local bin
    bin="$(dirname "$(readlink -f "$(command -v swiftc)")")"
    local flags=(-sanitize=fuzzer,address -parse-as-library -O -wmo -I "$dir/modules")
    mkdir -p "$dir/modules" "$dir/obj"
    if [[ ! -f "$dir/libYams.a" ]]; then
        local f
        for f in "$yams"/CYaml/src/*.c; do
            "$bin/clang" -fsanitize=fuzzer-no-link,address -O1 -g -DYAML_DECLARE_STATIC -I "$yams/CYaml/include" \
                -c "$f" -o "$dir/obj/yaml-$(basename "$f" .c).o" || return 1
        done
        ar rcs "$dir/libCYaml.a" "$dir"/obj/yaml-*.o &&
        swiftc "${flags[@]}" -module-name Yams -D SWIFT_PACKAGE -Xcc -DYAML_DECLARE_STATIC -I "$yams/CYaml/include" -emit-library -static \
            -emit-module -emit-module-path "$dir/modules/Yams.swiftmodule" "$yams"/Yams/*.swift -o "$dir/libYams.a" || return 1
    fi
    swiftc "${flags[@]}" -package-name strata -module-name StrataConfig -I "$yams/CYaml/include" \
        Sources/StrataConfig/*.swift "Tests/Fuzz/$harness" -L "$dir" -lYams -lCYaml -o "$dir/fuzzer"
}

# The RESP harness: the reader's files of StrataRedis (they need neither NIO nor the engine),
# linked with the system's hiredis, and the push message parser on StrataRecordFormat.
build_resp() {
    local dir="$1" harness="$2"
    local flags=(-sanitize=fuzzer,address -parse-as-library -O -wmo -package-name strata -I "$dir/modules")
    build_record_libs "$dir" &&
    swiftc "${flags[@]}" -module-name StrataRecordFormat -I Sources/CZstd -I Sources/CZlib -emit-library -static -emit-module \
        -emit-module-path "$dir/modules/StrataRecordFormat.swiftmodule" Sources/StrataRecordFormat/*.swift \
        -o "$dir/libStrataRecordFormat.a" &&
    swiftc "${flags[@]}" -module-name StrataRedis -I Sources/CHiredis -I Sources/CZstd -I Sources/CZlib \
        Sources/StrataRedis/Client/{RESPReader,RESPValue,RedisError}.swift Sources/StrataRedis/Engine/RedisPushMessage.swift \
        "Tests/Fuzz/$harness" -L "$dir" -lStrataRecordFormat -lStrataCompression -lStrataCore -lhiredis -lzstd -lz -o "$dir/fuzzer"
}

# Seeds for the config harness: a small config in each format (first byte: 0 JSON, 1 YAML, 2 TOML;
# the top bit set: read as Strata's config too).
seed_config() {
    local corpus="$1"
    { printf '\x80'; printf '%s' '{"client":{"token":{"hmac_secret_key":"s"},"allowed_origins":["*"]},"channel":{"namespaces":[{"name":"chat","history_size":10,"history_ttl":"300s","force_recovery":true}]},"engine":{"type":"redis","redis":{"address":["redis://127.0.0.1:6379"]}}}'; } > "$corpus/seed-json"
    { printf '\x81'; printf 'client:\n  token:\n    hmac_secret_key: s\n  ping_interval: 25s\nchannel:\n  namespaces:\n    - name: chat\n      history_size: 10\n      history_ttl: 5m\nhttp_server: {port: 8000}\nlist: &a [1, 2.5, "x", null, true]\nother: *a\n'; } > "$corpus/seed-yaml"
    { printf '\x82'; printf '[client.token]\nhmac_secret_key = "s"\n[[channel.namespaces]]\nname = "chat"\nhistory_size = 10\nhistory_ttl = "300s"\n[engine]\ntype = "memory"\nwhen = 1979-05-27T07:32:00Z\nxs = [1, 2.5, "x", true]\n'; } > "$corpus/seed-toml"
}

# Seeds for the RESP harness: the replies Strata reads (statuses, errors, integers, bulk strings,
# nested arrays, nulls) and PUB/SUB messages with each push message prefix; first byte: chunking.
seed_resp() {
    local corpus="$1"
    printf '\x03+OK\r\n-ERR bad\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*-1\r\n*0\r\n' > "$corpus/seed-0"
    printf '\x07*3\r\n$7\r\nmessage\r\n$3\r\nch1\r\n$16\r\n__p1:5:epoch__xy\r\n*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$7\r\n__j__ab\r\n' > "$corpus/seed-1"
    printf '\x00*2\r\n*3\r\n:1\r\n$1\r\ne\r\n*2\r\n$2\r\n{}\r\n$0\r\n\r\n:7\r\n' > "$corpus/seed-2"
    printf '\x05*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$20\r\n__d1:9:e:2:ab:4:cdef\r\n' > "$corpus/seed-3"
}

# Seeds for the JSON harness: client commands of every kind, a batch of two, API bodies.
seed_json() {
    local corpus="$1" i=0 text
    for text in '{"id":1,"connect":{"token":"a.b.c","subs":{"c":{"recover":true,"offset":"5","epoch":"e"}}}}' \
        '{"id":2,"subscribe":{"channel":"q:x","tf":{"op":"and","nodes":[{"key":"t","cmp":"in","vals":["a","b"]},{"op":"not","nodes":[{"key":"p","cmp":"gte","val":"1.5"}]}]}}}' \
        $'{"id":3,"publish":{"channel":"c","data":{"x":[1,2.5e3,"\\u00e9",null,true]}}}\n{"id":4,"history":{"channel":"c","limit":10,"since":{"offset":2,"epoch":"e"},"reverse":true}}' \
        '{"id":5,"rpc":{"method":"m","data":{}}}' '{"id":6,"presence":{"channel":"c"}}' '{}' \
        '{"channel":"c","data":{"a":1},"tags":{"k":"v"},"idempotency_key":"i","delta":true}' \
        '{"commands":[{"publish":{"channel":"c","data":1}},{"broadcast":{"channels":["a"],"data":2}}],"parallel":true}'; do
        printf '%s' "$text" > "$corpus/seed-$i"
        i=$((i + 1))
    done
}

# Seeds for the record harness: records as PublicationRecord.encode writes them (big-endian
# lengths): a bare payload, one with info and tags.
seed_record() {
    local corpus="$1"
    printf '%s' "00 0000000000000064 00000002 7b7d 00 00000000" | xxd -r -p > "$corpus/seed-0"
    printf '%s' "02 0000018c00000000 00000003 010203 01 00000001 75 00000001 63 ffffffff 00000002 7b7d 00000001 00000001 6b 00000001 76" \
        | tr -d ' ' | xxd -r -p > "$corpus/seed-1"
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
    [[ "$name" == protobuf || "$name" == json ]] && build=build_protobuf
    [[ "$name" == record ]] && build=build_record
    [[ "$name" == config ]] && build=build_config
    [[ "$name" == resp ]] && build=build_resp
    $build "$dir" "$harness" > "$dir/build.log" 2>&1 || {
        grep -v 'Cannot export local symbol' "$dir/build.log" >&2
        return 1
    }
    case "$name" in
        protobuf) seed_protobuf "$dir/corpus" ;;
        json) seed_json "$dir/corpus" ;;
        record) seed_record "$dir/corpus" ;;
        config) seed_config "$dir/corpus" ;;
        resp) seed_resp "$dir/corpus" ;;
        *) seed "$name" "$dir/corpus" ;;
    esac
    echo "== running $name fuzzer: $runs runs (log: $dir/fuzz.log)"
    local start=$SECONDS
    # -print_final_stats reports the executions done; LeakSanitizer is on by default with ASan.
    # shellcheck disable=SC2086
    LSAN_OPTIONS="suppressions=$PWD/Tests/Fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
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
    json) fuzz json JSONProtocolFuzzer.swift ;;
    record) fuzz record RecordFuzzer.swift ;;
    config) fuzz config ConfigFuzzer.swift ;;
    resp) fuzz resp RESPFuzzer.swift ;;
    all)
        fuzz apply ApplyFuzzer.swift && fuzz roundtrip RoundTripFuzzer.swift && fuzz protobuf ProtobufFuzzer.swift &&
            fuzz json JSONProtocolFuzzer.swift && fuzz record RecordFuzzer.swift && fuzz config ConfigFuzzer.swift &&
            fuzz resp RESPFuzzer.swift ;;
    *) echo "usage: $0 [apply|roundtrip|protobuf|json|record|config|resp|all] [RUNS]" >&2; exit 2 ;;
esac
