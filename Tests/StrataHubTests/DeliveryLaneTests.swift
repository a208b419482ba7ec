import StrataCore
import StrataProtocol
import Testing

@testable import StrataHub

/// A lane that holds the hub's work until the test runs it, as an event loop busy elsewhere would.
final class HeldLane: DeliveryLane {
    private let held = Locked<[@Sendable () -> Void]>([])

    func submit(_ work: @escaping @Sendable () -> Void) { held.withLock { $0.append(work) } }

    var submitted: Int { held.withLock { $0.count } }

    func runAll() {
        let work = held.withLock { all in
            defer { all = [] }
            return all
        }
        for w in work { w() }
    }
}

@Suite("The hub fans out on each connection's lane")
struct DeliveryLaneTests {
    func connected(_ h: SessionHarness, _ user: String, lane: HeldLane?) async throws -> ClientSession {
        let s = ClientSession(node: h.node, codec: JSONCodec(), lane: lane)
        await s.handleFrame(Array(#"{"id":1,"connect":{"token":"\#(h.token(user))"}}"#.utf8))
        try #require(try h.messages(s).first?["connect"] != nil)
        return s
    }

    func subscribe(_ h: SessionHarness, _ s: ClientSession, _ channel: String) async throws {
        await h.send(s, #"{"id":2,"subscribe":{"channel":"\#(channel)"}}"#)
        try #require(try h.messages(s).first?["subscribe"] != nil)
    }

    /// Pushes queued for the session: (kind, data's "t" or the joining user).
    func pushes(_ h: SessionHarness, _ s: ClientSession) throws -> [String] {
        try h.messages(s).compactMap { m -> String? in
            guard let push = m["push"] else { return nil }
            if let t = push["pub"]?["data"]?["t"]?.str { return "pub \(t)" }
            if let user = push["join"]?["info"]?["user"]?.str { return "join \(user)" }
            return nil
        }
    }

    /// Sessions on a lane get a publication when the lane runs the hub's work, one submission
    /// per lane for all of them; a session without a lane gets it at once.
    @Test func sessionsOnALaneGetThePublicationWhenTheLaneRuns() async throws {
        let h = try await SessionHarness()
        let lane = HeldLane()
        let a = try await connected(h, "a", lane: lane)
        let b = try await connected(h, "b", lane: lane)
        let c = try await connected(h, "c", lane: nil)
        for s in [a, b, c] { try await subscribe(h, s, "news") }

        _ = try await h.publish("news", "one")
        #expect(try pushes(h, c) == ["pub one"])
        #expect(lane.submitted == 1)
        #expect(a.queue.queuedBytes == 0 && b.queue.queuedBytes == 0)

        lane.runAll()
        #expect(try pushes(h, a) == ["pub one"])
        #expect(try pushes(h, b) == ["pub one"])
    }

    /// Joins take the same lane as publications, so a subscriber hears them in the hub's order.
    @Test func joinsKeepTheirOrderWithPublications() async throws {
        let h = try await SessionHarness()
        let lane = HeldLane()
        let a = try await connected(h, "a", lane: lane)
        try await subscribe(h, a, "chat:room")
        lane.runAll()
        _ = try h.messages(a)

        _ = try await h.publish("chat:room", "one")
        let b = try await connected(h, "b", lane: nil)
        try await subscribe(h, b, "chat:room")
        _ = try await h.publish("chat:room", "two")
        #expect(try pushes(h, a).isEmpty)

        lane.runAll()
        #expect(try pushes(h, a) == ["pub one", "join b", "pub two"])
    }
}
