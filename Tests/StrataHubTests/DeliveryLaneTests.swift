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

    /// The hub keeps a channel's subscribers sorted by lane between publications; a subscribe or
    /// an unsubscribe in between changes whom the next publication reaches, on which lane.
    @Test func theLaneGroupsFollowSubscribersAsTheyChange() async throws {
        let h = try await SessionHarness()
        let first = HeldLane()
        let second = HeldLane()
        let a = try await connected(h, "a", lane: first)
        let b = try await connected(h, "b", lane: second)
        for s in [a, b] { try await subscribe(h, s, "news") }

        _ = try await h.publish("news", "one")
        #expect(first.submitted == 1 && second.submitted == 1)
        first.runAll()
        second.runAll()
        #expect(try pushes(h, b) == ["pub one"])

        await h.send(b, #"{"id":3,"unsubscribe":{"channel":"news"}}"#)
        _ = try h.messages(b)
        _ = try await h.publish("news", "two")
        #expect(first.submitted == 1 && second.submitted == 0, "no fan-out for a lane left without subscribers")
        first.runAll()

        let c = try await connected(h, "c", lane: second)
        try await subscribe(h, c, "news")
        _ = try await h.publish("news", "three")
        #expect(first.submitted == 1 && second.submitted == 1)
        first.runAll()
        second.runAll()

        #expect(try pushes(h, a) == ["pub one", "pub two", "pub three"])
        #expect(try pushes(h, b).isEmpty)
        #expect(try pushes(h, c) == ["pub three"])
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
