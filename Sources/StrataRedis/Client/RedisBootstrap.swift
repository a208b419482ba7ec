import NIOCore
import NIOPosix
import StrataTLS

/// The TCP connect shared by both connection kinds; each brings its own handler.
enum RedisBootstrap {
    static func connect(
        _ configuration: RedisConfiguration, group: any EventLoopGroup,
        addHandlers: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void
    ) async throws(RedisError) -> any Channel {
        var configuration = configuration
        if let locate = configuration.locate {
            let address = try await locate()
            configuration.host = address.host
            configuration.port = address.port
        }
        let handshake = RedisHandshakeHandler.commands(for: configuration)
        let tls = configuration.tls
        let host = configuration.host
        let ioTimeout = TimeAmount(configuration.ioTimeout)
        let loop = group.next()
        // Completed by the handshake handler, which is in the pipeline from the start: a TLS
        // handshake can fail before the connect's future has even resumed this task, and its
        // error must not pass by an empty pipeline (it did under load: the start then reported a
        // PING timeout or "I/O on closed channel" instead of the certificate's problem).
        let done = loop.makePromise(of: Void.self)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            // Commands are small and latency-bound; Nagle would hold pipelined writes back.
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    // TLS first: every handler after it reads and writes plain RESP.
                    if let tls { try sync.addHandler(try tls.handler(host: host)) }
                    // AUTH and SELECT (or a PING) first, then the connection's own handler takes the channel.
                    try sync.addHandler(RedisHandshakeHandler(commands: handshake, timeout: ioTimeout, promise: done), name: "handshake")
                }
            }
        do {
            let channel: any Channel
            do {
                channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
            } catch {
                done.fail(error)  // the handler may never have been made: nothing else completes the promise
                throw error
            }
            do {
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
