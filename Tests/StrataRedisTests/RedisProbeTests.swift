import StrataCore
import StrataRedis
import StrataTesting
import Testing

/// The liveness probe against a redis-server stopped with SIGSTOP: nothing closes the
/// connections, nothing answers, and every connection must notice on its own.
@Suite("Liveness probes against a stopped redis-server", .enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
struct RedisProbeTests {
    /// A configuration probing every 400 ms; `io_timeout` is far longer, so only the probe can
    /// notice within the limits below (two intervals, plus slack for a machine running the
    /// other suites at the same time). A PONG later than one interval closes a connection, so
    /// the interval leaves room for a loaded machine too (200 ms failed once under the full
    /// suite).
    func probing(_ server: RedisServer) -> RedisConfiguration {
        var configuration = server.configuration
        configuration.probeInterval = .milliseconds(400)
        configuration.ioTimeout = .seconds(12)
        return configuration
    }

    @Test func anIdleCommandConnectionNoticesWithinTwoIntervals() async throws {
        try await withRedisServer { server in
            let connection = try await RedisConnection.connect(probing(server))
            #expect(try await connection.send("PING") == .simpleString("PONG"))
            // Idle and answering: the probes keep it open.
            try await Task.sleep(for: .milliseconds(1_300))
            #expect(connection.isActive)
            server.pause()
            defer { server.resume() }
            let start = ContinuousClock.now
            try await within(.seconds(8)) { await connection.closed() }
            // Two intervals (a probe that just passed, the next one unanswered) and scheduling slack.
            #expect(ContinuousClock.now - start < .seconds(4))
            let failed = await #expect(throws: RedisError.self) { _ = try await connection.send("PING") }
            #expect(failed?.code == .connectionClosed)
        }
    }

    @Test func aSubscriberNoticesAndResubscribesWhenTheServerAnswersAgain() async throws {
        try await withRedisServer { server in
            let subscriber = try await RedisSubscriber.connect(
                probing(server), backoff: RedisBackoff(initial: .milliseconds(20), maximum: .milliseconds(200)))
            try await subscriber.subscribe("news")
            server.pause()
            let start = ContinuousClock.now
            let lost = try await within(.seconds(8)) { () async -> RedisSubscriberEvent? in
                for await event in subscriber.events { return event }
                return nil
            }
            #expect(lost == .disconnected)
            #expect(ContinuousClock.now - start < .seconds(4))
            server.resume()
            let back = try await within(.seconds(10)) { () async -> RedisSubscriberEvent? in
                for await event in subscriber.events { return event }
                return nil
            }
            #expect(back == .resubscribed)
            let publisher = try await RedisConnection.connect(server.configuration)
            #expect(try await publisher.send("PUBLISH", "news", "again") == .integer(1))
            await publisher.close()
            await subscriber.close()
        }
    }

    /// The kernel accepts the TCP connection while the server is stopped: the connect's own
    /// PING is what refuses to hand out a connection nobody answers on.
    @Test func connectingToAStoppedServerFailsWithinTheIOTimeout() async throws {
        try await withRedisServer { server in
            var configuration = server.configuration
            configuration.ioTimeout = .milliseconds(300)
            server.pause()
            defer { server.resume() }
            let refused = await #expect(throws: RedisError.self) { _ = try await RedisConnection.connect(configuration) }
            #expect(refused?.code == .timeout)
        }
    }
}
