import StrataBroker
import StrataCore
import StrataHistory

/// Records what a broker reports, as a node would receive it, for tests to await in order.
package final class BrokerEventRecorder: BrokerEventHandler {
    package enum Event: Equatable, Sendable {
        case publication(String, UInt64, String, [UInt8], previous: [UInt8]?)
        case join(String, String)
        case leave(String, String)
        case gap([String])
    }

    package let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation

    package init() {
        (events, continuation) = AsyncStream.makeStream(of: Event.self)
    }

    package func handlePublication(channel: String, result: AppendResult) {
        continuation.yield(
            .publication(channel, result.position.offset, result.position.epoch, result.publication.data, previous: result.previous?.data))
    }
    package func handleJoin(channel: String, info: ClientInfo) { continuation.yield(.join(channel, info.client)) }
    package func handleLeave(channel: String, info: ClientInfo) { continuation.yield(.leave(channel, info.client)) }
    package func handleDeliveryGap(channels: [String]) { continuation.yield(.gap(channels.sorted())) }

    /// The next `count` events, or `TimedOut` after `limit`.
    package func next(_ count: Int, within limit: Duration = .seconds(5)) async throws -> [Event] {
        let events = self.events
        return try await within(limit) {
            var out: [Event] = []
            for await e in events {
                out.append(e)
                if out.count == count { break }
            }
            return out
        }
    }
}

package struct TimedOut: Error, CustomStringConvertible {
    package let limit: Duration
    package var description: String { "did not finish within \(limit)" }
}

/// Runs `body` but gives up after `limit`, so a hang fails the test instead of stalling the run.
///
/// A task group would wait for a hung child before returning; here the loser is left running
/// unstructured and the first result wins.
package func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let (results, continuation) = AsyncStream.makeStream(of: Result<T, any Error>.self)
    let worker = Task {
        do { continuation.yield(.success(try await body())) } catch { continuation.yield(.failure(error)) }
    }
    let timer = Task {
        try? await Task.sleep(for: limit)
        continuation.yield(.failure(TimedOut(limit: limit)))
    }
    defer {
        worker.cancel()
        timer.cancel()
    }
    for await result in results { return try result.get() }
    throw TimedOut(limit: limit)
}
