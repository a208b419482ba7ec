import Logging
import NIOCore
import NIOPosix

/// One TCP connection to Redis for ordinary commands, safe to share between tasks.
///
/// Commands from any number of tasks are pipelined: each is written as soon as it is sent and
/// replies are matched in order, so callers never wait for each other's round trips. Every
/// command either gets its reply or fails with a `RedisError` — on timeout, on a protocol
/// error, or when the connection is lost — and never hangs. After a failure the connection
/// stays closed; `RedisConnectionPool` makes new ones (with backoff) for long-lived users.
///
/// A cancelled task still waits for its reply (at most `ioTimeout`): the command is already on
/// the wire, and its reply must be consumed in order anyway.
///
/// Error replies (`-ERR ...`) are values (`RESPValue.error`), not thrown, because in a pipeline
/// or a script they belong to one command; `checked()` turns one into a throw.
package final class RedisConnection: Sendable {
    package let configuration: RedisConfiguration
    private let channel: any Channel
    private let logger: Logger

    private init(configuration: RedisConfiguration, channel: any Channel, logger: Logger) {
        self.configuration = configuration
        self.channel = channel
        self.logger = logger
    }

    package static func connect(
        _ configuration: RedisConfiguration = RedisConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "strata.redis")
    ) async throws(RedisError) -> RedisConnection {
        let ioTimeout = TimeAmount(configuration.ioTimeout)
        let probeInterval = TimeAmount(configuration.probeInterval)
        let channel = try await RedisBootstrap.connect(configuration, group: eventLoopGroup) { pipeline in
            try pipeline.addHandler(RedisCommandHandler(ioTimeout: ioTimeout, probeInterval: probeInterval, logger: logger))
        }
        logger.debug("connected to redis", metadata: ["redis": "\(configuration.host):\(configuration.port)"])
        return RedisConnection(configuration: configuration, channel: channel, logger: logger)
    }

    /// Sends one command and waits for its reply.
    package func send(_ command: RESPCommand) async throws(RedisError) -> RESPValue {
        let replies = try await pipeline([command])
        guard replies.count == 1, let reply = replies.first else {
            throw RedisError(.unexpectedReply, "\(replies.count) replies to one command")
        }
        return reply
    }

    /// `send("SET", key, value)`.
    package func send(_ name: String, _ arguments: any RESPArgument...) async throws(RedisError) -> RESPValue {
        try await send(RESPCommand(name, arguments: arguments))
    }

    /// Writes all commands with one flush and returns their replies in the same order.
    ///
    /// The batch is not a transaction: other tasks' commands may run before or after it, never
    /// inside it (the bytes go out in one write), and each command may fail on its own.
    package func pipeline(_ commands: [RESPCommand]) async throws(RedisError) -> [RESPValue] {
        if commands.isEmpty { return [] }
        do {
            return try await enqueue(commands).get()
        } catch {
            throw RedisError.from(error)
        }
    }

    /// Writes the commands now and returns their replies as a future. Futures of successive
    /// calls complete on the connection's event loop in the order the commands went out, so
    /// callbacks attached to them run in that order too — if they are attached on the loop in
    /// the same turn as the call (`RedisScript.run` does): a callback attached later from
    /// another thread runs whenever it gets attached. That order is what lets a store report
    /// appends in offset order without a lock of its own.
    func enqueue(_ commands: [RESPCommand]) -> EventLoopFuture<[RESPValue]> {
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        // A write to a closed channel never reaches the handler, so its failure must fail the reply too.
        channel.writeAndFlush(RedisRequest(commands: commands, promise: promise)).whenFailure { error in
            promise.fail(RedisError.from(error))
        }
        return promise.futureResult
    }

    /// The event loop the connection's futures complete on.
    package var eventLoop: any EventLoop { channel.eventLoop }

    /// True until the connection is closed or lost.
    package var isActive: Bool { channel.isActive }

    /// Closes the connection; commands still waiting fail with `.connectionClosed`.
    package func close() async {
        logger.debug("closing redis connection", metadata: ["redis": "\(configuration.host):\(configuration.port)"])
        try? await channel.close()
    }

    /// Returns once the connection is closed, by either side.
    package func closed() async {
        try? await channel.closeFuture.get()
    }
}
