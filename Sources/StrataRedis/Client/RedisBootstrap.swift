import NIOCore
import NIOPosix

/// The TCP connect shared by both connection kinds; each brings its own handler.
enum RedisBootstrap {
    static func connect(
        _ configuration: RedisConfiguration, group: any EventLoopGroup,
        addHandlers: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void
    ) async throws(RedisError) -> any Channel {
        let plain = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            // Commands are small and latency-bound; Nagle would hold pipelined writes back.
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
        let handshake = RedisHandshakeHandler.commands(for: configuration)
        do {
            if handshake.isEmpty {
                return try await plain.channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try addHandlers(channel.pipeline.syncOperations) }
                }.connect(host: configuration.host, port: configuration.port).get()
            }
            // AUTH and SELECT first, then the connection's own handler takes the channel.
            let channel = try await plain.connect(host: configuration.host, port: configuration.port).get()
            do {
                let done = channel.eventLoop.makePromise(of: Void.self)
                do {
                    try await channel.eventLoop.submit {
                        let handler = try RedisHandshakeHandler(commands: handshake, timeout: TimeAmount(configuration.ioTimeout), promise: done)
                        try channel.pipeline.syncOperations.addHandler(handler, name: "handshake")
                    }.get()
                } catch {
                    done.fail(error)  // the handler never ran: nothing else completes the promise
                    throw error
                }
                try await done.futureResult.get()
                try await channel.eventLoop.submit {
                    let sync = channel.pipeline.syncOperations
                    // Removed at once (nothing of it is pending): Redis sends nothing unasked.
                    _ = sync.removeHandler(name: "handshake")
                    try addHandlers(sync)
                }.get()
                return channel
            } catch {
                try? await channel.close()
                throw error
            }
        } catch let error as RedisError {
            throw error
        } catch ChannelError.connectTimeout {
            throw RedisError(
                .connectFailed, "connect to \(configuration.host):\(configuration.port) took longer than \(configuration.connectTimeout)")
        } catch {
            throw RedisError(.connectFailed, "connect to \(configuration.host):\(configuration.port): \(error)")
        }
    }
}
