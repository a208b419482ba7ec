import Testing

@testable import StrataProtocol

/// `POST /emulation` bodies (transports spec §4.4), JSON and Protobuf.
@Suite("Emulation request bodies")
struct EmulationRequestTests {
    @Test func jsonBodyWithDataString() throws {
        let body = #"{"session":"S1","node":"N1","data":"{\"id\":2,\"subscribe\":{\"channel\":\"chat\"}}"}"#
        let r = try #require(EmulationRequest(Array(body.utf8), protobuf: false))
        #expect(r.node == "N1" && r.session == "S1")
        #expect(r.data == Array(#"{"id":2,"subscribe":{"channel":"chat"}}"#.utf8))
    }

    @Test func jsonDataThatIsNotAStringReachesNoSession() throws {
        let r = try #require(EmulationRequest(Array(#"{"session":"S","node":"N","data":{"id":1}}"#.utf8), protobuf: false))
        #expect(r.data == nil)
    }

    @Test(arguments: ["", "not json", "[1]", #"{"node":5}"#])
    func jsonBodiesThatAreNotRequests(_ body: String) {
        #expect(EmulationRequest(Array(body.utf8), protobuf: false) == nil)
    }

    /// The spec's example: node "N1", session "S1", subscribe chat with id 2.
    @Test func specProtobufExample() throws {
        let bytes: [UInt8] = [0x0a, 0x02, 0x4e, 0x31, 0x12, 0x02, 0x53, 0x31, 0x1a, 0x0b, 0x0a, 0x08, 0x02, 0x2a, 0x06, 0x0a, 0x04, 0x63, 0x68, 0x61, 0x74]
        let r = try #require(EmulationRequest(bytes, protobuf: true))
        #expect(r.node == "N1" && r.session == "S1")
        let batch = ProtobufCodec().decode(try #require(r.data))
        guard case .subscribe(let s) = try #require(batch.commands.first).request else { Issue.record("no subscribe"); return }
        #expect(s.channel == "chat" && batch.commands.first?.id == 2)
    }

    @Test func protobufGarbageIsRefused() {
        #expect(EmulationRequest([0xff, 0xff, 0xff], protobuf: true) == nil)
    }
}
