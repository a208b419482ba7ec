import Logging
import Metrics
import StrataConfig
import StrataCore
import StrataProtocol
import Synchronization

/// Why a command failed: an error reply, or the end of the connection.
enum CommandFailure: Error {
    case error(StrataError)
    case disconnect(Disconnect)
}

/// One client connection, whatever its transport: authentication, subscriptions, positions and
/// the outbound queue. The transport feeds it frames (`handleFrame`) and drains `queue`.
///
/// Commands of one connection are handled one at a time, in order; fan-out from other tasks
/// reaches it concurrently through `deliver…`, under the same lock that guards its subscriptions,
/// which is what orders a subscribe reply before the live publications that follow it.
package final class ClientSession: Sendable {
    // What a delivery reads comes first, in the bytes a fan-out prefetches (`hotBytes`,
    // ClientSession+Prefetch.swift): the queue, the notes, the transport, the codec, the lock.
    package let queue: OutboundQueue
    /// Where the subscriptions' storage and the last delivered subscription were at the last
    /// delivery, read outside the lock: the fan-out prefetches them a few subscribers ahead
    /// (`prefetchForDelivery`); a stale address (the dictionary grew since, another channel's
    /// subscription) only costs a wasted read.
    let subscriptionsAddress = Atomic<UInt>(0)
    let subscriptionAddress = Atomic<UInt>(0)
    /// The transport, as metrics label it.
    package let transport: TransportKind
    /// The client protocol's encoding this connection speaks, chosen by its transport.
    package let codec: any ClientCodec
    /// In the session's own storage, not a `Locked` of its own: a fan-out takes this lock for
    /// every subscriber, and a second object was one more cold cache line per delivery
    /// (docs/benchmarks-log.md §9).
    let state = Mutex(State())
    package let id = RandomID.uuidString()
    package let node: Node
    /// What kind of connection this is, beyond its codec.
    package let style: SessionStyle
    /// Where the hub's fan-out reaches this connection (its event loop); nil: on the fan-out's thread.
    let lane: (any DeliveryLane)?

    enum Status {
        case connecting
        case connected
        /// The connect command failed with an error reply: every later command ⇒ 3501.
        case unusable
        case closed
    }

    struct State {
        var status: Status = .connecting
        /// Next to the status, which a delivery reads with it.
        var subscriptions: [String: Subscription] = [:]
        var user = ""
        var connInfo: [UInt8]?
        /// The connection's `meta` (token or connect proxy): never sent to the client, included
        /// in proxy requests by proxies that ask for it.
        var connMeta: [UInt8]?
        /// The connect command's `headers` that some proxy forwards (empty when none does).
        var emulatedHeaders: [StrataConfig.HeaderField] = []
        /// Unix seconds; nil = never.
        var expireAt: Int64?
        /// A refresh proxy call for this connection is under way.
        var refreshingByProxy = false
        /// Channels this session is still leaving after the server ended its subscription (2500):
        /// a resubscribe waits for the leave, or the leave would take the new subscription out of
        /// the hub and the client would hear nothing more.
        var leaving: [String: Task<Void, Never>] = [:]
        var pingPending = false
        /// When the pending ping went out (monotonic ns), for the ping/pong duration metric.
        var pingSentNanos: UInt64 = 0
        /// Timer deadlines in unix ms (`SessionTimers`).
        var staleDeadline: Int64 = .max
        var nextPingAt: Int64 = .max
        var pongDeadline: Int64 = .max
        /// When presence entries are next re-added (0 = not scheduled yet).
        var nextPresenceAt: Int64 = 0
        var cleanedUp = false
        /// A one-way connect's error, before it became a disconnect (for the HTTP-response mapping).
        var refusedWith: StrataError?
        /// `client.command_rate_limit`, when on (made at the first command).
        var rateLimit: TokenBucket?
        /// Whether the connect named the client and its version (metrics labels), and whether
        /// the connection was counted in as connected.
        var named = false
        var versioned = false
        var counted = false
    }

    /// Commands of one frame run in turns of this many: between turns the transport's
    /// `betweenTurns` lets the other connections on the event loop run.
    static let commandsPerTurn = 32

    /// Headers of the request that opened the connection which a proxy forwards (only those, and
    /// only when a proxy forwards any: nothing is kept otherwise); for uni_grpc, the call's
    /// metadata that a proxy forwards.
    let requestHeaders: [StrataConfig.HeaderField]

    package init(
        node: Node, codec: any ClientCodec, style: SessionStyle = .bidirectional, transport: TransportKind = .websocket,
        requestHeaders: [StrataConfig.HeaderField] = [], lane: (any DeliveryLane)? = nil
    ) {
        self.lane = lane
        self.node = node
        self.codec = codec
        self.style = style
        self.transport = transport
        self.requestHeaders = requestHeaders
        self.queue = OutboundQueue(maxBytes: node.config.client.queueMaxSize)
    }

    /// The node's logger with this connection's id, made when something is logged. Not kept:
    /// a logger with its own metadata costs ~400 bytes per idle connection.
    var logger: Logger {
        var logger = node.logger
        logger[metadataKey: "client"] = .string(id)
        return logger
    }

    package var user: String { state.withLock { $0.user } }
    /// Whether the connect named the client (the `client_name` metrics label).
    var isNamed: Bool { state.withLock { $0.named } }
    package var isConnected: Bool { state.withLock { $0.status == .connected } }
    var clientInfo: ClientInfo { clientInfo(chanInfo: nil) }

    /// Who this connection is, as presence, joins and publications show it.
    func clientInfo(chanInfo: [UInt8]?) -> ClientInfo {
        state.withLock { ClientInfo(user: $0.user, client: id, connInfo: $0.connInfo, chanInfo: chanInfo) }
    }

    // MARK: Frames

    /// Handles the commands of one transport message, in order.
    /// `betweenTurns`: how the transport lets its other connections run between turns of
    /// `commandsPerTurn` commands (a frame can carry hundreds).
    package func handleFrame(_ frame: [UInt8], betweenTurns: (@Sendable () async -> Void)? = nil) async {
        let decoded = codec.decode(frame)
        // Commands of one frame share its size in the received-bytes metric.
        let share = decoded.commands.isEmpty ? 0 : frame.count / decoded.commands.count
        for (i, command) in decoded.commands.enumerated() {
            // A one-way connection's request is not a frame it sent (Centrifugo counts none).
            if !style.isUnidirectional { node.metrics.received(transport, FrameType(received: command), bytes: share) }
            if queue.isClosed { return }
            if i > 0 && i % Self.commandsPerTurn == 0 { await betweenTurns?() }
            await handle(command)
        }
        if let error = decoded.error {
            logger.debug("bad frame", metadata: ["error": "\(error)"])
            disconnect(.badRequest)
        }
    }

    func handle(_ command: Command) async {
        let status = state.withLock { $0.status }
        switch status {
        case .closed:
            return
        case .unusable:
            disconnect(.badRequest)
            return
        case .connecting:
            guard case .connect(let request) = command.request, command.id > 0 else {
                disconnect(.badRequest)
                return
            }
            let started = ContinuousClock.now
            await run(command.id, .connect) { () async throws(CommandFailure) -> ReplyResult? in
                try await self.connect(request, id: command.id)
            }
            node.metrics.commandDuration(.connect, nanoseconds: (ContinuousClock.now - started).nanoseconds)
            if state.withLock({ $0.status == .connecting }) {
                state.withLock { if $0.status == .connecting { $0.status = .unusable } }
            }
            return
        case .connected:
            break
        }
        if command.id == 0 {
            if case .send(let data) = command.request {
                handleSend(data)
            } else {
                handlePong()
            }
            return
        }
        let id = command.id
        let type = FrameType(command.request)
        if node.config.client.commandRateLimit > 0 && !allowCommand() {
            replyError(id: id, type, .tooManyRequests)
            return
        }
        let started = ContinuousClock.now
        defer { node.metrics.commandDuration(type, nanoseconds: (ContinuousClock.now - started).nanoseconds) }
        switch command.request {
        case .connect:
            disconnect(.badRequest)
        case .subscribe(let r):
            await run(id, type) { () async throws(CommandFailure) -> ReplyResult? in try await self.subscribe(r, id: id) }
        case .unsubscribe(let channel):
            await run(id, type) { () async throws(CommandFailure) -> ReplyResult? in try await self.unsubscribeCommand(channel) }
        case .publish(let channel, let data):
            await run(id, type) { () async throws(CommandFailure) -> ReplyResult? in try await self.publishCommand(channel, data) }
        case .presence(let channel):
            await run(id, type) { () async throws(CommandFailure) -> ReplyResult? in try await self.presenceCommand(channel) }
        case .presenceStats(let channel):
            await run(id, type) { () async throws(CommandFailure) -> ReplyResult? in try await self.presenceStatsCommand(channel) }
        case .history(let r):
            await run(id, type) { () async throws(CommandFailure) -> ReplyResult? in try await self.historyCommand(r) }
        case .rpc(let method, let data):
            await run(id, type) { () async throws(CommandFailure) -> ReplyResult? in try await self.rpcCommand(method, data) }
        case .send(let data):
            handleSend(data)
        case .refresh(let token):
            await run(id, type) { () async throws(CommandFailure) -> ReplyResult? in try await self.refreshCommand(token) }
        case .subRefresh(let channel, let token):
            await run(id, type) { () async throws(CommandFailure) -> ReplyResult? in try await self.subRefreshCommand(channel, token) }
        case .empty, .legacyPing:
            disconnect(.badRequest)
        }
    }

    /// Whether `client.command_rate_limit` (Strata's own key; off by default) lets one more
    /// command through now: a second's worth at once, then the rate. A command over it is
    /// answered with error 111 `too many requests` (temporary: SDKs retry) and not run.
    ///
    /// Why: a client flooding commands makes the server do the work of each one; the inbox
    /// already bounds how many wait (reading pauses), and commands yield the event loop between
    /// batches so others are served (docs/reliability.md), but only a limit caps the work itself.
    private func allowCommand() -> Bool {
        let now = node.clock.nowMillis()
        let perSecond = node.config.client.commandRateLimit
        return state.withLock { s in
            var bucket = s.rateLimit ?? TokenBucket(perSecond: perSecond, nowMillis: now)
            let allowed = bucket.take(nowMillis: now)
            s.rateLimit = bucket
            return allowed
        }
    }

    /// Runs a command handler and answers: the result, an error reply, or a disconnect.
    /// Handlers that must order their reply against fan-out (subscribe) enqueue it themselves and
    /// return nil.
    private func run(_ id: UInt32, _ type: FrameType, _ body: () async throws(CommandFailure) -> ReplyResult?) async {
        do {
            if let result = try await body() { send(codec.reply(id: id, result), type) }
        } catch {
            switch error {
            case .error(let e):
                // A one-way client cannot read an error reply: its connect ends with a disconnect.
                if style.isUnidirectional {
                    state.withLock { $0.refusedWith = e }
                    disconnect(unidirectionalDisconnect(for: e))
                } else {
                    replyError(id: id, type, e)
                }
            case .disconnect(let d): disconnect(d)
            }
        }
    }

    /// The error a one-way connect was refused with, if it was (its code is what
    /// `connect_code_to_http_response` matches besides the disconnect's).
    package var refusedConnectError: StrataError? { state.withLock { $0.refusedWith } }

    /// `client.connect_code_to_unidirectional_disconnect` first, then Centrifugo's mapping.
    func unidirectionalDisconnect(for error: StrataError) -> Disconnect {
        if let t = node.config.client.connectCodeToUnidirectionalDisconnect?.first(where: { $0.code == Int(error.code) }),
            let code = UInt16(exactly: t.toCode)
        {
            return Disconnect(code: code, reason: t.reason)
        }
        return Disconnect.unidirectional(for: error)
    }

    // MARK: Writing

    /// An error reply to command `id`, counted by method and code.
    func replyError(id: UInt32, _ type: FrameType, _ error: StrataError) {
        node.metrics.replyError(type, code: error.code)
        send(codec.error(id: id, error), type)
    }

    /// Queues one message of `type`; an overflowing queue means the client reads too slowly (3008).
    @discardableResult
    func send(_ message: [UInt8], _ type: FrameType) -> Bool {
        switch queue.enqueue(message) {
        case .queued:
            node.metrics.sent(transport, type, bytes: message.count)
            return true
        case .overflow:
            disconnect(.slow, dropPending: true)
            return false
        case .closed:
            return false
        }
    }

    /// Counts messages queued without `send` (a reply with the pushes that must follow it).
    func countSent(_ messages: some Collection<[UInt8]>, _ type: FrameType) {
        guard !messages.isEmpty else { return }
        node.metrics.sent(transport, type, count: messages.count, bytes: messages.reduce(0) { $0 + $1.count })
    }

    // MARK: Disconnect and cleanup

    /// Ends the connection with `disconnect` (sent as the WebSocket close code and reason).
    package func disconnect(_ disconnect: Disconnect, dropPending: Bool = false) {
        let wasOpen = state.withLock { s -> Bool in
            guard s.status != .closed else { return false }
            s.status = .closed
            return true
        }
        guard wasOpen else { return }
        if node.logger.logLevel <= .debug { logger.debug("disconnect", metadata: ["code": "\(disconnect.code)", "reason": "\(disconnect.reason)"]) }
        node.metrics.serverDisconnect(transport, code: disconnect.code)
        queue.close(disconnect, dropPending: dropPending)
        Task { await self.cleanup() }
    }

    /// Called by the transport when the connection is gone, whatever the reason.
    package func transportClosed() async {
        state.withLock { $0.status = .closed }
        queue.close(nil, dropPending: true)
        await cleanup()
    }

    /// Leaves every channel and the hub, once.
    func cleanup() async {
        let (subs, user, wasRegistered) = state.withLock { s -> ([String: Subscription], String, Bool) in
            if s.cleanedUp { return ([:], "", false) }
            s.cleanedUp = true
            let subs = s.subscriptions
            s.subscriptions = [:]
            return (subs, s.user, true)
        }
        node.timers.unregister(self)
        guard wasRegistered else { return }
        for (channel, sub) in subs { await leaveChannel(channel, sub) }
        node.hub.removeConnection(self, user: user)
        let (counted, named, versioned) = state.withLock { ($0.counted, $0.named, $0.versioned) }
        if counted {
            node.metrics.connectionRemoved(transport, named: named, versioned: versioned)
            node.metrics.action(.removeClient)
        }
    }
}
