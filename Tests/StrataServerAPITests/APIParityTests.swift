import Foundation
import HTTPTypes
import Logging
import StrataBroker
import StrataConfig
import StrataCore
import StrataHistory
import StrataHub
import StrataProtocol
import Testing

@testable import StrataServerAPI

/// How the HTTP API answers what Centrifugo v6.9.1 answers in a particular way (issue 23, part B:
/// rows 3, 5, 8, 10, 12, 13), each case checked against the real binary.
@Suite struct APIParityTests {
    static let config = """
        {"http_api":{"key":"k"},
         "channel":{"namespaces":[{"name":"news","history_size":10,"history_ttl":"300s"}]}}
        """

    struct Endpoint {
        let endpoint: APIEndpoint
        let node: Node

        init() async throws {
            let config = try ConfigLoader.decode(try ConfigFormats.parse(APIParityTests.config, format: .json))
            node = try await Node(config: config, broker: LocalBroker(store: MemoryHistoryStore()), logger: Logger(label: "test"))
            endpoint = try #require(APIEndpoint(node: node, config: config.httpAPI))
        }

        /// POSTs `body` to `path` with the key; returns status, content type and body text.
        func post(_ path: String, _ body: String) async -> (Int, String?, String) {
            let method = endpoint.method(forPath: path) ?? "?"
            let reply = await endpoint.respond(
                method: method, isPost: true, path: path, headers: APIRequestHeaders(apiKey: "k"), body: Array(body.utf8))
            return (Int(reply.status.code), reply.contentType, String(decoding: reply.body, as: UTF8.self))
        }
    }

    static let badRequest = (400, "text/plain; charset=utf-8", "Bad Request\n")

    /// Row 5: a field of the wrong JSON type is HTTP 400 `Bad Request`, the whole request.
    @Test(
        "a wrong JSON type is HTTP 400",
        arguments: [
            ("publish", #"{"channel":5,"data":1}"#), ("publish", #"{"channel":["a"],"data":1}"#),
            ("publish", #"{"channel":"news:a","data":1,"skip_history":"yes"}"#),
            ("publish", #"{"channel":"news:a","data":1,"tags":{"k":1}}"#),
            ("publish", #"{"channel":"news:a","data":1,"version":"5"}"#),
            ("publish", #"{"channel":"news:a","data":1,"version":-1}"#),
            ("broadcast", #"{"channels":"x","data":1}"#),
            ("history", #"{"channel":"news:a","limit":"5"}"#), ("history", #"{"channel":"news:a","limit":5.0}"#),
            ("history", #"{"channel":"news:a","limit":2147483648}"#),
            ("history", #"{"channel":"news:a","since":{"offset":"1"}}"#),
            ("history", #"{"channel":"news:a","reverse":1}"#),
            ("channels", #"{"pattern":5}"#), ("presence", #"{"channel":true}"#),
            ("subscribe", #"{"channel":"news:a","user":"u","expire_at":"5"}"#),
            ("disconnect", #"{"user":"u","disconnect":{"code":"4000"}}"#), ("refresh", #"{"user":"u","expire_at":1.5}"#),
            ("batch", #"{"commands":{}}"#), ("batch", #"{"commands":[5]}"#), ("batch", #"{"commands":[{"publish":5}]}"#),
            ("batch", #"{"commands":[{"publish":{"channel":5}}]}"#),
            ("info", "[]"), ("info", #""x""#), ("info", ""), ("publish", #"{"channel":"news:a","data":1} x"#),
        ])
    func wrongTypeIs400(_ method: String, _ body: String) async throws {
        let api = try await Endpoint()
        let (status, type, text) = await api.post("/api/\(method)", body)
        #expect(status == Self.badRequest.0 && type == Self.badRequest.1 && text == Self.badRequest.2, "\(method) \(body)")
    }

    /// What is well typed but wrong stays an API error in the body (107), as there.
    @Test(
        "well-typed but invalid is error 107",
        arguments: [
            ("publish", #"{"channel":"","data":1}"#), ("publish", #"{"channel":"news:a"}"#),
            ("publish", #"{"channel":"news:a","b64data":"!!"}"#), ("publish", "null"), ("history", #"{"channel":null}"#),
        ])
    func invalidIs107(_ method: String, _ body: String) async throws {
        let api = try await Endpoint()
        let (status, _, text) = await api.post("/api/\(method)", body)
        #expect(status == 200)
        #expect(text == #"{"error":{"code":107,"message":"bad request"}}"#, "\(method) \(body)")
    }

    /// Null means absent, as in Go's decoders; unknown fields are ignored.
    @Test func nullsAndUnknownFieldsDecode() async throws {
        let api = try await Endpoint()
        for body in [
            #"{"channel":"news:a","data":1,"skip_history":null,"tags":null}"#, #"{"channel":"news:a","data":1,"tags":{"a":null}}"#,
            #"{"channel":"news:a","data":1,"unknown":{"x":[5]}}"#,
        ] {
            let (status, _, text) = await api.post("/api/publish", body)
            #expect(status == 200 && text.hasPrefix(#"{"result":{"offset":"#), "\(body) → \(text)")
        }
        let (status, _, text) = await api.post("/api/info", "null")
        #expect(status == 200 && text.hasPrefix(#"{"result":{"nodes":"#))
    }

    /// Row 8: `POST /api` with `{"method":…,"params":…}`.
    @Test func legacySingleEndpoint() async throws {
        let api = try await Endpoint()
        let published = await api.post("/api", #"{"method":"publish","params":{"channel":"news:l","data":{"a":1}}}"#)
        #expect(published.0 == 200 && published.2.hasPrefix(#"{"result":{"offset":1,"epoch":"#))
        let capital = await api.post("/api", #"{"method":"Publish","params":{"channel":"news:l","data":2}}"#)
        #expect(capital.2.hasPrefix(#"{"result":{"offset":2,"#))
        let info = await api.post("/api", #"{"method":"info"}"#)
        #expect(info.2.hasPrefix(#"{"result":{"nodes":"#))
        for body in [#"{"method":"nope"}"#, #"{"method":"batch","params":{"commands":[]}}"#, "[]"] {
            let r = await api.post("/api", body)
            #expect(r.0 == 400 && r.2 == "Bad Request\n", "\(body)")
        }
        for body in ["{}", "null", #"{"method":5}"#, #"{"method":"publish"}"#, #"{"method":"publish","params":5}"#,
            #"{"method":"publish","params":{"channel":5}}"#]
        {
            let r = await api.post("/api", body)
            #expect(r.0 == 200 && r.2 == #"{"error":{"code":107,"message":"bad request"}}"#, "\(body) → \(r.2)")
        }
    }

    /// The older endpoint takes a stream of commands with ids and method numbers, a missing
    /// method being publish; one unknown name fails the whole request.
    @Test func legacyStreamsIdsAndNumbers() async throws {
        let api = try await Endpoint()
        let stream = await api.post("/api", #"{"id":7,"method":"channels","params":{"pattern":"zz"}}"# + "\n" + #"{"id":8,"method":"publish","params":{}}"#)
        #expect(stream.2 == #"{"id":7,"result":{"channels":{}}}"# + "\n" + #"{"id":8,"error":{"code":107,"message":"bad request"}}"#)
        let numbers = await api.post("/api", #"{"method":8,"params":{"pattern":"zz"}}{"method":13}{"method":5}"#)
        #expect(numbers.2.split(separator: "\n").map(String.init) == [
            #"{"result":{"channels":{}}}"#, #"{"error":{"code":104,"message":"not found"}}"#, #"{"error":{"code":107,"message":"bad request"}}"#,
        ])
        let published = await api.post("/api", #"{"params":{"channel":"news:m","data":1}}"#)
        #expect(published.2.hasPrefix(#"{"result":{"offset":1,"#))
        #expect(await api.post("/api", #"{"method":"info"}"# + "\n" + #"{"method":"nope"}"#) == (400, "text/plain; charset=utf-8", "Bad Request\n"))
        #expect(await api.post("/api", "").0 == 400)
    }

    /// Row 13: batch edges.
    @Test func batchEdges() async throws {
        let api = try await Endpoint()
        #expect(await api.post("/api/batch", #"{"commands":[{}]}"#).2 == #"{"replies":[{"error":{"code":104,"message":"not found"}}]}"#)
        #expect(await api.post("/api/batch", #"{"commands":[{"nope":{}}]}"#).2 == #"{"replies":[{"error":{"code":104,"message":"not found"}}]}"#)
        for body in [#"{"commands":[]}"#, "{}", #"{"commands":null}"#, "null"] {
            #expect(await api.post("/api/batch", body) == (200, "application/json", "{}"), "\(body)")
        }
        let mixed = await api.post("/api/batch", #"{"commands":[{"publish":{"channel":"news:b"}},{"publish":{"channel":"news:b","data":1}}]}"#)
        #expect(mixed.2.hasPrefix(#"{"replies":[{"error":{"code":107,"message":"bad request"}},{"publish":{"offset":1,"#))
    }

    /// Rows 10 and 12: `data` is kept as published, `null` included; history answers compacted
    /// JSON (Go's encoder compacts raw JSON), live frames keep the bytes (Hub tests).
    @Test func payloadsAreKeptAndNullIsAPayload() async throws {
        let api = try await Endpoint()
        _ = await api.post("/api/publish", "{\"channel\":\"news:p\",\"data\":{\"z\":1,  \"a\":\n1.0}}")
        _ = await api.post("/api/publish", #"{"channel":"news:p","data":null}"#)
        let stored = try await api.node.history(channel: "news:p", filter: HistoryFilter(limit: -1))
        #expect(stored.publications.map { String(decoding: $0.data, as: UTF8.self) } == ["{\"z\":1,  \"a\":\n1.0}", "null"])
        let history = await api.post("/api/history", #"{"channel":"news:p","limit":-1}"#)
        #expect(history.2.contains(#"{"publications":[{"data":{"z":1,"a":1.0},"offset":1},{"data":null,"offset":2}]"#), "\(history.2)")
        let broadcast = await api.post("/api/broadcast", #"{"channels":["news:q"],"data":null}"#)
        #expect(broadcast.2.hasPrefix(#"{"result":{"responses":[{"result":{"offset":1,"#))
    }

    /// Row 3: `b64data` that is not JSON is stored as binary; the JSON history API cannot return
    /// it and answers HTTP 500, as Centrifugo does. `b64data` that is JSON is JSON.
    @Test func binaryPayloadsAreMarkedAndHistoryAnswers500() async throws {
        let api = try await Endpoint()
        let b64 = Data("not json".utf8).base64EncodedString()
        _ = await api.post("/api/publish", #"{"channel":"news:bin","b64data":"\#(b64)"}"#)
        let stored = try await api.node.history(channel: "news:bin", filter: HistoryFilter(limit: -1))
        #expect(stored.publications.map(\.isJSON) == [false])
        #expect(await api.post("/api/history", #"{"channel":"news:bin","limit":-1}"#) == (500, "text/plain; charset=utf-8", "Internal Server Error\n"))
        let json = Data(#"  {"a":1}  "#.utf8).base64EncodedString()
        _ = await api.post("/api/publish", #"{"channel":"news:j","b64data":"\#(json)"}"#)
        #expect(try await api.node.history(channel: "news:j", filter: HistoryFilter(limit: -1)).publications.map(\.isJSON) == [true])
        #expect(await api.post("/api/history", #"{"channel":"news:j","limit":-1}"#).2.contains(#"[{"data":{"a":1},"offset":1}]"#))
    }
}
