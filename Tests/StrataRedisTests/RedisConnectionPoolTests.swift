import NIOCore
import NIOPosix
import StrataCore
import StrataRedis
import StrataTesting
import StrataHTTP
import Testing

@Suite("RedisBackoff")
struct RedisBackoffTests {
    @Test func doublesUpToTheMaximumWithJitterInTheUpperHalf() {
        let backoff = RedisBackoff(initial: .milliseconds(50), maximum: .seconds(2))
        var rng = SplitMix(state: 5)
        let ceilings: [Duration] = [50, 100, 200, 400, 800, 1600, 2000, 2000, 2000].map { .milliseconds($0) }
        for (index, ceiling) in ceilings.enumerated() {
            for _ in 0..<100 {
                let delay = backoff.delay(afterFailures: index + 1, using: &rng)
                #expect(delay >= ceiling / 2 && delay <= ceiling, "failure \(index + 1): \(delay)")
            }
        }
        #expect(backoff.delay(afterFailures: 1_000, using: &rng) <= .seconds(2))
    }
}

@Suite("RedisConnectionPool against redis-server", .enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
struct RedisConnectionPoolTests {
    func connectedClients(_ server: RedisServer) async throws -> Int? {
        let observer = try await RedisConnection.connect(server.configuration)
        let info = try await observer.send("INFO", "clients").string ?? ""
        await observer.close()
        let line = info.split(separator: "\r\n").first { $0.hasPrefix("connected_clients:") }
        return line.flatMap { Int($0.dropFirst("connected_clients:".count)) }
    }

    @Test func commandsSpreadOverEveryConnection() async throws {
        try await withRedisServer { server in
            let pool = RedisConnectionPool(configuration: server.configuration, size: 3)
            try await withThrowingTaskGroup(of: RESPValue.self) { group in
                for _ in 0..<30 { group.addTask { try await pool.send("INCR", "n") } }
                try await group.waitForAll()
            }
            #expect(try await pool.send("GET", "n").int == 30)
            let batch = try await pool.pipeline((1...100).map { RESPCommand("RPUSH", "list", $0) })
            #expect(batch == (1...100).map { RESPValue.integer(Int64($0)) })
            // Three pool connections plus the observer.
            #expect(try await connectedClients(server) == 4)
            await pool.close()
            let error = await #expect(throws: RedisError.self) { try await pool.send("PING") }
            #expect(error?.code == .connectionClosed)
        }
    }

    /// A task on an event loop (as the server's connection tasks are) gets a connection of that
    /// loop, so Redis's reply resumes it without a thread switch, and always the same one, so a
    /// loop turn's commands leave in one write; off any loop it still gets one.
    @Test func callerLoopConnectionIsOnTheCallersLoop() async throws {
        try await withRedisServer { server in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
            let pool = RedisConnectionPool(configuration: server.configuration, size: 6, eventLoopGroup: group)
            for loop in group.makeIterator() {
                var used: [ObjectIdentifier] = []
                for _ in 0..<4 {
                    let (sameLoop, id) = try await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) {
                        let connection = try await pool.connectionOnCallerLoop()
                        #expect(try await connection.send("PING") == .simpleString("PONG"))
                        return (connection.eventLoop === loop && loop.inEventLoop, ObjectIdentifier(connection))
                    }
                    #expect(sameLoop)
                    used.append(id)
                }
                #expect(Set(used).count == 1, "one connection per loop")
            }
            #expect(try await pool.connectionOnCallerLoop().send("PING") == .simpleString("PONG"))
            // One connection per loop (the call off any loop takes the first slot, loop 0's), plus the observer.
            #expect(try await connectedClients(server) == 4)
            await pool.close()
            try await group.shutdownGracefully()
        }
    }

    @Test func reconnectsAfterTheServerRestarts() async throws {
        try await withRedisServer { server in
            let pool = RedisConnectionPool(
                configuration: server.configuration, size: 2, backoff: RedisBackoff(initial: .milliseconds(20), maximum: .milliseconds(200)))
            try await pool.connectAll()
            #expect(try await pool.send("SET", "k", "v") == .simpleString("OK"))
            server.kill()

            // Lost connections and refused reconnects both fail fast; nothing hangs.
            for _ in 0..<4 {
                let outcome = try await within(.seconds(2)) { () async -> RedisError.Code? in
                    do throws(RedisError) {
                        _ = try await pool.send("PING")
                        return nil
                    } catch {
                        return error.code
                    }
                }
                #expect(outcome == .connectionClosed || outcome == .connectFailed, "\(String(describing: outcome))")
            }

            try await server.restart()
            // Every slot comes back once its backoff has passed.
            let recovered = try await within(.seconds(3)) { () async -> Int in
                var successes = 0
                while successes < 4 {
                    if (try? await pool.send("PING")) == .simpleString("PONG") { successes += 1 } else {
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
                return successes
            }
            #expect(recovered == 4)
            await pool.close()
        }
    }

    /// Slots that failed during an outage wait out a long backoff, but once another slot has
    /// connected the server is known to be back: they reconnect at once instead of failing
    /// commands for the rest of their delay (a publish after Redis restarts must not fail).
    @Test func slotsInBackoffRetryOnceAnotherSlotConnected() async throws {
        try await withRedisServer { server in
            let pool = RedisConnectionPool(
                configuration: server.configuration, size: 3, backoff: RedisBackoff(initial: .seconds(30), maximum: .seconds(30)))
            server.kill()
            // Round-robin: slots 0 and 1 try to connect, fail and back off for 30 s.
            for _ in 0..<2 {
                await #expect(throws: RedisError.self) { try await pool.send("PING") }
            }

            try await server.restart()
            // Slot 2 never failed and connects; slots 0 and 1 follow without waiting 30 s.
            let replies = try await within(.seconds(5)) { () async throws -> [RESPValue] in
                var replies: [RESPValue] = []
                for _ in 0..<6 { replies.append(try await pool.send("PING")) }
                return replies
            }
            #expect(replies == Array(repeating: .simpleString("PONG"), count: 6))
            await pool.close()
        }
    }
}
