import NIOCore

/// One scheduled task per connection for the oldest unanswered request's deadline.
///
/// Requests are answered in order and all get the same timeout, so the oldest one always has
/// the earliest deadline. Rather than rescheduling on every reply, the timer stays armed for the
/// deadline it was set for; when it fires it either reports a timeout or re-arms for the
/// current oldest request. A liveness PING's shorter deadline moves an armed timer earlier.
/// Event-loop confined, like the handler that owns it.
struct DeadlineTimer {
    private var scheduled: Scheduled<Void>?
    private var deadline: NIODeadline?

    /// Schedules `fire` at `deadline` unless a task is already pending that fires no later.
    mutating func arm(at deadline: NIODeadline, on eventLoop: any EventLoop, _ fire: @escaping () -> Void) {
        if scheduled != nil, let pending = self.deadline, pending <= deadline { return }
        scheduled?.cancel()
        self.deadline = deadline
        scheduled = eventLoop.assumeIsolated().scheduleTask(deadline: deadline, fire)
    }

    /// Call first thing in the fired task, so it can re-arm.
    mutating func fired() {
        scheduled = nil
        deadline = nil
    }

    mutating func cancel() {
        scheduled?.cancel()
        scheduled = nil
        deadline = nil
    }
}
