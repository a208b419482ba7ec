import NIOCore
import NIOPosix
import StrataTLS

/// The TCP connect shared by both connection kinds; each brings its own handler.
enum RedisBootstrap {
    static func connect(
        _ configuration: RedisConfiguration, group: any EventLoopGroup,
        addHandlers: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void
    ) async throws(RedisError) -> any Channel {
        let tcp = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            // Commands are small and latency-bound; Nagle would hold pipelined writes back.
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
        var configuration = configuration
        if let locate = configuration.locate {
            let address = try await locate()
            configuration.host = address.host
            configuration.port = address.port
        }
        let handshake = RedisHandshakeHandler.commands(for: configuration)
        let tls = configuration.tls
        let host = configuration.host
        let bootstrap = tcp.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let sync = channel.pipeline.syncOperations
                // TLS first: every handler after it reads and writes plain RESP.
                if let tls { try sync.addHandler(try tls.handler(host: host)) }
            }
        }
        do {
            let channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
            // AUTH and SELECT (or a PING) first, then the connection's own handler takes the channel.
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
            // The handshake's errors (AUTH, SELECT, TLS) say which server refused.
            throw RedisError(error.code, "\(configuration.host):\(configuration.port): \(error.message)")
        } catch ChannelError.connectTimeout {
            throw RedisError(
                .connectFailed, "connect to \(configuration.host):\(configuration.port) took longer than \(configuration.connectTimeout)")
        } catch {
            throw RedisError(.connectFailed, "connect to \(configuration.host):\(configuration.port): \(error)")
        }
    }
}
