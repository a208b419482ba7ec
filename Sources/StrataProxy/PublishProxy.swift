import Foundation
import StrataConfig
import StrataProtocol

/// What the backend decided about a client's publication (`PublishResult`): the data to
/// publish instead (nil: the client's), and the server API's publish options.
package struct PublishProxyResult: Sendable, Equatable {
    package var data: [UInt8]?
    package var skipHistory = false
    package var tags: [String: String] = [:]
    package var idempotencyKey = ""
    package var delta = false
    package var version: UInt64 = 0
    package var versionEpoch = ""

    package init() {}
}

/// `publish_proxy_enabled`: a client's publication into the namespace goes through the backend
/// (`PublishRequest`), which may refuse it, change its data, or set its publish options.
package struct PublishProxy: Sendable {
    package let endpoint: ProxyEndpoint

    package init(endpoint: ProxyEndpoint) {
        self.endpoint = endpoint
    }

    /// The result, nil when none was given (the client's data is published as it is).
    package func publish(_ connection: ProxyConnection, channel: String, data: [UInt8]) async -> ProxyOutcome<PublishProxyResult> {
        switch endpoint.wire {
        case .grpc(let backend):
            return await endpoint.call(headers: connection.headers) { try await backend.publish(connection, channel: channel, data: data, $0) }
        case .http(let transport):
            guard let body = Self.encode(connection, channel: channel, data: data, config: endpoint.config) else {
                return .failed("the publication is not JSON (turn on binary_encoding for binary data)")
            }
            return await endpoint.call(transport, body: body, headers: connection.headers, decode: Self.decode)
        }
    }

    /// Keys in proto order: the connection's, `channel`, `data`, `meta`.
    static func encode(_ c: ProxyConnection, channel: String, data: [UInt8], config: StrataConfig.Proxy) -> [UInt8]? {
        var w = JSONWriter()
        w.beginObject()
        ProxyJSON.connection(&w, c, binary: config.binaryEncoding)
        ProxyJSON.channel(&w, channel)
        guard ProxyJSON.payload(&w, data, binary: config.binaryEncoding) else { return nil }
        ProxyJSON.meta(&w, c, include: config.includeConnectionMeta)
        w.endObject()
        return ProxyJSON.htmlSafe(w.bytes)
    }

    /// Unlike the other results, `data` (any JSON value, `null` included) wins over `b64data`.
    static func decode(_ result: JSONValue) throws -> PublishProxyResult {
        var r = PublishProxyResult()
        if let json = result.verbatimJSON("data") {
            r.data = JSONParser.compact(json)
        } else if case .string(let text)? = result["b64data"], !text.isEmpty {
            guard let bytes = Data(base64Encoded: text) else { throw ProxyDecodeError("b64data is not base64") }
            r.data = Array(bytes)
        }
        r.skipHistory = try result.bool("skip_history")
        r.tags = try result.stringMap("tags")
        r.idempotencyKey = try result.string("idempotency_key")
        r.delta = try result.bool("delta")
        r.version = try result.strictInteger("version")
        r.versionEpoch = try result.string("version_epoch")
        return r
    }
}
