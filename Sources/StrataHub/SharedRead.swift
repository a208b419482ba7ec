import StrataCore

/// A stream read in progress that other readers of the same position join: the reader that
/// started it runs it in its own task and hands the result to everyone waiting.
///
/// Why not a `Task` for the read, which joiners would await: the read then ran on Swift's global
/// pool, so every subscribe — almost always the only reader of its position — cost a task and two
/// thread hops away from its connection's event loop (5 % of the server's CPU while 10,000 clients
/// connected and subscribed, `docs/benchmarks-log.md` §8).
final class SharedRead<Value: Sendable>: Sendable {
    private enum State {
        case running(waiters: [CheckedContinuation<Value, any Error>])
        case finished(Result<Value, any Error>)
    }

    private let state = Locked(State.running(waiters: []))

    /// The result, once the reader that runs the read has it.
    func wait() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let finished = state.withLock { s -> Result<Value, any Error>? in
                switch s {
                case .running(var waiters):
                    waiters.append(continuation)
                    s = .running(waiters: waiters)
                    return nil
                case .finished(let result):
                    return result
                }
            }
            if let finished { continuation.resume(with: finished) }
        }
    }

    /// Called once by the reader that ran the read.
    func finish(_ result: Result<Value, any Error>) {
        let waiters = state.withLock { s -> [CheckedContinuation<Value, any Error>] in
            guard case .running(let waiters) = s else { return [] }
            s = .finished(result)
            return waiters
        }
        for w in waiters { w.resume(with: result) }
    }
}
