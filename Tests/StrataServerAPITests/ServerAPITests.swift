import Logging
import StrataAuth
import StrataBroker
import StrataConfig
import StrataCore
import StrataHistory
import StrataHub
import StrataProtocol
import Testing

@testable import StrataServerAPI

/// The server API's methods without HTTP: what each returns and does to the node.
@Suite struct ServerAPITests {
    static let config = """
        {"client":{"token":{"hmac_secret_key":"s"},"ping_interval":"-1"},"http_api":{"key":"k"},
         "channel":{"without_namespace":{"allow_subscribe_for_client":true},
          "namespaces":[{"name":"news","history_size":10,"history_ttl":"300s"}]}}
        """

    let node: Node
    let api: ServerAPI

    init() async throws {
        let config = try ConfigLoader.decode(try ConfigFormats.parse(Self.config, format: .json))
        node = try await Node(config: config, broker: LocalBroker(store: MemoryHistoryStore()), logger: Logger(label: "test"))
        api = ServerAPI(node: node)
    }

    func call(_ method: String, _ json: String) async throws -> JSONValue {
        try JSONParser.parse(try await api.call(method, try JSONParser.parse(json)))
    }

    func failure(_ method: String, _ json: String) async -> APIFailure? {
        do {
            _ = try await api.call(method, try JSONParser.parse(json))
            return nil
        } catch let failure as APIFailure {
            return failure
        } catch {
            return nil
        }
    }

    /// A connected JSON session for `user`.
    func connected(_ user: String) async throws -> ClientSession {
        let s = SessionFactory(node: node).open(codec: JSONCodec(), lane: nil)
        let token = TokenIssuer.hs256(secret: "s", user: user, now: SystemClock().nowSeconds(), ttlSeconds: 600)
        await s.handleFrame(Array(#"{"id":1,"connect":{"token":"\#(token)"}}"#.utf8))
        _ = s.queue.takeAll()
        try #require(s.isConnected)
        return s
    }

    @Test func publishReturnsThePositionAndIdempotencyRepeatsIt() async throws {
        let first = try await call("publish", #"{"channel":"news:a","data":{"n":1},"idempotency_key":"k1"}"#)
        #expect(first["offset"]?.int == 1)
        let epoch = try #require(first["epoch"]?.str)
        let again = try await call("publish", #"{"channel":"news:a","data":{"n":1},"idempotency_key":"k1"}"#)
        #expect(again["offset"]?.int == 1 && again["epoch"]?.str == epoch)
        #expect(try await node.history(channel: "news:a", filter: HistoryFilter(limit: -1)).publications.count == 1)
        // Without history there is no position: an empty result.
        #expect(try await call("publish", #"{"channel":"plain","data":1}"#) == .object([]))
        #expect(await failure("publish", #"{"channel":"nope:a","data":1}"#) == .error(.unknownChannel))
    }

    @Test func broadcastAnswersPerChannel() async throws {
        let r = try await call("broadcast", #"{"channels":["news:b","nope:x","news:c",""],"data":{"v":true}}"#)
        let responses = try #require(r["responses"]?.items)
        #expect(responses.count == 4)
        #expect(responses[0]["result"]?["offset"]?.int == 1)
        #expect(responses[1]["error"]?["code"]?.int == 102)
        #expect(responses[2]["result"]?["offset"]?.int == 1)
        #expect(responses[3]["error"]?["code"]?.int == 107)
        #expect(await failure("broadcast", #"{"channels":[],"data":1}"#) == .error(.badRequest))
    }

    @Test func subscribeUnsubscribeAndDisconnectReachTheUsersConnections() async throws {
        let a = try await connected("alice")
        let b = try await connected("bob")
        _ = try await call("subscribe", #"{"user":"alice","channel":"news:s"}"#)
        #expect(node.channelCounts()["news:s"] == 1)
        let push = try #require(a.queue.takeAll().first)
        #expect(String(decoding: push, as: UTF8.self).hasPrefix(#"{"push":{"channel":"news:s","subscribe":"#))
        #expect(b.queue.takeAll().isEmpty)
        _ = try await call("unsubscribe", #"{"user":"alice","channel":"news:s"}"#)
        #expect(node.channelCounts()["news:s"] == nil)
        _ = try await call("disconnect", #"{"user":"bob","disconnect":{"code":4001,"reason":"bye"}}"#)
        #expect(b.queue.closeReason == Disconnect(code: 4001, reason: "bye"))
        #expect(a.queue.closeReason == nil)
        // The disconnected session leaves the hub as its close completes.
        for _ in 0..<200 where node.stats.connections > 1 { try await Task.sleep(for: .milliseconds(5)) }
        let info = try await call("info", "{}")
        #expect(info["nodes"]?.items.first?["num_clients"]?.int == 1)
    }

    @Test func channelsFilterByPattern() async throws {
        let s = try await connected("u")
        for channel in ["x1", "x2", "other"] {
            await s.handleFrame(Array(#"{"id":2,"subscribe":{"channel":"\#(channel)"}}"#.utf8))
        }
        let r = try await call("channels", #"{"pattern":"x*"}"#)
        guard case .object(let members)? = r["channels"] else { Issue.record("no channels"); return }
        #expect(members.map(\.key) == ["x1", "x2"])
        #expect(r["channels"]?["x1"]?["num_clients"]?.int == 1)
    }
}

extension JSONValue {
    fileprivate var int: Int64? { if case .number(let n) = self { Int64(n) } else { nil } }
    fileprivate var str: String? { if case .string(let s) = self { s } else { nil } }
    fileprivate var items: [JSONValue] { if case .array(let a) = self { a } else { [] } }
}
