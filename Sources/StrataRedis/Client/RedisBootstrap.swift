import NIOCore
import NIOPosix

/// The TCP connect shared by both connection kinds; each brings its own handler.
enum RedisBootstrap {
    static func connect(
        _ configuration: RedisConfiguration, group: any EventLoopGroup,
        addHandlers: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void
    ) async throws(RedisError) -> any Channel {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            // Commands are small and latency-bound; Nagle would hold pipelined writes back.
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try addHandlers(channel.pipeline.syncOperations) }
            }
        do {
            return try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
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
