import Logging
import StrataAuth
import StrataBroker
import StrataConfig
import StrataCore
import StrataHistory
import StrataProtocol
import StrataProxy
import Testing

@testable import StrataHub

extension ClientSession {
    /// A session speaking the JSON protocol, as the WebSocket transport makes them.
    convenience init(node: Node) {
        self.init(node: node, codec: JSONCodec())
    }
}

/// A node on the memory store plus helpers to drive client sessions without a network.
struct SessionHarness {
    let node: Node
    let clock: ManualClock
    /// The node's store, to append behind the node's back (a publication lost on the way).
    let store: MemoryHistoryStore
    static let secret = "secret"

    static let defaultConfig = """
        {"client":{"token":{"hmac_secret_key":"secret"},"ping_interval":"-1"},
         "channel":{"without_namespace":{"allow_subscribe_for_client":true},
          "namespaces":[
           {"name":"chat","history_size":10,"history_ttl":"300s","force_recovery":true,"allow_subscribe_for_client":true,
            "allow_publish_for_subscriber":true,"allow_history_for_subscriber":true,"presence":true,"join_leave":true,
            "force_push_join_leave":true,"allow_presence_for_subscriber":true},
           {"name":"cache","history_size":1,"history_ttl":"300s","force_recovery":true,"force_recovery_mode":"cache",
            "allow_subscribe_for_client":true},
           {"name":"locked","history_size":10,"history_ttl":"300s"}]}}
        """

    /// `broker` wraps the store in something other than a `LocalBroker` (a test double).
    /// `proxyTransport` answers the proxies' calls (a backend in memory).
    init(
        config json: String = SessionHarness.defaultConfig, broker: ((MemoryHistoryStore) -> any Broker)? = nil,
        proxyTransport: (any ProxyTransport)? = nil
    ) async throws {
        let root = try ConfigFormats.parse(json, format: .json)
        let config = try ConfigLoader.decode(root)
        clock = ManualClock(millis: SystemClock().nowMillis())
        store = MemoryHistoryStore(clock: clock)
        node = try await Node(
            config: config, broker: broker?(store) ?? LocalBroker(store: store), clock: clock,
            logger: Logger(label: "test"), proxyTransport: proxyTransport)
    }

    func token(_ user: String, ttl: Int64 = 3600) -> String {
        TokenIssuer.hs256(secret: Self.secret, user: user, now: clock.nowSeconds(), ttlSeconds: ttl)
    }

    /// A token for `user` expiring in an hour with `claims` (JSON members, e.g. `"channels":["a"]`) added.
    func token(_ user: String, claims: String) -> String {
        let now = clock.nowSeconds()
        let payload = #"{"sub":"\#(user)","exp":\#(now + 3600),"iat":\#(now)"# + (claims.isEmpty ? "" : "," + claims) + "}"
        return TokenIssuer.hs256(secret: Self.secret, payload: Array(payload.utf8))
    }

    /// A connected session for `user`, its connect reply already consumed.
    func connected(_ user: String = "42") async throws -> ClientSession {
        let s = ClientSession(node: node)
        await s.handleFrame(Array(#"{"id":1,"connect":{"token":"\#(token(user))"}}"#.utf8))
        let replies = try messages(s)
        try #require(replies.count == 1)
        try #require(replies[0]["connect"] != nil)
        return s
    }

    /// Everything queued for the session, parsed.
    func messages(_ s: ClientSession) throws -> [JSONValue] {
        try s.queue.takeAll().map { try JSONParser.parse($0) }
    }

    func send(_ s: ClientSession, _ json: String) async {
        await s.handleFrame(Array(json.utf8))
    }

    func publish(_ channel: String, _ text: String) async throws -> StreamPosition {
        try await node.publish(channel: channel, data: Array("{\"t\":\"\(text)\"}".utf8))
    }
}

extension JSONValue {
    var int: Int64? {
        if case .number(let n) = self { return Int64(n) }
        return nil
    }

    var str: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var items: [JSONValue] {
        if case .array(let a) = self { return a }
        return []
    }
}
