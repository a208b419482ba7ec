import NIOCore
import StrataCore
import StrataHTTP
import StrataHub

/// An open HTTP stream (HTTP-streaming, SSE, one-way): its session and the inbox that hands the
/// session its frames one at a time, in order — the stream's first frame, then (emulated
/// connections) the frames of `/emulation` requests.
final class StreamConnection: Sendable {
    let session: ClientSession
    let inbox = CommandInbox()
    private let executor: EventLoopTaskExecutor

    init(session: ClientSession, executor: EventLoopTaskExecutor) {
        self.session = session
        self.executor = executor
    }

    /// The stream's own first frame (the connect command).
    func submit(_ frame: [UInt8]) {
        if inbox.push(frame).startTask { startTask() }
    }

    /// A frame from an `/emulation` request; `done` runs once the session handled it.
    func submit(_ frame: [UInt8], done: @escaping @Sendable () -> Void) {
        if inbox.pushEmulated(frame, done: done) { startTask() }
    }

    /// The stream ended: the session learns of it after the frames before.
    func close() {
        if inbox.close() { startTask() }
    }

    /// Nothing to resume: an emulated connection's commands do not arrive on its own socket,
    /// and each `/emulation` request waits for its frame to be handled.
    private func startTask() {
        inbox.startTask(session: session, executor: executor) {}
    }
}

/// The emulated connections of this node by session id, where `/emulation` finds them.
final class EmulatedConnections: Sendable {
    private let connections = Locked<[String: StreamConnection]>([:])

    func add(_ id: String, _ connection: StreamConnection) {
        connections.withLock { $0[id] = connection }
    }

    func remove(_ id: String) {
        connections.withLock {
            $0[id] = nil
            $0.shrinkIfSparse()
        }
    }

    func find(_ id: String) -> StreamConnection? {
        connections.withLock { $0[id] }
    }
}
