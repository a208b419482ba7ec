import Logging
import NIOCore
import NIOPosix
import StrataCore
import Synchronization

/// What a `NATSClient` reports, in order.
package enum NATSClientEvent: Sendable, Hashable {
    /// The connection is gone: messages published from now until `.resubscribed` are lost.
    case disconnected
    /// A new connection carries every subscription again.
    case resubscribed
}

/// A NATS connection that outlives connections: the subjects subscribed are kept here and
/// subscribed again on every new connection (to the next server of the list after a failure),
/// and `events` says where the gap is. Publishing while no connection is up fails at once:
/// NATS keeps nothing for later, and a publish must not be reported done when it went nowhere.
package final class NATSClient: Sendable {
    private struct State {
        var connection: NATSConnection?
        /// subject → sid
        var subscriptions: [String: Int] = [:]
        var nextSID = 1
        var nextServer = 0
        var closed = false
        var supervisor: Task<Void, Never>?
    }

    package let events: AsyncStream<NATSClientEvent>
    private let continuation: AsyncStream<NATSClientEvent>.Continuation
    private let configuration: NATSConfiguration
    private let backoff: ReconnectBackoff
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let onMessage: @Sendable (String, ByteBuffer) -> Void
    private let state = Mutex(State())

    private init(
        configuration: NATSConfiguration, backoff: ReconnectBackoff, eventLoopGroup: any EventLoopGroup, logger: Logger,
        onMessage: @escaping @Sendable (String, ByteBuffer) -> Void
    ) {
        (events, continuation) = AsyncStream.makeStream(of: NATSClientEvent.self)
        self.configuration = configuration
        self.backoff = backoff
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.onMessage = onMessage
    }

    /// Makes the first connection (throws when no server takes it); later ones in the background.
    /// Messages go to `onMessage` on the connection's event loop, by subject.
    package static func connect(
        _ configuration: NATSConfiguration, backoff: ReconnectBackoff = ReconnectBackoff(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger,
        onMessage: @escaping @Sendable (String, ByteBuffer) -> Void
    ) async throws(NATSError) -> NATSClient {
        let client = NATSClient(configuration: configuration, backoff: backoff, eventLoopGroup: eventLoopGroup, logger: logger, onMessage: onMessage)
        let connection = try await client.connectAny()
        client.state.withLock { state in
            state.connection = connection
            state.supervisor = Task { await client.supervise(connection) }
        }
        return client
    }

    /// One attempt on each server in turn, from the one after the last that failed.
    private func connectAny() async throws(NATSError) -> NATSConnection {
        var reasons: [String] = []
        let servers = configuration.servers
        for _ in servers.indices {
            let index = state.withLock { s in
                defer { s.nextServer += 1 }
                return s.nextServer % servers.count
            }
            do throws(NATSError) {
                let connection = try await NATSConnection.connect(
                    servers[index], configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger
                ) { [weak self] subject, _, payload in self?.onMessage(subject, payload) }
                state.withLock { $0.nextServer = index }
                return connection
            } catch {
                reasons.append(error.message)
            }
        }
        throw NATSError(reasons.joined(separator: "; "))
    }

    /// Subscribes and returns once the server has taken it. While reconnecting it throws at
    /// once; the subject stays wanted only when it was taken.
    package func subscribe(_ subject: String) async throws(NATSError) {
        let (connection, sid, isNew) = try state.withLock { s throws(NATSError) -> (NATSConnection, Int, Bool) in
            guard !s.closed else { throw NATSError("client closed") }
            guard let connection = s.connection else { throw NATSError("connection lost, reconnecting") }
            if let sid = s.subscriptions[subject] { return (connection, sid, false) }
            let sid = s.nextSID
            s.nextSID += 1
            s.subscriptions[subject] = sid
            return (connection, sid, true)
        }
        guard isNew else { return }
        do throws(NATSError) {
            try await connection.subscribe(subject, sid: sid)
        } catch {
            state.withLock { s in
                if s.subscriptions[subject] == sid { s.subscriptions[subject] = nil }
            }
            throw error
        }
    }

    package func unsubscribe(_ subject: String) {
        let (connection, sid) = state.withLock { s -> (NATSConnection?, Int?) in
            (s.connection, s.subscriptions.removeValue(forKey: subject))
        }
        if let sid { connection?.unsubscribe(sid: sid) }
    }

    package func publish(_ subject: String, payload: [UInt8]) throws(NATSError) {
        guard let connection = state.withLock({ $0.connection }) else { throw NATSError("connection lost, reconnecting") }
        try connection.publish(subject, payload: payload)
    }

    /// Whether a connection is up. A server that has just gone away is noticed when its socket
    /// closes; until then this still says true (NATS has no acknowledgement of a PUB).
    package var isConnected: Bool { state.withLock { $0.connection != nil } }

    /// The subjects currently wanted.
    package var subjects: Set<String> { state.withLock { Set($0.subscriptions.keys) } }

    package func close() async {
        let (connection, supervisor) = state.withLock { s in
            s.closed = true
            return (s.connection, s.supervisor)
        }
        supervisor?.cancel()
        await connection?.close()
        await supervisor?.value
        continuation.finish()
    }

    private var isClosed: Bool { state.withLock { $0.closed } }

    /// Waits for the connection to end, then reconnects and subscribes everything again.
    private func supervise(_ first: NATSConnection) async {
        var current = first
        while true {
            await current.closed()
            state.withLock { s in
                if s.connection === current { s.connection = nil }
            }
            if isClosed { break }
            logger.warning("nats connection lost, reconnecting", metadata: ["server": "\(current.address)"])
            continuation.yield(.disconnected)
            guard let next = await reconnect() else { break }
            current = next
        }
        continuation.finish()
    }

    private func reconnect() async -> NATSConnection? {
        var failures = 0
        while !isClosed {
            var attempt: NATSConnection?
            do throws(NATSError) {
                let connection = try await connectAny()
                attempt = connection
                let subscriptions = state.withLock { s -> [String: Int]? in
                    if s.closed { return nil }
                    s.connection = connection
                    return s.subscriptions
                }
                guard let subscriptions else {
                    await connection.close()
                    return nil
                }
                for (subject, sid) in subscriptions {
                    try await connection.subscribe(subject, sid: sid)
                }
                logger.info("nats reconnected", metadata: ["server": "\(connection.address)", "subjects": "\(subscriptions.count)"])
                continuation.yield(.resubscribed)
                return connection
            } catch {
                state.withLock { s in
                    if let attempt, s.connection === attempt { s.connection = nil }
                }
                await attempt?.close()
                failures += 1
                let delay = backoff.delay(afterFailures: failures)
                logger.warning("nats reconnect failed", metadata: ["error": "\(error)", "failures": "\(failures)", "retry_in": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
        return nil
    }
}
