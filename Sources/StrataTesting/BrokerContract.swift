import StrataBroker
import StrataCore
import StrataHistory
import Testing

/// The behaviour every `Broker` must have, seen from one node: the local broker and the Redis
/// broker run the same checks. Each check makes a fresh broker (and whatever it stands on) with
/// `makeBroker` and tears it down with the returned `close`.
package struct BrokerContract: Sendable {
    package typealias Made = (broker: any Broker, close: @Sendable () async -> Void)
    package let makeBroker: @Sendable () async throws -> Made

    package init(makeBroker: @escaping @Sendable () async throws -> Made) {
        self.makeBroker = makeBroker
    }

    static let retention = StreamRetention(size: 100, ttlSeconds: 60, metaTTLSeconds: 3600)

    func started() async throws -> (any Broker, BrokerEventRecorder, @Sendable () async -> Void) {
        let made = try await makeBroker()
        let recorder = BrokerEventRecorder()
        try await made.broker.start(handler: recorder)
        return (made.broker, recorder, made.close)
    }

    func publish(_ broker: any Broker, _ channel: String, _ text: String, _ options: AppendOptions? = nil) async throws -> AppendResult {
        try await broker.publish(
            channel: channel, publication: Publication(data: Array(text.utf8)), options: options ?? AppendOptions(retention: Self.retention))
    }

    /// A subscribed channel's publications reach the node once each, in offset order, as
    /// `publish` numbered them.
    package func deliversInOffsetOrder() async throws {
        let (broker, recorder, close) = try await started()
        try await broker.subscribe(channel: "c")
        var results: [AppendResult] = []
        for i in 1...20 { results.append(try await publish(broker, "c", "m\(i)")) }
        let epoch = try #require(results.first?.position.epoch)
        #expect(results.map(\.position.offset) == Array(1...20))
        #expect(try await recorder.next(20) == (1...20).map { .publication("c", UInt64($0), epoch, Array("m\($0)".utf8), previous: nil) })
        await close()
    }

    /// Concurrent publishers to one channel: every offset handed out once, delivered in order.
    package func concurrentPublishesStayInOrder() async throws {
        let (broker, recorder, close) = try await started()
        try await broker.subscribe(channel: "busy")
        let offsets = try await withThrowingTaskGroup(of: UInt64.self) { group in
            for i in 0..<100 { group.addTask { try await publish(broker, "busy", "\(i)").position.offset } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(offsets.sorted() == Array(1...100))
        let delivered = try await recorder.next(100).compactMap { event -> UInt64? in
            if case .publication(_, let offset, _, _, _) = event { return offset }
            return nil
        }
        #expect(delivered == Array(1...100))
        await close()
    }

    /// What was published is in history, under the epoch publishes reported.
    package func historyHoldsWhatWasPublished() async throws {
        let (broker, _, close) = try await started()
        let first = try await publish(broker, "h", "a")
        _ = try await publish(broker, "h", "b")
        let read = try await broker.history(channel: "h", filter: HistoryFilter(limit: -1), metaTTLSeconds: 3600)
        #expect(read.publications.map(\.offset) == [1, 2])
        #expect(read.publications.map(\.data) == [Array("a".utf8), Array("b".utf8)])
        #expect(read.top == StreamPosition(offset: 2, epoch: first.position.epoch))
        await close()
    }

    /// Joins and leaves of a subscribed channel reach the node.
    package func joinAndLeaveReachTheNode() async throws {
        let (broker, recorder, close) = try await started()
        try await broker.subscribe(channel: "room")
        try await broker.publishJoin(channel: "room", info: ClientInfo(user: "u", client: "c1"))
        try await broker.publishLeave(channel: "room", info: ClientInfo(user: "u", client: "c1"))
        #expect(try await recorder.next(2) == [.join("room", "c1"), .leave("room", "c1")])
        await close()
    }

    /// With delta asked for, a publication comes with the previous one of its stream (the base).
    package func deltaCarriesThePrevious() async throws {
        let (broker, recorder, close) = try await started()
        try await broker.subscribe(channel: "d")
        let options = AppendOptions(retention: Self.retention, useDelta: true)
        _ = try await publish(broker, "d", "first", options)
        let second = try await publish(broker, "d", "second", options)
        #expect(second.previous?.data == Array("first".utf8))
        let events = try await recorder.next(2)
        #expect(events.last == .publication("d", 2, second.position.epoch, Array("second".utf8), previous: Array("first".utf8)))
        await close()
    }

    /// A channel without history still delivers, with no offset.
    package func withoutHistoryThereIsNoOffset() async throws {
        let (broker, recorder, close) = try await started()
        try await broker.subscribe(channel: "live")
        let r = try await publish(broker, "live", "x", AppendOptions(retention: StreamRetention(size: 0, ttlSeconds: 0, metaTTLSeconds: 0)))
        #expect(r.position.offset == 0)
        #expect(try await recorder.next(1) == [.publication("live", 0, r.position.epoch, Array("x".utf8), previous: nil)])
        await close()
    }

    /// Removing history keeps the stream's position: the next publication continues it.
    package func removeHistoryKeepsThePosition() async throws {
        let (broker, _, close) = try await started()
        _ = try await publish(broker, "r", "a")
        let second = try await publish(broker, "r", "b")
        try await broker.removeHistory(channel: "r")
        let read = try await broker.history(channel: "r", filter: HistoryFilter(limit: -1), metaTTLSeconds: 3600)
        #expect(read.publications.isEmpty)
        #expect(read.top == second.position)
        let third = try await publish(broker, "r", "c")
        #expect(third.position == StreamPosition(offset: 3, epoch: second.position.epoch))
        await close()
    }

    package enum Check: String, CaseIterable, Sendable, CustomStringConvertible {
        case deliversInOffsetOrder, concurrentPublishesStayInOrder, historyHoldsWhatWasPublished, joinAndLeaveReachTheNode
        case deltaCarriesThePrevious, withoutHistoryThereIsNoOffset, removeHistoryKeepsThePosition
        package var description: String { rawValue }
    }

    package func run(_ check: Check) async throws {
        switch check {
        case .deliversInOffsetOrder: try await deliversInOffsetOrder()
        case .concurrentPublishesStayInOrder: try await concurrentPublishesStayInOrder()
        case .historyHoldsWhatWasPublished: try await historyHoldsWhatWasPublished()
        case .joinAndLeaveReachTheNode: try await joinAndLeaveReachTheNode()
        case .deltaCarriesThePrevious: try await deltaCarriesThePrevious()
        case .withoutHistoryThereIsNoOffset: try await withoutHistoryThereIsNoOffset()
        case .removeHistoryKeepsThePosition: try await removeHistoryKeepsThePosition()
        }
    }
}
