import StrataCore
import StrataProtocol

/// API commands from asynchronous consumers (docs/outbox.md): the outbox row's `method` and
/// `payload`, checked as the HTTP API checks a request, then run. What cannot succeed is
/// skipped (logged by the consumer, never retried); only an internal error asks for a retry.
extension ServerAPI {
    /// The methods a consumer runs (Centrifugo's: the ones that change something); others are skipped.
    package static let consumedMethods: Set<String> = [
        "publish", "broadcast", "subscribe", "unsubscribe", "disconnect", "history_remove", "refresh",
    ]

    /// `method` empty: `payload` is `{"method": …, "payload": …}`, where the inner payload may
    /// also be a JSON string holding the request (as Debezium writes a JSONB column).
    package func consume(method: String, payload: [UInt8]) async -> ConsumedCommandOutcome {
        var method = method
        var payload = payload
        if method.isEmpty {
            guard let envelope = try? JSONParser.parse(payload), case .object = envelope, case .string(let m)? = envelope["method"] else {
                return .skipped("malformed message: expected {\"method\":…,\"payload\":…}")
            }
            method = m
            if case .string(let inner)? = envelope["payload"] {
                payload = Array(inner.utf8)
            } else {
                payload = envelope.verbatimJSON("payload") ?? []
            }
        }
        guard Self.consumedMethods.contains(method) else { return .skipped("unsupported API command method \"\(method)\"") }
        guard let params = try? JSONParser.parse(payload), case .object = params else { return .skipped("invalid data: not a JSON object") }
        do {
            try APIRequestSchema.check(method, params)
        } catch {
            return .skipped("invalid data: \(error.field) has the wrong type")
        }
        let result: [UInt8]
        do {
            result = try await call(method, params)
        } catch {
            switch error {
            case .error(let e) where e.code == StrataError.internalError.code: return .retry("\(e.code) \(e.message)")
            case .error(let e): return .skipped("\(e.code) \(e.message)")
            case .unencodable: return .applied
            }
        }
        // A broadcast answers per channel: an internal error on any channel retries the whole
        // command (idempotency keys keep the channels that worked from getting it twice).
        if method == "broadcast", let answer = try? JSONParser.parse(result), case .array(let responses)? = answer["responses"] {
            for response in responses {
                if case .number(let code)? = response["error"]?["code"], code == String(StrataError.internalError.code) {
                    return .retry("broadcast: internal error on a channel")
                }
            }
        }
        return .applied
    }
}
