import Logging
import NIOCore
import StrataCore
import Synchronization

/// When any slot of a pool last connected: the server is back, so slots waiting out a backoff
/// may try again at once instead of failing commands for the rest of their delay.
final class RedisPoolRecovery: Sendable {
    private let lastConnect = Mutex<ContinuousClock.Instant?>(nil)

    func connected() { lastConnect.withLock { $0 = .now } }

    func connected(after instant: ContinuousClock.Instant) -> Bool {
        lastConnect.withLock { $0.map { $0 > instant } ?? false }
    }
}

/// One member of a `RedisConnectionPool`: a connection made on first use and made again after
/// it is lost.
///
/// Commands in flight when a connection is lost are not retried (they may have run); the next
/// command reconnects. While connect attempts keep failing, commands fail at once with the
/// last connect error until the backoff delay has passed, so a dead server is not hammered and
/// callers are not kept waiting; once another slot of the pool has connected since, the wait is
/// over.
final class RedisPoolSlot: Sendable {
    private enum State {
        /// `failedAt`: when the failed attempt began.
        case disconnected(failures: Int, failedAt: ContinuousClock.Instant, retryAt: ContinuousClock.Instant, lastError: RedisError?)
        case connecting(Task<RedisConnection, any Error>)
        case connected(RedisConnection)
        case closed
    }

    private enum Next {
        case use(RedisConnection)
        case wait(Task<RedisConnection, any Error>)
        case fail(RedisError)
    }

    private let configuration: RedisConfiguration
    private let backoff: RedisBackoff
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let recovery: RedisPoolRecovery
    private let state = Mutex(State.disconnected(failures: 0, failedAt: .now, retryAt: .now, lastError: nil))

    init(
        configuration: RedisConfiguration, backoff: RedisBackoff, eventLoopGroup: any EventLoopGroup, recovery: RedisPoolRecovery,
        logger: Logger
    ) {
        self.configuration = configuration
        self.backoff = backoff
        self.recovery = recovery
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    func connection() async throws(RedisError) -> RedisConnection {
        let next = state.withLock { state -> Next in
            switch state {
            case .connected(let connection) where connection.isActive:
                return .use(connection)
            case .connected:
                // Lost since last use: reconnect at once, the first attempt needs no backoff.
                return .wait(startConnecting(&state, failures: 0))
            case .connecting(let task):
                return .wait(task)
            case .disconnected(let failures, let failedAt, let retryAt, let lastError):
                if let lastError, ContinuousClock.now < retryAt, !recovery.connected(after: failedAt) {
                    return .fail(RedisError(.connectFailed, "\(lastError.message) (reconnecting with backoff)"))
                }
                return .wait(startConnecting(&state, failures: failures))
            case .closed:
                return .fail(RedisError(.connectionClosed, "connection pool closed"))
            }
        }
        switch next {
        case .use(let connection):
            return connection
        case .fail(let error):
            throw error
        case .wait(let task):
            do {
                return try await task.value
            } catch {
                throw RedisError.from(error)
            }
        }
    }

    /// Closes the current connection but not the slot: the next use connects again (to a
    /// master Sentinel says has changed). An attempt under way is left to finish.
    func drop() async {
        let current = state.withLock { state -> RedisConnection? in
            if case .connected(let connection) = state { return connection }
            return nil
        }
        await current?.close()
    }

    /// Closes the connection and refuses further use; an attempt under way closes what it gets.
    func close() async {
        let previous = state.withLock { state -> State in
            defer { state = .closed }
            return state
        }
        switch previous {
        case .connected(let connection): await connection.close()
        case .connecting(let task): await (try? task.value)?.close()
        case .disconnected, .closed: break
        }
    }

    private func startConnecting(_ state: inout State, failures: Int) -> Task<RedisConnection, any Error> {
        let task = Task { () async throws -> RedisConnection in
            try await self.connect(failures: failures)
        }
        state = .connecting(task)
        return task
    }

    private func connect(failures: Int) async throws(RedisError) -> RedisConnection {
        // When the attempt began: a slot that connects while this attempt is still timing out
        // proves the server back, so it counts as after the failure.
        let attemptStart = ContinuousClock.now
        let connection: RedisConnection
        do throws(RedisError) {
            connection = try await RedisConnection.connect(configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        } catch {
            let delay = backoff.delay(afterFailures: failures + 1)
            logger.warning(
                "redis connect failed", metadata: ["error": "\(error)", "failures": "\(failures + 1)", "retry_in": "\(delay)"])
            state.withLock { state in
                if case .closed = state { return }
                state = .disconnected(failures: failures + 1, failedAt: attemptStart, retryAt: .now + delay, lastError: error)
            }
            throw error
        }
        let closedMeanwhile = state.withLock { state -> Bool in
            if case .closed = state { return true }
            state = .connected(connection)
            return false
        }
        recovery.connected()
        if closedMeanwhile {
            await connection.close()
            throw RedisError(.connectionClosed, "connection pool closed")
        }
        return connection
    }
}
