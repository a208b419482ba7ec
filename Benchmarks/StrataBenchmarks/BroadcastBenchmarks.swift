import Benchmark
import Logging
import StrataBroker
import StrataConfig
import StrataCore
import StrataHistory
import StrataHub
import StrataProtocol

// Queueing one publication for N subscribers of a channel: the hub's fan-out as a node does it
// for a publication from its broker (per subscriber: the position check, the shared encoded frame,
// the append to its outbound queue). The sessions are connected and subscribed through the client
// protocol, as a transport would, but have no socket: their queues are emptied between iterations,
// outside the measurement. Divide by N for the cost per subscriber (docs/benchmarks.md).

/// A node with `n` sessions subscribed to one positioned channel, made once per size.
final class BroadcastFixture: Sendable {
    static let config = """
        {"client":{"insecure":true,"ping_interval":"-1"},
         "channel":{"namespaces":[{"name":"bench","history_size":10,"history_ttl":"300s","force_positioning":true,
          "allow_subscribe_for_client":true,"allow_tags_filter":true}]}}
        """
    /// What subscribers of the filtered variants ask for (docs/tags-filter.md): two leaves, one
    /// of them a decimal comparison.
    static let filter = #"{"op":"and","nodes":[{"key":"ticker","cmp":"eq","val":"AAPL"},{"key":"price","cmp":"gte","val":"100"}]}"#

    /// Which subscribers filter and what the publications' tags are.
    enum Variant: Hashable, Sendable {
        case unfiltered
        /// Every subscriber filters; every publication matches (the filter's cost per delivery).
        case filteredMatching
        /// Every subscriber filters; no publication matches (a dropped delivery's cost).
        case filteredDropped

        var tags: [String: String] {
            self == .filteredDropped ? ["ticker": "MSFT", "price": "150.25"] : ["ticker": "AAPL", "price": "150.25"]
        }
    }
    static let channel = "bench:broadcast"
    static let payload = Array(#"{"text":"a publication of a realistic size, for a chat or a dashboard","n":123456}"#.utf8)

    let node: Node
    let sessions: [ClientSession]
    let epoch: String
    let offset = Locked<UInt64>(0)

    let variant: Variant

    init(subscribers n: Int, variant: Variant = .unfiltered) async throws {
        self.variant = variant
        let config = try ConfigLoader.decode(try ConfigFormats.parse(Self.config, format: .json))
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        node = try await Node(config: config, broker: LocalBroker(store: MemoryHistoryStore()), logger: logger)
        let factory = SessionFactory(node: node)
        var sessions: [ClientSession] = []
        for _ in 0..<n {
            let s = factory.open(codec: JSONCodec())
            await s.handleFrame(Array(#"{"id":1,"connect":{}}"#.utf8))
            let tf = variant == .unfiltered ? "" : #","tf":\#(Self.filter)"#
            await s.handleFrame(Array(#"{"id":2,"subscribe":{"channel":"\#(Self.channel)"\#(tf)}}"#.utf8))
            _ = s.queue.takeAll()
            sessions.append(s)
        }
        self.sessions = sessions
        epoch = try await node.history(channel: Self.channel, filter: .topOnly).top.epoch
    }

    /// The next publication of the channel, in order (each subscriber's position check passes).
    func next() -> AppendResult {
        let offset = self.offset.withLock { o in
            o += 1
            return o
        }
        var publication = Publication(data: Self.payload, tags: variant.tags)
        publication.offset = offset
        return AppendResult(position: StreamPosition(offset: offset, epoch: epoch), publication: publication)
    }

    func drain() {
        for s in sessions { _ = s.queue.takeAll() }
    }

    struct Key: Hashable, Sendable {
        let n: Int
        let variant: Variant
    }

    static let made = Locked<[Key: BroadcastFixture]>([:])

    static func fixture(_ n: Int, _ variant: Variant = .unfiltered) async throws -> BroadcastFixture {
        let key = Key(n: n, variant: variant)
        if let f = made.withLock({ $0[key] }) { return f }
        let f = try await BroadcastFixture(subscribers: n, variant: variant)
        made.withLock { $0[key] = f }
        return f
    }
}

func broadcastBenchmarks() {
    for n in [1, 200, 10_000] {
        Benchmark(
            "broadcast to \(n) subscribers",
            configuration: .init(metrics: [.wallClock, .cpuTotal, .mallocCountTotal], maxIterations: 2000)
        ) { benchmark in
            let fixture = try await BroadcastFixture.fixture(n)
            let result = fixture.next()
            benchmark.startMeasurement()
            fixture.node.handlePublication(channel: BroadcastFixture.channel, result: result)
            benchmark.stopMeasurement()
            fixture.drain()
        }
    }
    // Tags filters (docs/tags-filter.md): the same fan-out when every subscriber has a filter.
    for (name, variant) in [("matching", BroadcastFixture.Variant.filteredMatching), ("dropped", .filteredDropped)] {
        Benchmark(
            "broadcast to 10000 subscribers, tags filter \(name)",
            configuration: .init(metrics: [.wallClock, .cpuTotal, .mallocCountTotal], maxIterations: 2000)
        ) { benchmark in
            let fixture = try await BroadcastFixture.fixture(10_000, variant)
            let result = fixture.next()
            benchmark.startMeasurement()
            fixture.node.handlePublication(channel: BroadcastFixture.channel, result: result)
            benchmark.stopMeasurement()
            fixture.drain()
        }
    }
}
