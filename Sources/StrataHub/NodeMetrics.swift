import Atomics
import Metrics
import StrataCore
import StrataProtocol
import StrataRecovery

/// A connection's transport, as Centrifugo's metrics label it.
package enum TransportKind: String, Sendable, CaseIterable {
    case websocket, httpStream = "http_stream", sse, uniWebSocket = "uni_websocket", uniSSE = "uni_sse",
        uniHTTPStream = "uni_http_stream", uniGRPC = "uni_grpc"

    /// The position in `allCases` (metric handle tables are indexed by it).
    var index: Int { Self.allCases.firstIndex(of: self).unsafelyUnwrapped }
}

/// What a client frame carries, as Centrifugo's `frame_type` and `method` labels name it.
package enum FrameType: String, Sendable, CaseIterable {
    case serverPing = "server_ping", clientPong = "client_pong"
    case pushConnect = "push_connect", pushSubscribe = "push_subscribe", pushPublication = "push_publication"
    case pushJoin = "push_join", pushLeave = "push_leave", pushUnsubscribe = "push_unsubscribe", pushMessage = "push_message"
    case pushRefresh = "push_refresh", pushDisconnect = "push_disconnect"
    case connect, subscribe, publish, unsubscribe, rpc, presence, presenceStats = "presence_stats", history, refresh
    case subRefresh = "sub_refresh", send, unknown

    /// A received frame: a command, or with id 0 a pong (anything but `send`).
    init(received command: Command) {
        if command.id == 0, case .send = command.request {
            self = .send
        } else if command.id == 0 {
            self = .clientPong
        } else {
            self.init(command.request)
        }
    }

    /// The frame type of a command's reply (and the method of its duration and errors).
    init(_ request: Command.Request) {
        switch request {
        case .connect: self = .connect
        case .subscribe: self = .subscribe
        case .unsubscribe: self = .unsubscribe
        case .publish: self = .publish
        case .presence: self = .presence
        case .presenceStats: self = .presenceStats
        case .history: self = .history
        case .rpc: self = .rpc
        case .send: self = .send
        case .refresh: self = .refresh
        case .subRefresh: self = .subRefresh
        case .empty, .legacyPing: self = .unknown
        }
    }

    var index: Int { Self.allCases.firstIndex(of: self).unsafelyUnwrapped }
}

/// Node actions Centrifugo counts in `centrifugo_node_action_count`.
enum NodeAction: String, CaseIterable {
    case addClient = "add_client", removeClient = "remove_client", addSubscription = "add_subscription"
    case removeSubscription = "remove_subscription", addPresence = "add_presence", removePresence = "remove_presence"
    case presence, presenceStats = "presence_stats", history, historyRecover = "history_recover"
    case historyRecoverCache = "history_recover_cache", historyStreamTop = "history_stream_top", historyRemove = "history_remove"
    case brokerSubscribe = "broker_subscribe", brokerUnsubscribe = "broker_unsubscribe"
}

/// The node's metric handles under Centrifugo's names (docs/metrics.md), made once. Handles of
/// labelled series are made at their first use (`LazyReference`), so a series shows only once
/// it moved, as in Centrifugo; updating one is an atomic add on its series, without a lock.
struct NodeMetrics: Sendable {
    /// Publications sent per successful recovery (`prometheus.recovered_publications_histogram`).
    let recoveredPublications: Recorder?
    /// History appends and store reads (after coalescing), labelled with the store's kind.
    let historyAppends: Counter
    let historyReads: Counter
    let publicationsSent = Counter(label: "centrifugo_node_messages_sent_count", dimensions: [("type", "publication")])
    let joinsSent = Counter(label: "centrifugo_node_messages_sent_count", dimensions: [("type", "join")])
    let leavesSent = Counter(label: "centrifugo_node_messages_sent_count", dimensions: [("type", "leave")])
    let publicationsReceived = Counter(label: "centrifugo_node_messages_received_count", dimensions: [("type", "publication")])
    let joinsReceived = Counter(label: "centrifugo_node_messages_received_count", dimensions: [("type", "join")])
    let leavesReceived = Counter(label: "centrifugo_node_messages_received_count", dimensions: [("type", "leave")])
    let broadcastDuration = LazyReference { Timer(label: "centrifugo_node_broadcast_duration_seconds", dimensions: [("type", "publication")]) }
    let pubSubLag = LazyReference { Timer(label: "centrifugo_node_pub_sub_lag_seconds") }
    let tagsFilterDropped = LazyReference { Counter(label: "centrifugo_node_tags_filter_dropped_publications") }
    let connectionLimit = Counter(label: "centrifugo_node_client_connection_limit")
    private let actions = Dictionary(
        uniqueKeysWithValues: NodeAction.allCases.map { a in
            (a, LazyReference { Counter(label: "centrifugo_node_action_count", dimensions: [("action", a.rawValue)]) })
        })
    /// Client command durations, by method (Centrifugo makes these series at start).
    private let commandDurations = Dictionary(
        uniqueKeysWithValues: FrameType.allCases.map { f in
            (f, LazyReference { Timer(label: "centrifugo_client_command_duration_seconds", dimensions: [("method", f.rawValue)]) })
        })
    private let recover = [true, false].flatMap { recovered in
        [true, false].map { has in
            LazyReference {
                Counter(
                    label: "centrifugo_client_recover",
                    dimensions: [("recovered", recovered ? "yes" : "no"), ("has_recovered_publications", has ? "yes" : "no")])
            }
        }
    }
    /// Per transport × client name kind × client version kind.
    private let accepted: [LazyReference<Counter>]
    private let inflight: [LazyReference<Meter>]
    private let subscriptionsInflight = [false, true].map { named in
        LazyReference { Meter(label: "centrifugo_client_subscriptions_inflight", dimensions: [("client_name", named ? "unregistered" : "unnamed")]) }
    }
    /// Per transport × frame type: count and bytes, each way.
    private let sent: [LazyReference<Counter>]
    private let sentSize: [LazyReference<Counter>]
    private let received: [LazyReference<Counter>]
    private let receivedSize: [LazyReference<Counter>]
    private let deltaSaved: [LazyReference<Counter>]
    /// Server ping to client pong, per transport.
    private let pingPong: [LazyReference<Timer>]
    /// Recoveries that failed, by why (`RecoveryFailure`).
    let recoveryFailures = Dictionary(
        uniqueKeysWithValues: RecoveryFailure.allCases.map { r in
            (r, LazyReference { Counter(label: "strata_client_recovery_failures_total", dimensions: [("reason", r.rawValue)]) })
        })

    init(store: String, recoveredPublicationsHistogram: Bool = false) {
        recoveredPublications =
            recoveredPublicationsHistogram ? Recorder(label: "centrifugo_client_recovered_publications", aggregate: true) : nil
        historyAppends = Counter(label: "strata_history_appends_total", dimensions: [("store", store)])
        historyReads = Counter(label: "strata_history_reads_total", dimensions: [("store", store)])
        var accepted: [LazyReference<Counter>] = []
        var inflight: [LazyReference<Meter>] = []
        for t in TransportKind.allCases {
            for named in [false, true] {
                for versioned in [false, true] {
                    let labels = [
                        ("transport", t.rawValue), ("client_name", named ? "unregistered" : "unnamed"),
                        ("client_version", versioned ? "unregistered" : "unversioned"),
                    ]
                    accepted.append(LazyReference { Counter(label: "centrifugo_client_connections_accepted", dimensions: labels) })
                    inflight.append(LazyReference { Meter(label: "centrifugo_client_connections_inflight", dimensions: labels) })
                }
            }
        }
        self.accepted = accepted
        self.inflight = inflight
        func table(_ name: String) -> [LazyReference<Counter>] {
            TransportKind.allCases.flatMap { t in
                FrameType.allCases.map { f in
                    LazyReference { Counter(label: name, dimensions: [("transport", t.rawValue), ("frame_type", f.rawValue)]) }
                }
            }
        }
        sent = table("centrifugo_transport_messages_sent")
        sentSize = table("centrifugo_transport_messages_sent_size")
        received = table("centrifugo_transport_messages_received")
        receivedSize = table("centrifugo_transport_messages_received_size")
        pingPong = TransportKind.allCases.map { t in
            LazyReference { Timer(label: "centrifugo_client_ping_pong_duration_seconds", dimensions: [("transport", t.rawValue)]) }
        }
        deltaSaved = TransportKind.allCases.map { t in
            LazyReference { Counter(label: "strata_delta_bytes_saved_total", dimensions: [("transport", t.rawValue)]) }
        }
        _ = FrameType.allCases.filter { Self.precreatedMethods.contains($0) }.map { commandDurations[$0]?.value }
    }

    /// The methods Centrifugo's command duration summary shows from the start.
    static let precreatedMethods: Set<FrameType> = [
        .connect, .subscribe, .unsubscribe, .publish, .presence, .presenceStats, .history, .send, .rpc, .refresh, .subRefresh, .unknown,
    ]

    private static func index(_ t: TransportKind, _ f: FrameType) -> Int {
        t.index * FrameType.allCases.count + f.index
    }

    func action(_ a: NodeAction) { actions[a]?.value.increment() }

    func commandDuration(_ f: FrameType, nanoseconds: Int64) {
        commandDurations[f]?.value.recordNanoseconds(nanoseconds)
    }

    func sent(_ t: TransportKind, _ f: FrameType, count: Int = 1, bytes: Int) {
        let i = Self.index(t, f)
        sent[i].value.increment(by: count)
        sentSize[i].value.increment(by: bytes)
    }

    func received(_ t: TransportKind, _ f: FrameType, bytes: Int) {
        let i = Self.index(t, f)
        received[i].value.increment()
        receivedSize[i].value.increment(by: bytes)
    }

    func deltaSaved(_ t: TransportKind, bytes: Int) {
        deltaSaved[t.index].value.increment(by: bytes)
    }

    func pingPong(_ t: TransportKind, nanoseconds: Int64) {
        pingPong[t.index].value.recordNanoseconds(nanoseconds)
    }

    func recover(recovered: Bool, publications: Int) {
        recover[(recovered ? 0 : 2) + (publications > 0 ? 0 : 1)].value.increment()
        if recovered { recoveredPublications?.record(publications) }
    }

    private static func connectionIndex(_ t: TransportKind, named: Bool, versioned: Bool) -> Int {
        t.index * 4 + (named ? 2 : 0) + (versioned ? 1 : 0)
    }

    func connectionAccepted(_ t: TransportKind, named: Bool, versioned: Bool) {
        let i = Self.connectionIndex(t, named: named, versioned: versioned)
        accepted[i].value.increment()
        inflight[i].value.increment()
    }

    func connectionRemoved(_ t: TransportKind, named: Bool, versioned: Bool) {
        inflight[Self.connectionIndex(t, named: named, versioned: versioned)].value.decrement()
    }

    func subscriptionAdded(named: Bool) {
        subscriptionsInflight[named ? 1 : 0].value.increment()
        action(.addSubscription)
    }

    func subscriptionRemoved(named: Bool) {
        subscriptionsInflight[named ? 1 : 0].value.decrement()
        action(.removeSubscription)
    }

    /// Errors are rare: their series are made when they happen.
    func replyError(_ f: FrameType, code: UInt32) {
        Counter(label: "centrifugo_client_num_reply_errors", dimensions: [("method", f.rawValue), ("code", String(code))]).increment()
    }

    /// Every server-side close; a normal one (3000) is not a disconnect to Centrifugo's count.
    func serverDisconnect(_ t: TransportKind, code: UInt16) {
        if code != 3000 {
            Counter(label: "centrifugo_client_num_server_disconnects", dimensions: [("code", String(code))]).increment()
        }
        if t == .websocket || t == .uniWebSocket {
            Counter(label: "centrifugo_transport_outgoing_close_count", dimensions: [("transport", t.rawValue), ("code", String(code))])
                .increment()
        }
    }

    func serverUnsubscribe(code: UInt32) {
        Counter(label: "centrifugo_client_num_server_unsubscribes", dimensions: [("code", String(code))]).increment()
    }
}

/// Frames of one fan-out counted per run of subscribers on the same transport, so the metrics
/// are updated a few times per publication rather than once per subscriber. A class: a lane's
/// fan-out adds to it one step at a time (`LaneFanOut`).
final class DeliveryTally {
    let metrics: NodeMetrics
    var transport: TransportKind?
    var count = 0
    var bytes = 0
    var saved = 0

    init(metrics: NodeMetrics) {
        self.metrics = metrics
    }

    func add(_ t: TransportKind, bytes b: Int, saved s: Int) {
        if t != transport { flush() }
        transport = t
        count += 1
        bytes += b
        saved += s
    }

    func flush() {
        guard let t = transport, count > 0 else { return }
        metrics.sent(t, .pushPublication, count: count, bytes: bytes)
        if saved > 0 { metrics.deltaSaved(t, bytes: saved) }
        count = 0
        bytes = 0
        saved = 0
    }
}

/// The broadcast duration of one publication whose lanes run apart: the last lane to finish
/// records the time since the hub began the fan-out.
final class FanOutTiming: Sendable {
    private let remaining: ManagedAtomic<Int>
    private let started: ContinuousClock.Instant
    private let metrics: NodeMetrics

    init(lanes: Int, started: ContinuousClock.Instant, metrics: NodeMetrics) {
        self.remaining = ManagedAtomic(lanes)
        self.started = started
        self.metrics = metrics
    }

    func laneDone() {
        guard remaining.loadThenWrappingDecrement(ordering: .acquiringAndReleasing) == 1 else { return }
        metrics.broadcastDuration.value.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
    }
}
