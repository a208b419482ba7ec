import StrataCore
import Testing

@testable import StrataRedis

@Suite("Redis PUB/SUB message format")
struct RedisPushMessageTests {
    @Test func parsesPositionedPublication() {
        let m = RedisPushMessage.parse(Array("__p1:42:AbCdEfGh__".utf8) + [0, 1, 2, 0x5F, 0x5F])
        #expect(m == .publication(offset: 42, epoch: "AbCdEfGh", record: [0, 1, 2, 0x5F, 0x5F][...]))
    }

    @Test func parsesDeltaWithBinaryRecordsContainingSeparators() {
        let previous: [UInt8] = [0x3A, 0x3A, 0, 9]
        let current: [UInt8] = [0x5F, 0x3A, 7]
        let payload = Array("__d1:7:ep:\(previous.count):".utf8) + previous + Array(":\(current.count):".utf8) + current
        #expect(RedisPushMessage.parse(payload) == .delta(offset: 7, epoch: "ep", previous: previous[...], record: current[...]))
        let first = Array("__d1:1:ep:0::3:".utf8) + current
        #expect(RedisPushMessage.parse(first) == .delta(offset: 1, epoch: "ep", previous: [][...], record: current[...]))
    }

    @Test func joinLeaveAndUnpositioned() throws {
        let info = ClientInfo(user: "u", client: "c", connInfo: nil, chanInfo: Array("{}".utf8))
        guard case .join(let j) = RedisPushMessage.parse(RedisPushMessage.join(info)) else {
            Issue.record("not a join")
            return
        }
        #expect(Array(j) == Array(RedisPushMessage.join(info).dropFirst(5)))
        guard case .leave = RedisPushMessage.parse(RedisPushMessage.leave(info)) else {
            Issue.record("not a leave")
            return
        }
        #expect(RedisPushMessage.parse([0, 1, 2]) == .unpositioned([0, 1, 2][...]))
    }

    @Test(arguments: ["__p1:", "__p1:x:ep__", "__p1:5:ep", "__d1:5:ep:9:ab:1:c", "__d1:5:ep:1:a:5:b", "__d1:5:ep:1:a:1:bc"])
    func rejectsMalformed(_ text: String) {
        #expect(RedisPushMessage.parse(Array(text.utf8)) == nil)
    }
}
