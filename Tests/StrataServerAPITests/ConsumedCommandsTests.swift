import Logging
import StrataBroker
import StrataConfig
import StrataCore
import StrataHistory
import StrataHub
import StrataProtocol
import StrataTesting
import Testing

@testable import StrataServerAPI

/// Outbox rows through the server API: what is applied, skipped for good, or retried.
@Suite struct ConsumedCommandsTests {
    func api(broker: (any Broker)? = nil) async throws -> (ServerAPI, MemoryHistoryStore) {
        let json = #"{"channel":{"namespaces":[{"name":"orders","history_size":10,"history_ttl":"300s"}]}}"#
        let config = try ConfigLoader.decode(try ConfigFormats.parse(json, format: .json))
        let store = MemoryHistoryStore()
        let node = try await Node(config: config, broker: broker ?? LocalBroker(store: store), logger: Logger(label: "test"))
        return (ServerAPI(node: node), store)
    }

    func consume(_ api: ServerAPI, _ method: String, _ payload: String) async -> ConsumedCommandOutcome {
        await api.consume(method: method, payload: Array(payload.utf8))
    }

    @Test func commandsAreAppliedDirectlyOrFromTheEnvelope() async throws {
        let (api, store) = try await api()
        #expect(await consume(api, "publish", #"{"channel":"orders:1","data":{"n":1}}"#) == .applied)
        #expect(await consume(api, "", #"{"method":"publish","payload":{"channel":"orders:1","data":{"n":2}}}"#) == .applied)
        // Debezium writes a JSONB payload as a JSON string.
        #expect(await consume(api, "", #"{"method":"publish","payload":"{\"channel\":\"orders:1\",\"data\":{\"n\":3}}"}"#) == .applied)
        #expect(await consume(api, "broadcast", #"{"channels":["orders:1","orders:2"],"data":{"n":4}}"#) == .applied)
        let history = try await store.history(channel: "orders:1", filter: HistoryFilter(limit: 10), metaTTLSeconds: 60)
        #expect(history.publications.map { String(decoding: $0.data, as: UTF8.self) } == [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#, #"{"n":4}"#])
    }

    @Test(arguments: [
        ("publish_all", #"{"channel":"orders:1","data":{}}"#),
        ("history", #"{"channel":"orders:1"}"#),
        ("publish", #""a string""#),
        ("publish", "not json"),
        ("publish", #"{"channel":7,"data":{}}"#),
        ("publish", #"{"data":{}}"#),
        ("publish", #"{"channel":"nowhere:1","data":{}}"#),
        ("", #"{"payload":{}}"#),
        ("", "[]"),
    ])
    func whatCannotSucceedIsSkipped(_ method: String, _ payload: String) async throws {
        let (api, _) = try await api()
        guard case .skipped = await consume(api, method, payload) else {
            Issue.record("\(method) \(payload) not skipped")
            return
        }
    }

    @Test func internalErrorsAreRetried() async throws {
        let (api, _) = try await api(broker: FaultyBroker(MemoryHistoryStore(), failPublish: true))
        guard case .retry = await consume(api, "publish", #"{"channel":"orders:1","data":{}}"#) else {
            Issue.record("a failed publish was not retried")
            return
        }
        guard case .retry = await consume(api, "broadcast", #"{"channels":["orders:1"],"data":{}}"#) else {
            Issue.record("a failed broadcast was not retried")
            return
        }
    }
}
