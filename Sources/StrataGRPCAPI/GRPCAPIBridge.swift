import GRPCCore
import StrataCore
import StrataProtocol
import StrataServerAPI
import SwiftProtobuf

/// Runs one gRPC API call through the server API (the executor the HTTP API uses, so semantics,
/// validation and error codes are the same): the API key, the request as the server API's
/// JSON, the result or error back as the response message.
struct GRPCAPIBridge: Sendable {
    let api: ServerAPI
    /// `grpc_api.key`; empty: no key asked for.
    let key: String
    /// `grpc_api.error_mode: "transport"`.
    let transportErrorsByDefault: Bool

    private static let decoding: JSONDecodingOptions = {
        var o = JSONDecodingOptions()
        o.ignoreUnknownFields = true
        return o
    }()
    private static let encoding: JSONEncodingOptions = {
        var o = JSONEncodingOptions()
        o.preserveProtoFieldNames = true
        return o
    }()

    func call<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: String, _ request: ServerRequest<Request>
    ) async throws -> ServerResponse<Response> {
        if !key.isEmpty {
            // The first value of `authorization`, exactly `apikey <key>`.
            let given = request.metadata[stringValues: "authorization"].first { _ in true }
            guard let given, ConstantTime.equals(given, "apikey \(key)") else {
                throw RPCError(code: .unauthenticated, message: "unauthenticated")
            }
        }
        let params: JSONValue
        do {
            params = try GRPCJSON.request(try request.message.jsonUTF8Bytes(options: Self.encoding))
        } catch {
            throw RPCError(code: .invalidArgument, message: "bad request")
        }
        let body: [UInt8]
        if method == "batch" {
            body = try GRPCJSON.response(result: await api.batch(params), wrapped: false)
        } else {
            let result: [UInt8]
            do throws(APIFailure) {
                result = try await api.call(method, params)
            } catch {
                let failure: StrataError
                switch error {
                case .error(let e): failure = e
                case .unencodable: failure = .apiInternal
                }
                if transportErrorsByDefault || request.metadata[stringValues: "x-centrifugo-error-mode"].contains("transport") {
                    throw RPCError(code: Self.statusCode(failure.code), message: failure.message)
                }
                var w = JSONWriter()
                w.beginObject()
                ServerAPI.writeError(&w, error)
                w.endObject()
                return ServerResponse(message: try Response(jsonUTF8Bytes: w.bytes, options: Self.decoding))
            }
            body = try GRPCJSON.response(result: result, wrapped: true)
        }
        return ServerResponse(message: try Response(jsonUTF8Bytes: body, options: Self.decoding))
    }

    /// Centrifugo's mapping of API error codes to gRPC status codes (transport error mode).
    static func statusCode(_ code: UInt32) -> RPCError.Code {
        switch code {
        case 102, 104: .notFound
        case 107, 108: .invalidArgument
        case 112: .outOfRange
        case 113: .alreadyExists
        default: .internalError
        }
    }
}
