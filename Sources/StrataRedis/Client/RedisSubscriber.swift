import Logging
import NIOCore
import StrataCore
import NIOPosix
import Synchronization

/// What a `RedisSubscriber` reports, in order.
package enum RedisSubscriberEvent: Sendable, Hashable {
    case message(RedisPubSubMessage)
    /// The connection is gone: messages published from now until `.resubscribed` are lost.
    case disconnected
    /// A new connection is subscribed to every channel again.
    case resubscribed
}

/// A pub/sub subscription set that outlives connections: when the connection is lost it
/// reconnects (backoff with jitter) and subscribes every channel again.
///
/// The connection carries the subscriber's intent, not just its commands: the set of channels
/// is kept here, and SUBSCRIBE/UNSUBSCRIBE are written under the same lock that updates it, so
/// the order on the wire is the order of the decisions and a resubscribe never brings back a
/// channel that was just unsubscribed. Messages lost across a reconnect cannot be replayed by
/// Redis; `.disconnected` / `.resubscribed` tell the consumer where the gap is.
///
/// Each connection's liveness probe (`RedisConfiguration.probeInterval`) closes it when Redis
/// stops answering, which ends its messages and starts the reconnect like any other loss.
package final class RedisSubscriber: Sendable {
    private struct State {
        var channels: Set<String> = []
        var connection: RedisPubSubConnection?
        var closed = false
        var supervisor: Task<Void, Never>?
    }

    package let events: AsyncStream<RedisSubscriberEvent>
    private let continuation: AsyncStream<RedisSubscriberEvent>.Continuation
    private let configuration: RedisConfiguration
    private let backoff: RedisBackoff
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let onMessage: (@Sendable (RedisPubSubMessage) -> Void)?
    private let state = Mutex(State())

    private init(
        configuration: RedisConfiguration, backoff: RedisBackoff, eventLoopGroup: any EventLoopGroup,
        logger: Logger, onMessage: (@Sendable (RedisPubSubMessage) -> Void)?
    ) {
        (events, continuation) = AsyncStream.makeStream(of: RedisSubscriberEvent.self)
        self.configuration = configuration
        self.backoff = backoff
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.onMessage = onMessage
    }

    /// Makes the first connection (and throws if it fails); later ones are made in the background.
    /// With `onMessage`, messages go there on the connection's event loop (in order, never
    /// blocking it) and `events` carries only `.disconnected` and `.resubscribed`.
    package static func connect(
        _ configuration: RedisConfiguration = RedisConfiguration(), backoff: RedisBackoff = RedisBackoff(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "strata.redis.pubsub"), onMessage: (@Sendable (RedisPubSubMessage) -> Void)? = nil
    ) async throws(RedisError) -> RedisSubscriber {
        let connection = try await RedisPubSubConnection.connect(
            configuration, eventLoopGroup: eventLoopGroup, logger: logger, onMessage: onMessage)
        let subscriber = RedisSubscriber(
            configuration: configuration, backoff: backoff, eventLoopGroup: eventLoopGroup, logger: logger, onMessage: onMessage)
        subscriber.state.withLock { state in
            state.connection = connection
            state.supervisor = Task { await subscriber.supervise(connection) }
        }
        return subscriber
    }

    /// Subscribes and returns once Redis has confirmed. While reconnecting it throws
    /// `.connectionClosed` at once. If it throws after the request went out, the channels stay
    /// in the set (and are subscribed again on reconnect): roll back with `unsubscribe`.
    package func subscribe(_ channels: [String]) async throws(RedisError) {
        let confirmed = try state.withLock { state throws(RedisError) -> EventLoopFuture<Void>? in
            guard !state.closed else { throw RedisError(.connectionClosed, "subscriber closed") }
            guard let connection = state.connection else {
                throw RedisError(.connectionClosed, "pub/sub connection lost, reconnecting")
            }
            state.channels.formUnion(channels)
            return connection.enqueue(.subscribe, channels)
        }
        do {
            try await confirmed?.get()
        } catch {
            throw RedisError.from(error)
        }
    }

    package func subscribe(_ channels: String...) async throws(RedisError) {
        try await subscribe(channels)
    }

    /// Unsubscribes and returns once Redis has confirmed, or once the connection is gone,
    /// which unsubscribes too. Never throws: either way the channels are no longer subscribed.
    package func unsubscribe(_ channels: [String]) async {
        let confirmed = state.withLock { state -> EventLoopFuture<Void>? in
            state.channels.subtract(channels)
            return state.connection?.enqueue(.unsubscribe, channels)
        }
        _ = try? await confirmed?.get()
    }

    package func unsubscribe(_ channels: String...) async {
        await unsubscribe(channels)
    }

    /// Closes the current connection: the subscriber reconnects and resubscribes as after any
    /// loss (`.disconnected`, `.resubscribed`), to wherever `configuration.locate` says now.
    package func reconnect() async {
        let connection = state.withLock { $0.connection }
        await connection?.close()
    }

    /// The channels currently wanted (subscribed, or to be subscribed again on reconnect).
    package var channels: Set<String> { state.withLock { $0.channels } }

    /// Stops reconnecting, closes the connection and finishes `events`.
    package func close() async {
        let (connection, supervisor) = state.withLock { state in
            state.closed = true
            return (state.connection, state.supervisor)
        }
        supervisor?.cancel()
        await connection?.close()
        await supervisor?.value
    }

    private var isClosed: Bool { state.withLock { $0.closed } }

    /// Forwards messages while a connection lives, then reconnects, until closed.
    private func supervise(_ first: RedisPubSubConnection) async {
        var current: RedisPubSubConnection? = first
        while let connection = current {
            await forward(connection)
            state.withLock { state in
                if state.connection === connection { state.connection = nil }
            }
            if isClosed { break }
            logger.warning("redis pub/sub connection lost, reconnecting")
            continuation.yield(.disconnected)
            current = await reconnect()
        }
        continuation.finish()
    }

    /// Until the connection's message stream ends (a failed liveness PING closes the
    /// connection, which ends the stream after the messages already received).
    private func forward(_ connection: RedisPubSubConnection) async {
        for await message in connection.messages { continuation.yield(.message(message)) }
    }

    /// A new connection with every wanted channel subscribed, or nil once closed.
    private func reconnect() async -> RedisPubSubConnection? {
        var failures = 0
        while !isClosed {
            do throws(RedisError) {
                let connection = try await RedisPubSubConnection.connect(
                    configuration, eventLoopGroup: eventLoopGroup, logger: logger, onMessage: onMessage)
                let resubscribed = state.withLock { state -> EventLoopFuture<Void>?? in
                    if state.closed { return .none }
                    state.connection = connection
                    return .some(connection.enqueue(.subscribe, Array(state.channels)))
                }
                guard let resubscribed else {
                    await connection.close()
                    return nil
                }
                do {
                    try await resubscribed?.get()
                } catch {
                    state.withLock { state in
                        if state.connection === connection { state.connection = nil }
                    }
                    await connection.close()
                    throw RedisError.from(error)
                }
                logger.info("redis pub/sub reconnected", metadata: ["channels": "\(channels.count)"])
                continuation.yield(.resubscribed)
                return connection
            } catch {
                failures += 1
                let delay = backoff.delay(afterFailures: failures)
                logger.warning(
                    "redis pub/sub reconnect failed", metadata: ["error": "\(error)", "failures": "\(failures)", "retry_in": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
        return nil
    }
}
