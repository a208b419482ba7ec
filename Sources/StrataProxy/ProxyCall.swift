import Foundation
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

    init(_ description: String) {
        self.description = description
    }
}

/// One configured proxy: its settings and the transport that carries its requests.
package struct ProxyEndpoint: Sendable {
    package let config: StrataConfig.Proxy
    let transport: any ProxyTransport

    package init(config: StrataConfig.Proxy, transport: any ProxyTransport) {
        self.config = config
        self.transport = transport
    }

    /// Posts `body` with the static headers, then the forwarded ones over them (same name,
    /// any case), then `Content-Type`; reads the answer with `decode` for the result object.
    func call<Result: Sendable>(
        body: [UInt8], forwarded: [StrataConfig.HeaderField], decode: (JSONValue) throws -> Result
    ) async -> ProxyOutcome<Result> {
        // Names compare case-insensitively; Content-Type is always ours.
        let overridden = Set(forwarded.map { $0.name.lowercased() } + ["content-type"])
        var headers = config.staticHeaders.filter { !overridden.contains($0.name.lowercased()) }
        headers += forwarded.filter { $0.name.lowercased() != "content-type" }
        headers.append(.init(name: "Content-Type", value: "application/json"))
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
}
