import StrataCore
import StrataProtocol
import Testing

@testable import StrataHub

/// `client.command_rate_limit`: a second's worth of commands at once, then the rate; commands
/// over it get error 111 and do not run.
@Suite("Command rate limit")
struct CommandRateLimitTests {
    // The bucket itself: StrataCoreTests/TokenBucketTests.swift.
    @Test func commandsOverTheLimitGetError111AndDoNotRun() async throws {
        let h = try await SessionHarness(config: #"""
            {"client":{"token":{"hmac_secret_key":"secret"},"ping_interval":"-1","command_rate_limit":3},
             "rpc":{"ping":{"enabled":true}}}
            """#)
        let s = try await h.connected()
        let frame = (2...7).map { #"{"id":\#($0),"rpc":{"method":"ping"}}"# }.joined(separator: "\n")
        await h.send(s, frame)
        let replies = try h.messages(s)
        #expect(replies.map { $0["id"]?.int } == [2, 3, 4, 5, 6, 7])
        // Three a second (connect is not counted), the rest refused.
        #expect(replies.map { $0["error"]?["code"]?.int } == [nil, nil, nil, 111, 111, 111])
        #expect(replies.last?["error"]?["message"] == .string("too many requests"))
    }
}
