#!/usr/bin/env bash
# Regenerates Sources/StrataProtocol/Protobuf/client.pb.swift from docs/protocol/proto/client.proto.
#
# Run by hand after the schema or the swift-protobuf version changes, and commit the result: the
# build never runs the plugin (building protoc-gen-swift takes minutes). Needs Debian's
# protobuf-compiler (protoc). The plugin is built from the swift-protobuf checkout that
# Package.swift resolves, so the generated code matches the runtime it is compiled against.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
swift package resolve
checkout=.build/checkouts/swift-protobuf
swift build -c release --package-path "$checkout" --scratch-path .build-protoc --product protoc-gen-swift
protoc --plugin=protoc-gen-swift=.build-protoc/release/protoc-gen-swift \
    --swift_out=Sources/StrataProtocol/Protobuf --swift_opt=Visibility=Package \
    -I docs/protocol/proto docs/protocol/proto/client.proto
echo "generated Sources/StrataProtocol/Protobuf/client.pb.swift"
