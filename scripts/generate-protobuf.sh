#!/usr/bin/env bash
# Regenerates the committed protobuf code from docs/protocol/proto:
# - Sources/StrataProtocol/Protobuf/client.pb.swift (client.proto, the client protocol);
# - Sources/StrataGRPCAPI/Generated/api.pb.swift and api.grpc.swift (api.proto, the gRPC server
#   API: messages, and the CentrifugoApi service's server side);
# - Sources/StrataProxyGRPC/Generated/proxy.pb.swift and proxy.grpc.swift (proxy.proto, the gRPC
#   proxies: messages, and the CentrifugoProxy service's client side).
#
# Run by hand after a schema or a swift-protobuf / grpc-swift-protobuf version changes, and commit
# the result: the build never runs the plugins (building them takes minutes). Needs Debian's
# protobuf-compiler (protoc). The plugins are built from the checkouts that Package.swift resolves,
# so the generated code matches the runtime it is compiled against.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
swift package resolve
swift build -c release --package-path .build/checkouts/swift-protobuf --scratch-path .build-protoc --product protoc-gen-swift
swift build -c release --package-path .build/checkouts/grpc-swift-protobuf --scratch-path .build-protoc-grpc \
    --product protoc-gen-grpc-swift-2
protoc --plugin=protoc-gen-swift=.build-protoc/release/protoc-gen-swift \
    --swift_out=Sources/StrataProtocol/Protobuf --swift_opt=Visibility=Package \
    -I docs/protocol/proto docs/protocol/proto/client.proto
mkdir -p Sources/StrataGRPCAPI/Generated
protoc --plugin=protoc-gen-swift=.build-protoc/release/protoc-gen-swift \
    --swift_out=Sources/StrataGRPCAPI/Generated --swift_opt=Visibility=Internal \
    -I docs/protocol/proto docs/protocol/proto/api.proto
protoc --plugin=protoc-gen-grpc-swift-2=.build-protoc-grpc/release/protoc-gen-grpc-swift-2 \
    --grpc-swift-2_out=Sources/StrataGRPCAPI/Generated --grpc-swift-2_opt=Visibility=Internal,Client=false,Server=true \
    -I docs/protocol/proto docs/protocol/proto/api.proto
mkdir -p Sources/StrataProxyGRPC/Generated
protoc --plugin=protoc-gen-swift=.build-protoc/release/protoc-gen-swift \
    --swift_out=Sources/StrataProxyGRPC/Generated --swift_opt=Visibility=Internal \
    -I docs/protocol/proto docs/protocol/proto/proxy.proto
protoc --plugin=protoc-gen-grpc-swift-2=.build-protoc-grpc/release/protoc-gen-grpc-swift-2 \
    --grpc-swift-2_out=Sources/StrataProxyGRPC/Generated --grpc-swift-2_opt=Visibility=Internal,Client=true,Server=false \
    -I docs/protocol/proto docs/protocol/proto/proxy.proto
echo "generated client.pb.swift, api.pb.swift, api.grpc.swift, proxy.pb.swift and proxy.grpc.swift"
