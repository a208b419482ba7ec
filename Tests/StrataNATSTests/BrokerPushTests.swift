import StrataCore
import StrataProtocol
import Testing

@Suite("NATS broker messages (Centrifugo's Push)")
struct BrokerPushTests {
    @Test func publicationsJoinsAndLeavesGoThereAndBack() throws {
        let info = ClientInfo(user: "u", client: "c", connInfo: Array(#"{"a":1}"#.utf8), chanInfo: nil)
        let messages: [BrokerPush] = [
            .publication(
                channel: "chat:1", Publication(offset: 5, data: Array(#"{"n":1}"#.utf8), info: info, tags: ["k": "v"], time: 1_700_000_000_000),
                position: StreamPosition(offset: 5, epoch: "EPOCH"), useDelta: true),
            .publication(channel: "plain", Publication(data: [0, 1, 2], isJSON: false), position: nil, useDelta: false),
            .join(channel: "chat:1", info), .leave(channel: "chat:1", ClientInfo(user: "", client: "x")),
        ]
        for message in messages {
            #expect(try BrokerPush.decode(message.encoded()) == message)
        }
    }

    /// The epoch travels as Centrifugo's tag and is taken off again: clients never see it.
    @Test func theEpochTagIsCentrifugosAndNeverReachesClients() throws {
        let push = BrokerPush.publication(
            channel: "c", Publication(offset: 1, data: Array("1".utf8)), position: StreamPosition(offset: 1, epoch: "E"), useDelta: false)
        let bytes = push.encoded()
        #expect(String(decoding: bytes, as: UTF8.self).contains("__centrifugo_epoch"))
        guard case .publication(_, let publication, let position, _) = try BrokerPush.decode(bytes) else {
            Issue.record("not a publication")
            return
        }
        #expect(publication.tags.isEmpty && position == StreamPosition(offset: 1, epoch: "E"))
    }

    @Test func garbageIsRefused() {
        #expect(throws: BrokerPush.Malformed.self) { _ = try BrokerPush.decode([0xFF, 0xFF, 0xFF]) }
        #expect(throws: BrokerPush.Malformed.self) { _ = try BrokerPush.decode([]) }
    }
}
