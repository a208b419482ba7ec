import StrataCore
import StrataProtocol
import Testing

@testable import StrataHub

/// A lane that holds the hub's work until the test runs it, as an event loop busy elsewhere would.
final class HeldLane: DeliveryLane {
    private let held = Locked<[LaneFanOut]>([])

    func submit(_ fanOut: LaneFanOut) { held.withLock { $0.append(fanOut) } }

    var submitted: Int { held.withLock { $0.count } }

    func runAll() {
        let fanOuts = held.withLock { all in
            defer { all = [] }
            return all
        }
        for f in fanOuts { f.runToEnd() }
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

    /// A lane runs a fan-out a step (a subscriber) at a time, so it can pause between two; the
    /// fan-out's end work runs once, after the last step.
    @Test func aFanOutRunsStepByStepThenFinishesOnce() {
        let log = Locked<[String]>([])
        let fanOut = LaneFanOut(steps: 3) { i in log.withLock { $0.append("step \(i)") } } finish: {
            log.withLock { $0.append("finish") }
        }
        #expect(fanOut.runNext())
        #expect(log.withLock { $0 } == ["step 0"])
        fanOut.runToEnd()
        #expect(!fanOut.runNext())
        #expect(log.withLock { $0 } == ["step 0", "step 1", "step 2", "finish"])
    }
}
