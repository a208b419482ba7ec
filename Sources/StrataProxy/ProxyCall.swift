import Foundation
import Metrics
import StrataConfig
import StrataProtocol

/// What the backend answered (docs/proxy.md): its own `disconnect`, else its `error`, else its
/// `result` (nil when it gave none — each event says what that means).
package enum ProxyAnswer<Result: Sendable>: Sendable {
    case result(Result?)
    case error(code: UInt32, message: String, temporary: Bool)
    case disconnect(code: UInt32, reason: String)
}

/// A call's end: an answer, or no usable one (unreachable, timed out, a status other than 200
/// that no transform names, a body that is not the expected JSON) with the reason for the log.
package enum ProxyOutcome<Result: Sendable>: Sendable {
    case answered(ProxyAnswer<Result>)
    case failed(String)
}

/// A result field of the wrong type or bad base64: the call counts as failed.
package struct ProxyDecodeError: Error, CustomStringConvertible {
    package let description: String

    package init(_ description: String) {
        self.description = description
    }
}

/// One configured proxy for one event: its settings, the wire that carries its requests (HTTP
/// or gRPC), and its metrics (Centrifugo's `centrifugo_proxy_*`, labelled by protocol, event and
/// name).
package struct ProxyEndpoint: Sendable {
    package let config: StrataConfig.Proxy
    package let event: ProxyEvent
    package let wire: ProxyWire
    private let duration: Timer
    private let errors: Counter
    private let inflight: Meter

    package init(config: StrataConfig.Proxy, event: ProxyEvent, wire: ProxyWire) {
        self.config = config
        self.event = event
        self.wire = wire
        let labels = [("protocol", wire.protocolName), ("type", event.rawValue), ("name", config.name)]
        duration = Timer(label: "centrifugo_proxy_duration_seconds", dimensions: labels)
        errors = Counter(label: "centrifugo_proxy_errors", dimensions: labels)
        inflight = Meter(label: "centrifugo_proxy_inflight_requests", dimensions: labels)
    }

    /// An HTTP proxy.
    package init(config: StrataConfig.Proxy, event: ProxyEvent, transport: any ProxyTransport) {
        self.init(config: config, event: event, wire: .http(transport))
    }

    /// Headers of the connection this proxy forwards (lower-cased names).
    package var forwardedHeaderNames: [String] { config.httpHeaders }
    /// Names of the connect command's emulated headers this proxy forwards (lower-cased).
    package var emulatedHeaderNames: [String] { config.emulatedHeaders }
    /// Metadata keys of a uni_grpc connection this proxy forwards (as written).
    package var forwardedMetadataKeys: [String] { config.grpcMetadata }

    /// Refreshes read only the result: the backend's error or disconnect means "expired".
    private var resultOnly: Bool { event == .refresh || event == .subRefresh }

    /// The request's headers (HTTP) or metadata (gRPC, `grpc`: keys lower-cased), each layer
    /// over the one before for the same name (any case): static, then the emulated ones this
    /// proxy lists, then the connection's — its HTTP request's headers, or for a uni_grpc
    /// connection its metadata — then for HTTP `Content-Type` (always ours). A forwarded header
    /// keeps all its values.
    func requestHeaders(_ h: ProxyHeaders, grpc: Bool = false) -> [StrataConfig.HeaderField] {
        var headers: [StrataConfig.HeaderField] = []
        func overlay(_ layer: [StrataConfig.HeaderField]) {
            let layer = grpc ? layer.map { .init(name: $0.name.lowercased(), value: $0.value) } : layer
            let names = Set(layer.map { $0.name.lowercased() })
            headers.removeAll { names.contains($0.name.lowercased()) }
            headers += layer
        }
        overlay(grpc ? config.grpc.staticMetadata : config.staticHeaders)
        overlay(h.emulated.filter { config.emulatedHeaders.contains($0.name.lowercased()) })
        if h.transport.isEmpty {
            let metadata = h.metadata.filter { config.grpcMetadata.contains($0.name) }
            overlay(grpc ? metadata : metadata.map { .init(name: ProxyHeaders.canonical($0.name), value: $0.value) })
        } else {
            overlay(h.transport.filter { config.httpHeaders.contains($0.name.lowercased()) })
        }
        if grpc {
            // Added beside a forwarded value of the same key, not over it, as Go's per-call
            // credentials are.
            if !config.grpc.credentialsKey.isEmpty {
                headers.append(.init(name: config.grpc.credentialsKey.lowercased(), value: config.grpc.credentialsValue))
            }
        } else {
            overlay([.init(name: "Content-Type", value: "application/json")])
        }
        return headers
    }

    /// Posts `body` over HTTP and reads the answer with `decode` for the result object.
    func call<Result: Sendable>(
        _ transport: any ProxyTransport, body: [UInt8], headers: ProxyHeaders, decode: (JSONValue) throws -> Result
    ) async -> ProxyOutcome<Result> {
        await measured { await exchange(transport, body: body, headers: requestHeaders(headers), decode: decode) }
    }

    /// Makes one gRPC call with this proxy's metadata, deadline and options.
    func call<Result: Sendable>(
        headers: ProxyHeaders, _ invoke: (GRPCProxyCall) async throws -> ProxyAnswer<Result>
    ) async -> ProxyOutcome<Result> {
        let call = GRPCProxyCall(
            metadata: requestHeaders(headers, grpc: true), timeoutMillis: config.timeoutMillis, binaryEncoding: config.binaryEncoding,
            includeMeta: config.includeConnectionMeta)
        return await measured {
            do {
                let answer = try await invoke(call)
                if resultOnly, case .result = answer {} else if resultOnly { return .answered(.result(nil)) }
                return .answered(answer)
            } catch {
                return .failed("\(config.endpoint): \(error)")
            }
        }
    }

    /// Counts one call in the proxy metrics (an error is a call without a usable answer, not
    /// the backend's own `error`).
    private func measured<Result: Sendable>(_ exchange: () async -> ProxyOutcome<Result>) async -> ProxyOutcome<Result> {
        inflight.increment()
        let started = ContinuousClock.now
        let outcome = await exchange()
        let elapsed = ContinuousClock.now - started
        duration.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        inflight.decrement()
        if case .failed = outcome { errors.increment() }
        return outcome
    }

    private func exchange<Result: Sendable>(
        _ transport: any ProxyTransport, body: [UInt8], headers: [StrataConfig.HeaderField], decode: (JSONValue) throws -> Result
    ) async -> ProxyOutcome<Result> {
        let status: Int
        let answer: [UInt8]
        do {
            (status, answer) = try await transport.post(config.endpoint, body: body, headers: headers, timeoutMillis: config.timeoutMillis)
        } catch {
            return .failed("\(config.endpoint): \(error)")
        }
        guard status == 200 else {
            guard let transform = config.statusTransforms.first(where: { $0.statusCode == status }) else {
                return .failed("\(config.endpoint) answered \(status)")
            }
            switch transform.outcome {
            case .error(let code, let message, let temporary): return .answered(.error(code: code, message: message, temporary: temporary))
            case .disconnect(let code, let reason): return .answered(.disconnect(code: code, reason: reason))
            }
        }
        do {
            let envelope = try JSONParser.parse(answer)
            guard case .object = envelope else { throw ProxyDecodeError("the answer is not a JSON object") }
            if resultOnly {
                return .answered(.result(try envelope.object("result").map(decode)))
            }
            if let disconnect = try envelope.object("disconnect") {
                return .answered(.disconnect(code: try disconnect.uint32("code"), reason: try disconnect.string("reason")))
            }
            if let error = try envelope.object("error") {
                return .answered(
                    .error(code: try error.uint32("code"), message: try error.string("message"), temporary: try error.bool("temporary")))
            }
            guard let result = try envelope.object("result") else { return .answered(.result(nil)) }
            return .answered(.result(try decode(result)))
        } catch {
            return .failed("\(config.endpoint): unusable answer (\(error))")
        }
    }
}

extension JSONValue {
    /// A payload field of a result: `b64<name>` (standard base64) when non-empty, else `<name>`'s
    /// JSON as sent (a `null` is the four bytes `null`); nil when neither is there.
    func payload(_ name: String) throws -> [UInt8]? {
        if case .string(let text)? = self["b64" + name], !text.isEmpty {
            guard let bytes = Data(base64Encoded: text) else { throw ProxyDecodeError("b64\(name) is not base64") }
            return Array(bytes)
        }
        return verbatimJSON(name).map { JSONParser.compact($0) }
    }

    /// An integer that must be a JSON number (Go takes no `"10"` for an integer field).
    func strictInteger<T: FixedWidthInteger>(_ key: String, as: T.Type = T.self) throws -> T {
        guard let v = self[key], !v.isNull else { return 0 }
        guard case .number(let text) = v, let i = T(text) else { throw ProxyDecodeError("\(key) must be an integer") }
        return i
    }
}
