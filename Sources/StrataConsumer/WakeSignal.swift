import Synchronization

/// Wakes one waiting partition worker: a notification (LISTEN) or the poll interval, whichever
/// comes first. A signal with nobody waiting is kept for the next wait, so a notification that
/// arrives while a batch runs is not lost.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        /// Which wait a timer belongs to: a late timer never wakes a later wait.
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let w = s.waiter else {
                s.pending = true
                return nil
            }
            s.waiter = nil
            return w
        }
        waiter?.resume()
    }

    private func timedOut(_ generation: UInt64) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard s.generation == generation, let w = s.waiter else { return nil }
            s.waiter = nil
            return w
        }
        waiter?.resume()
    }

    /// Returns after a signal, `timeout`, or cancellation.
    func wait(timeout: Duration) async {
        let generation = state.withLock { s -> UInt64 in
            s.generation &+= 1
            return s.generation
        }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            self?.timedOut(generation)
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.pending || Task.isCancelled {
                        s.pending = false
                        return true
                    }
                    s.waiter = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            timedOut(generation)
        }
    }
}
