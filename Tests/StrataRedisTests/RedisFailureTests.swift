import StrataRedis
import StrataTesting
import Testing

@Suite("Redis connection failures", .enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
struct RedisFailureTests {
    /// The error code a finished command task failed with, or nil when it succeeded.
    func failureCode(_ outcome: Result<RESPValue, any Error>) -> RedisError.Code? {
        guard case .failure(let error) = outcome else { return nil }
        return (error as? RedisError)?.code
    }

    /// Waits until the server reports `count` clients blocked in BLPOP, so their commands are surely in flight.
    func waitForBlockedClients(_ count: Int, on server: RedisServer) async throws {
        let observer = try await RedisConnection.connect(server.configuration)
        try await within(.seconds(5)) {
            while true {
                let info = try await observer.send("INFO", "clients").string ?? ""
                if info.contains("blocked_clients:\(count)\r\n") { return }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        await observer.close()
    }

    @Test func killingTheServerFailsInFlightCommandsAndARestartedServerWorks() async throws {
        try await withRedisServer { server in
            let redis = try await RedisConnection.connect(server.configuration)
            let subscriber = try await RedisPubSubConnection.connect(server.configuration)
            try await subscriber.subscribe("events")
            // A BLPOP that never returns, then more commands queued behind it on the same connection.
            let inFlight = (0..<5).map { i in
                Task { () async throws -> RESPValue in
                    i == 0 ? try await redis.send("BLPOP", "nothing", 0) : try await redis.send("INCR", "n")
                }
            }
            try await waitForBlockedClients(1, on: server)
            server.kill()

            for task in inFlight {
                let outcome = try await within(.seconds(3)) { await task.result }
                #expect(failureCode(outcome) == .connectionClosed, "\(outcome)")
            }
            // The subscriber notices too: its stream ends.
            try await within(.seconds(3)) { for await _ in subscriber.messages {} }

            let late = await #expect(throws: RedisError.self) { try await redis.send("PING") }
            #expect(late?.code == .connectionClosed)
            #expect(!redis.isActive)

            try await server.restart()
            let again = try await RedisConnection.connect(server.configuration)
            #expect(try await again.send("PING") == .simpleString("PONG"))
            await again.close()
        }
    }

    @Test func noReplyWithinIOTimeoutFailsEverythingWaitingAndCloses() async throws {
        try await withRedisServer { server in
            var configuration = server.configuration
            configuration.ioTimeout = .seconds(2)
            let redis = try await RedisConnection.connect(configuration)
            // The BLPOP never gets a reply; the PING queued behind it on the same connection waits for it.
            let blocked = Task { () async throws -> RESPValue in try await redis.send("BLPOP", "nothing", 0) }
            // Two tasks start in no fixed order: the PING once went first and got its PONG (CI,
            // 2026-12-05). It goes out only after the BLPOP has had time to be written.
            try await Task.sleep(for: .milliseconds(300))
            let queued = Task { () async throws -> RESPValue in try await redis.send("PING") }

            let first = try await within(.seconds(5)) { await blocked.result }
            let firstFailed = ContinuousClock.now
            let second = try await within(.seconds(5)) { await queued.result }
            // The queued command fails with the first timeout, not after a timeout of its own
            // (2 s later). The bound leaves room for a busy machine: 700 ms of it was once not
            // enough right after another suite's servers had stopped.
            #expect(ContinuousClock.now - firstFailed < .milliseconds(1500))
            #expect(failureCode(first) == .timeout, "\(first)")
            #expect(failureCode(second) == .timeout, "\(second)")
            await redis.closed()
            #expect(!redis.isActive)
        }
    }

    @Test func connectingToAClosedPortFailsFast() async throws {
        // Start and stop a server to get a port that was just free and now has no listener.
        let server = try await RedisServer.start()
        server.stop()
        var configuration = server.configuration
        configuration.connectTimeout = .milliseconds(300)
        let target = configuration
        let outcome = try await within(.seconds(2)) { () async -> Result<RedisConnection, RedisError> in
            do throws(RedisError) { return .success(try await RedisConnection.connect(target)) } catch { return .failure(error) }
        }
        guard case .failure(let error) = outcome else {
            Issue.record("connected to a port with no listener")
            return
        }
        #expect(error.code == .connectFailed)
    }

    @Test func closeFailsWaitingCommandsAndLaterOnes() async throws {
        try await withRedisServer { server in
            let redis = try await RedisConnection.connect(server.configuration)
            let blocked = Task { () async throws -> RESPValue in try await redis.send("BLPOP", "nothing", 0) }
            try await waitForBlockedClients(1, on: server)
            await redis.close()
            let outcome = try await within(.seconds(2)) { await blocked.result }
            #expect(failureCode(outcome) == .connectionClosed, "\(outcome)")
            let late = await #expect(throws: RedisError.self) { try await redis.pipeline([RESPCommand("PING")]) }
            #expect(late?.code == .connectionClosed)
        }
    }
}
