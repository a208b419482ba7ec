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
