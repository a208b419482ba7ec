import StrataConfig
import StrataCore
import Testing

@testable import StrataHub

@Suite("ChannelResolver")
struct ChannelResolverTests {
    func resolver() throws -> ChannelResolver {
        let config = try ConfigLoader.decode(
            try ConfigFormats.parse(
                #"{"channel":{"namespaces":[{"name":"chat","history_size":5,"history_ttl":"10s"},{"name":"re","channel_regex":"^[a-z]+$"}]}}"#,
                format: .json))
        return ChannelResolver(config: config.channel)
    }

    @Test func namespaces() throws {
        let r = try resolver()
        #expect(r.namespaceName(of: "chat:room") == "chat")
        #expect(r.namespaceName(of: "$chat:room") == "chat")
        #expect(r.namespaceName(of: "room") == "")
        #expect(r.namespaceName(of: "ünï:cödé:x") == "ünï")
        #expect(r.namespaceName(of: ":room") == "")
        #expect(r.namespaceName(of: "chat") == "")
        #expect(r.namespaceName(of: "$") == "")
        #expect(r.namespaceName(of: "$:x") == "")
        #expect(r.namespaceName(of: "chat:") == "chat")
        func firstOffset(_ needle: String, _ text: String) -> Int? {
            Array(text.utf8).withUnsafeBufferPointer { ChannelResolver.firstOffset(of: Array(needle.utf8), in: $0) }
        }
        #expect(firstOffset("::", "a:b::c") == 3)
        #expect(firstOffset("::", "a:b:") == nil)
        #expect(firstOffset("/", "abc") == nil)
        #expect(firstOffset("abc", "ab") == nil)
        #expect(firstOffset("", "abc") == nil)
        #expect(try r.options(for: "chat:x").historySize == 5)
        #expect(throws: StrataError.unknownChannel) { try r.options(for: "nope:x") }
    }

    @Test func nameRules() throws {
        let r = try resolver()
        #expect(throws: StrataError.badRequest) { try r.validate(String(repeating: "x", count: 256)) }
        #expect(throws: StrataError.badRequest) { try r.validate("chat:ünïcode") }
        #expect(throws: StrataError.badRequest) { try r.validate("re:ABC") }
        _ = try r.validate("re:abc")
    }

    @Test func userLimitedChannels() throws {
        let r = try resolver()
        #expect(r.isUserAllowed("chat:dialog#1,42", user: "42"))
        #expect(!r.isUserAllowed("chat:dialog#1,42", user: "4"))
    }
}
