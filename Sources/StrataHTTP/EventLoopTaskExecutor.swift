import NIOCore

/// A task executor that runs jobs on one NIO event loop.
///
/// Why: a connection's bytes arrive on its event loop, but Swift runs the task that handles them
/// on the global pool. Every request then crosses threads at least twice (loop → pool for the
/// request, pool → loop for the response), and a call to Redis twice more. On a busy or pinned
/// core each crossing is a context switch. A task that prefers its connection's event loop
/// resumes where the I/O completes, so a request that awaits a reply on a connection of the same
/// loop never leaves that thread.
///
/// Work on the loop must not block: the LMDB store writes on its own thread and its reads are
/// memory-mapped lookups; nothing in the request path waits on a lock held across I/O.
package final class EventLoopTaskExecutor: TaskExecutor {
    package let eventLoop: any EventLoop

    package init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    package func enqueue(_ job: UnownedJob) {
        let executor = asUnownedTaskExecutor()
        // From the loop itself this only appends to the loop's task queue (no wake-up).
        eventLoop.execute { job.runSynchronously(on: executor) }
    }
}

extension EventLoopTaskExecutor {
    /// How long a connection with more work waiting steps aside (`nextTurn`).
    package static let turnGap = TimeAmount.microseconds(100)

    /// Suspends the calling task (running on this executor) until the loop has had a chance to
    /// poll its sockets.
    ///
    /// Why not `Task.yield()`: that re-enqueues the task on the loop's queue, and NIO runs its
    /// queue until it is empty before it polls again, so a connection that keeps yielding still
    /// holds every other connection's I/O back. A continuation resumed by a task scheduled a
    /// little later lets the loop end its tick and poll first (docs/reliability.md, "Hostile
    /// clients").
    package func nextTurn() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            eventLoop.scheduleTask(in: Self.turnGap) { continuation.resume() }
        }
    }
}
