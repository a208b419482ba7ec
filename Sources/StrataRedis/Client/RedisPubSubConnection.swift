import Logging
import NIOCore
import NIOPosix

/// A connection dedicated to SUBSCRIBE: in subscribe mode Redis accepts no ordinary commands,
/// so publishing and everything else go through a `RedisConnection`.
///
/// Messages for all subscribed channels arrive in publish order on `messages`. The stream
/// buffers without limit (Redis itself cannot be slowed down, only disconnected), so read it
/// promptly. It finishes when the connection ends, for whatever reason: a subscriber that sees
/// it finish has lost messages and must resynchronise. `RedisSubscriber` does the reconnecting
/// and resubscribing on top of this type.
package final class RedisPubSubConnection: Sendable {
    package let configuration: RedisConfiguration
    package let messages: AsyncStream<RedisPubSubMessage>
    private let channel: any Channel
    private let logger: Logger

    private init(configuration: RedisConfiguration, messages: AsyncStream<RedisPubSubMessage>, channel: any Channel, logger: Logger) {
        self.configuration = configuration
        self.messages = messages
        self.channel = channel
        self.logger = logger
    }

    /// `onMessage`, when given, receives every message on the connection's event loop, in order,
    /// instead of `messages` (which then only finishes when the connection ends): a consumer that
    /// does not block saves a task switch per message.
    package static func connect(
        _ configuration: RedisConfiguration = RedisConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "strata.redis.pubsub"),
        onMessage: (@Sendable (RedisPubSubMessage) -> Void)? = nil
    ) async throws(RedisError) -> RedisPubSubConnection {
        let ioTimeout = TimeAmount(configuration.ioTimeout)
        let probeInterval = TimeAmount(configuration.probeInterval)
        let (messages, continuation) = AsyncStream.makeStream(of: RedisPubSubMessage.self)
        do {
            let channel = try await RedisBootstrap.connect(configuration, group: eventLoopGroup) { pipeline in
                try pipeline.addHandler(
                    RedisPubSubHandler(
                        ioTimeout: ioTimeout, probeInterval: probeInterval, messages: continuation, onMessage: onMessage, logger: logger))
            }
            return RedisPubSubConnection(configuration: configuration, messages: messages, channel: channel, logger: logger)
        } catch {
            continuation.finish()
            throw error
        }
    }

    /// Subscribes and returns once Redis has confirmed every channel; messages published after
    /// the confirmation are guaranteed to arrive.
    package func subscribe(_ channels: [String]) async throws(RedisError) {
        try await request(.subscribe, channels)
    }

    package func subscribe(_ channels: String...) async throws(RedisError) {
        try await request(.subscribe, channels)
    }

    /// Unsubscribes and returns once Redis has confirmed every channel (messages already in
    /// flight for them may still arrive before the confirmation).
    package func unsubscribe(_ channels: [String]) async throws(RedisError) {
        try await request(.unsubscribe, channels)
    }

    package func unsubscribe(_ channels: String...) async throws(RedisError) {
        try await request(.unsubscribe, channels)
    }

    /// A round trip, to check that the connection is alive.
    package func ping() async throws(RedisError) {
        try await request(.ping, [])
    }

    package var isActive: Bool { channel.isActive }

    /// Closes the connection; `messages` finishes.
    package func close() async {
        logger.debug("closing redis pub/sub connection", metadata: ["redis": "\(configuration.host):\(configuration.port)"])
        try? await channel.close()
    }

    private func request(_ kind: PubSubRequest.Kind, _ channels: [String]) async throws(RedisError) {
        guard let confirmed = enqueue(kind, channels) else { return }
        do {
            try await confirmed.get()
        } catch {
            throw RedisError.from(error)
        }
    }

    /// Writes the request now and returns the future of its confirmation, nil when there is
    /// nothing to send. Not async, so `RedisSubscriber` can call it under its lock and keep
    /// SUBSCRIBE/UNSUBSCRIBE on the wire in the order it decided them.
    func enqueue(_ kind: PubSubRequest.Kind, _ channels: [String]) -> EventLoopFuture<Void>? {
        // An empty UNSUBSCRIBE would mean "all channels"; an empty list here means nothing to do.
        if kind != .ping && channels.isEmpty { return nil }
        let promise = channel.eventLoop.makePromise(of: Void.self)
        // A write to a closed channel never reaches the handler, so its failure must fail the request too.
        channel.writeAndFlush(PubSubRequest(kind: kind, channels: channels, promise: promise)).whenFailure { error in
            promise.fail(RedisError.from(error))
        }
        return promise.futureResult
    }
}
