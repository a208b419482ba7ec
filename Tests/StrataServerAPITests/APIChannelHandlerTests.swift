import Foundation
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOPosix
import StrataBroker
import StrataConfig
import StrataCore
import StrataHistory
import StrataHTTP
import StrataHub
import Testing
import Synchronization

@testable import StrataServerAPI

/// The server API's pipeline handler on a real loopback server, driven by a raw HTTP/1.1 client,
/// with a stand-in for Hummingbird behind it that answers every other route with `other:<path>`.
@Suite struct APIChannelHandlerTests {
    static let config = """
        {"http_api":{"key":"k"},
         "channel":{"namespaces":[{"name":"news","history_size":10,"history_ttl":"300s"}]}}
        """

    @Test func apiRequestsAreAnsweredInThePipeline() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let replies = try await server.exchange(
            post("/api/publish", #"{"channel":"news:a","data":{"n":1}}"#) + post("/api/history", #"{"channel":"news:a","limit":10}"#),
            responses: 2)
        #expect(replies[0].status == 200)
        #expect(replies[0].body.contains(#""offset":1"#))
        #expect(replies[0].headers["content-type"] == "application/json")
        #expect(replies[0].headers["content-length"] == String(replies[0].body.utf8.count))
        #expect(replies[0].headers["server"] == "strata-test")
        #expect(replies[0].headers["date"]?.hasSuffix(" GMT") == true)
        #expect(replies[1].body.contains(#"{"n":1}"#))
        #expect(server.others.paths.withLock { $0 }.isEmpty, "API requests must not reach the router")
    }

    @Test func otherPathsAndUnknownMethodsPassOn() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let replies = try await server.exchange(get("/health") + post("/api/nosuch", "{}") + post("/apix/publish", "{}"), responses: 3)
        #expect(replies.map(\.body) == ["other:/health", "other:/api/nosuch", "other:/apix/publish"])
    }

    @Test func keyAndMethodAreChecked() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let replies = try await server.exchange(
            post("/api/info", "{}", key: "wrong") + post("/api/info", "{}", key: nil) + get("/api/info")
                + post("/api/info?api_key=k", "{}", key: nil) + post("/api/publish", "not json"),
            responses: 5)
        #expect(replies.map(\.status) == [401, 401, 405, 200, 400])
    }

    /// API errors come in the body with 200 by default, and as HTTP statuses when the request
    /// asks for the transport error mode (`X-Centrifugo-Error-Mode: transport`).
    @Test func errorModesPutErrorsInTheBodyOrTheStatus() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let unknown = #"{"channel":"nope:x","data":1}"#
        let replies = try await server.exchange(
            post("/api/publish", unknown) + post("/api/publish", unknown, extraHeaders: "X-Centrifugo-Error-Mode: transport\r\n")
                + post("/api/publish", #"{"data":1}"#, extraHeaders: "X-Centrifugo-Error-Mode: transport\r\n"),
            responses: 3)
        #expect(replies.map(\.status) == [200, 404, 400])
        #expect(replies[0].body.contains(#""error":{"code":102"#))
        #expect(replies[1].body.contains(#""code":102"#) && !replies[1].body.contains(#""error""#))
        #expect(replies[2].body.contains(#""code":107"#))
    }

    @Test func pipelinedRequestsAreAnsweredInRequestOrder() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        // The router answers /slow late: the API reply behind it must wait, and so must the
        // router's /fast behind the API call.
        let replies = try await server.exchange(
            get("/slow") + post("/api/publish", #"{"channel":"news:b","data":{"n":1}}"#) + get("/fast")
                + post("/api/publish", #"{"channel":"news:b","data":{"n":2}}"#),
            responses: 4)
        #expect(replies[0].body == "other:/slow")
        #expect(replies[1].body.contains(#""offset":1"#))
        #expect(replies[2].body == "other:/fast")
        #expect(replies[3].body.contains(#""offset":2"#))
    }

    @Test func pipelinedRouterRequestsAreAllAnswered() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        // Parts taken from the queue reach the router outside a read: without the read's end
        // signalled after them, the second /health would sit in the router's buffer for ever.
        let replies = try await server.exchange(
            get("/health") + get("/health") + post("/api/info", "{}") + get("/fast"), responses: 4)
        #expect(replies.count == 4)
        #expect(replies.map(\.body).filter { $0.hasPrefix("other:") } == ["other:/health", "other:/health", "other:/fast"])
        #expect(replies.dropFirst(2).first?.body.hasPrefix(#"{"result""#) == true)
    }

    @Test func nothingStartsBehindAForwardedConnectionClose() async throws {
        // NIO's HTTP decoder takes no request after one with `Connection: close`; this pins that.
        let server = try await TestServer.start()
        defer { server.stop() }
        let connection = try await server.connect()
        try await connection.send(
            "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                + post("/api/publish", #"{"channel":"news:e","data":{"n":1}}"#))
        let replies = try await connection.responses(1)
        #expect(replies.first?.body == "other:/slow")
        try await connection.waitClosed()
        let history = try await server.exchange(post("/api/history", #"{"channel":"news:e","limit":10}"#), responses: 1)
        #expect(!history[0].body.contains(#""n":1"#), "the publish behind the closing request must not run")
    }

    @Test func aHalfCloseWaitsForTheReply() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let connection = try await server.connect()
        try await connection.send(post("/api/publish", #"{"channel":"news:f","data":{"n":1}}"#))
        try await connection.channel.close(mode: .output)
        let replies = try await connection.responses(1)
        #expect(replies.first?.status == 200)
        #expect(replies.first?.body.contains(#""offset":1"#) == true)
    }

    @Test func aParseErrorBehindACallWaitsForItsReply() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let connection = try await server.connect()
        try await connection.send(post("/api/publish", #"{"channel":"news:g","data":{"n":1}}"#) + "NOT HTTP AT ALL\r\n\r\n")
        let replies = try await connection.responses(1)
        #expect(replies.first?.status == 200)
        #expect(replies.first?.body.contains(#""offset":1"#) == true)
    }

    @Test func pathsWithEmptySegmentsReachTheAPI() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let replies = try await server.exchange(post("//api/info/", "{}"), responses: 1)
        #expect(replies.first?.status == 200)
        #expect(replies.first?.body.hasPrefix(#"{"result""#) == true)
    }

    @Test func aBodyInPiecesIsPutTogether() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let body = #"{"channel":"news:c","data":{"text":"split across writes"}}"#
        let head = "POST /api/publish HTTP/1.1\r\nHost: x\r\nX-API-Key: k\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
        let pieces = [head, String(body.prefix(10)), String(body.dropFirst(10).prefix(20)), String(body.dropFirst(30))]
        let replies = try await server.exchange(pieces: pieces, responses: 1)
        #expect(replies.first?.status == 200)
        #expect(replies.first?.body.contains(#""offset":1"#) == true)
    }

    @Test func anOversizedBodyIs413AndClosesTheConnection() async throws {
        let server = try await TestServer.start(maxBody: 64)
        defer { server.stop() }
        // A client still uploading when the 413 goes out must get the 413, not a reset.
        let data = String(repeating: "x", count: 1 << 20)
        let connection = try await server.connect()
        try await connection.send(post("/api/publish", #"{"channel":"news:d","data":"\#(data)"}"#))
        let replies = try await connection.responses(1)
        #expect(replies.first?.status == 413)
        #expect(replies.first?.headers["connection"] == "close")
        try await connection.waitClosed()
    }

    @Test func connectionCloseIsHonoured() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let connection = try await server.connect()
        try await connection.send(post("/api/info", "{}", extraHeaders: "Connection: close\r\n"))
        let replies = try await connection.responses(1)
        #expect(replies.first?.status == 200)
        #expect(replies.first?.headers["connection"] == "close")
        try await connection.waitClosed()
    }

    /// HTTP/1.0 closes after each response unless the client asks for keep-alive.
    @Test func http10ClosesUnlessKeptAlive() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let kept = try await server.connect()
        let keepAlive = post("/api/info", "{}", extraHeaders: "Connection: keep-alive\r\n").replacingOccurrences(of: "HTTP/1.1", with: "HTTP/1.0")
        try await kept.send(keepAlive + keepAlive)
        let both = try await kept.responses(2)
        #expect(both.map(\.status) == [200, 200])
        #expect(both.allSatisfy { $0.headers["connection"] == "keep-alive" })

        let plain = try await server.connect()
        try await plain.send(post("/api/info", "{}").replacingOccurrences(of: "HTTP/1.1", with: "HTTP/1.0"))
        let replies = try await plain.responses(1)
        #expect(replies.first?.status == 200)
        #expect(replies.first?.headers["connection"] == "close")
        try await plain.waitClosed()
    }

    // MARK: Requests

    func post(_ path: String, _ body: String, key: String? = "k", extraHeaders: String = "") -> String {
        var s = "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        if let key { s += "X-API-Key: \(key)\r\n" }
        s += extraHeaders
        return s + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    func get(_ path: String) -> String {
        "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n"
    }
}

@Suite struct APIEndpointTests {
    @Test func pathsNameMethodsUnderThePrefix() async throws {
        let endpoint = try #require(try await TestServer.endpoint(APIChannelHandlerTests.config))
        #expect(endpoint.method(forPath: "/api/publish") == "publish")
        #expect(endpoint.method(forPath: "/api/history_remove?api_key=k") == "history_remove")
        #expect(endpoint.method(forPath: "/api/publishx") == nil)
        #expect(endpoint.method(forPath: "/apix/publish") == nil)
        // The prefix itself is Centrifugo's older single endpoint (`{"method":…,"params":…}`).
        #expect(endpoint.method(forPath: "/api") == APIEndpoint.legacyMethod)
        #expect(endpoint.method(forPath: "/api?api_key=k") == APIEndpoint.legacyMethod)
        #expect(endpoint.method(forPath: "/api/") == nil)
        #expect(endpoint.method(forPath: "//api//publish/") == "publish")
        #expect(endpoint.method(forPath: "/api/publish/extra") == nil)
        let custom = try #require(try await TestServer.endpoint(#"{"http_api":{"key":"k","handler_prefix":"/srv/api/"}}"#))
        #expect(custom.method(forPath: "/srv/api/info") == "info")
        #expect(custom.method(forPath: "/api/info") == nil)
        #expect(custom.method(forPath: "/srv/api") == APIEndpoint.legacyMethod)
    }

    /// `GET {prefix}/history/{channel}`: the channel is the rest of the path, percent-decoded;
    /// numbers that do not parse are refused (400), absent ones take their defaults.
    @Test func historyPagePathsAndQueries() async throws {
        let endpoint = try #require(try await TestServer.endpoint(APIChannelHandlerTests.config))
        #expect(endpoint.method(forPath: "/api/history/chat:room?since=3") == APIEndpoint.historyPageMethod)
        #expect(endpoint.method(forPath: "/api/history") == "history")
        func request(_ target: String) -> HistoryPage.Request? {
            let (path, query) = QueryString.split(target)
            return APIEndpoint.pageRequest(path: path, query: query ?? "", prefixSegments: [Array("api".utf8)])
        }
        let page = try #require(request("/api/history/chat%3Aroom/a%2Fb?since=7&epoch=E%20x&limit=20&wait=5"))
        #expect(page.channel == "chat:room/a/b")
        #expect(page.since == 7 && page.epoch == "E x" && page.limit == 20 && page.waitSeconds == 5)
        let defaults = try #require(request("/api/history/c"))
        #expect(defaults.since == 0 && defaults.epoch.isEmpty && defaults.limit == HistoryPage.defaultLimit && defaults.waitSeconds == 0)
        for bad in ["/api/history/c?since=-1", "/api/history/c?limit=0", "/api/history/c?limit=x", "/api/history/c?wait=-2"] {
            #expect(request(bad) == nil, "\(bad)")
        }
        #expect(APIEndpoint.pagePath([Array("api".utf8)], "chat:room/a b") == "/api/history/chat:room%2Fa%20b")
    }

    @Test func aDisabledAPIHasNoEndpoint() async throws {
        #expect(try await TestServer.endpoint(#"{"http_api":{"disabled":true}}"#) == nil)
    }

    @Test func theQueryKeyIsPercentDecoded() {
        #expect(APIAuth.apiKeyParameter("a=1&api_key=s%2Fk%3D") == "s/k=")
        #expect(APIAuth.apiKeyParameter("api_keys=x") == nil)
        #expect(APIAuth.apiKeyParameter("api_key=") == "")
    }

    @Test func datesAreIMFFixdate() {
        #expect(HTTPDate.format(secondsSince1970: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(secondsSince1970: 1_795_964_400) == "Sun, 29 Nov 2026 15:00:00 GMT")
    }
}

// MARK: - Test server and client

/// The stand-in for Hummingbird behind the API handler. Like Hummingbird's async channel, it takes
/// the parts of a read only when the read completes, and it closes after a response to
/// `Connection: close` and when the client closes its side.
final class OtherRoutes: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart
    let paths = Locked<[String]>([])
    let errors = Locked<Int>(0)
    let buffered = Locked<[HTTPRequestPart]>([])
    let current = Locked<HTTPRequest?>(nil)

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        buffered.withLock { $0.append(part) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        let parts = buffered.withLock { parts in
            defer { parts.removeAll() }
            return parts
        }
        for part in parts {
            switch part {
            case .head(let head):
                current.withLock { $0 = head }
                paths.withLock { $0.append(head.path ?? "") }
            case .body:
                break
            case .end:
                guard let head = current.withLock({ $0 }) else { continue }
                respond(to: head, context: context)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        errors.withLock { $0 += 1 }
    }

    /// Hummingbird's loop ends when the client closes its side, and the connection closes.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
    }

    private func respond(to head: HTTPRequest, context: ChannelHandlerContext) {
        let path = head.path ?? ""
        let close = head.headerFields[.connection] == "close"
        let delay: TimeAmount = path == "/slow" ? .milliseconds(150) : .zero
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: delay) {
            let context = bound.value
            let body = "other:\(path)"
            context.write(
                NIOAny(HTTPResponsePart.head(HTTPResponse(status: .ok, headerFields: [.contentLength: String(body.utf8.count)]))),
                promise: nil)
            context.write(NIOAny(HTTPResponsePart.body(ByteBuffer(string: body))), promise: nil)
            context.writeAndFlush(NIOAny(HTTPResponsePart.end(nil)), promise: nil)
            if close { context.close(promise: nil) }
        }
    }
}

struct TestServer {
    let channel: any Channel
    let others: OtherRoutes

    static func endpoint(_ json: String) async throws -> APIEndpoint? {
        let config = try ConfigLoader.decode(try ConfigFormats.parse(json, format: .json))
        let node = try await Node(config: config, broker: LocalBroker(store: MemoryHistoryStore()), logger: Logger(label: "test"))
        return APIEndpoint(node: node, config: config.httpAPI)
    }

    static func start(maxBody: Int = APIEndpoint.maxBody) async throws -> TestServer {
        let endpoint = try #require(try await endpoint(APIChannelHandlerTests.config))
        let others = OtherRoutes()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)  // as Hummingbird's server
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false)
                    // As in the server: right after NIO's decoder, before the conversion to HTTP types.
                    try sync.addHandler(APIChannelHandler(endpoint: endpoint, serverName: "strata-test", maxBody: maxBody))
                    try sync.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                    try sync.addHandler(others)
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestServer(channel: channel, others: others)
    }

    func stop() {
        channel.close(promise: nil)
    }

    func connect() async throws -> RawConnection {
        let received = RawConnection.Received()
        let port = try #require(channel.localAddress?.port)
        let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { $0.pipeline.addHandler(received) }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: client, received: received)
    }

    /// Sends `requests` in one write (pipelined) and returns the first `responses` replies.
    func exchange(_ requests: String, responses: Int) async throws -> [RawResponse] {
        try await exchange(pieces: [requests], responses: responses)
    }

    /// Sends each piece in its own write, a little apart.
    func exchange(pieces: [String], responses: Int) async throws -> [RawResponse] {
        let connection = try await connect()
        defer { connection.channel.close(promise: nil) }
        for (i, piece) in pieces.enumerated() {
            if i > 0 { try await Task.sleep(for: .milliseconds(20)) }
            try await connection.send(piece)
        }
        return try await connection.responses(responses)
    }
}

struct RawResponse {
    var status: Int
    var headers: [String: String]
    var body: String
}

struct RawConnection {
    /// Everything the server sent, and whether it closed.
    final class Received: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let state = Locked<(bytes: [UInt8], closed: Bool)>(([], false))

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            state.withLock { $0.bytes += buffer.readableBytesView }
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLock { $0.closed = true }
        }
    }

    let channel: any Channel
    let received: Received

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// The first `count` complete responses, waiting up to 5 s for them.
    func responses(_ count: Int) async throws -> [RawResponse] {
        for _ in 0..<500 {
            let parsed = Self.parse(received.state.withLock { $0.bytes })
            if parsed.count >= count { return Array(parsed.prefix(count)) }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out waiting for \(count) responses")
        return Self.parse(received.state.withLock { $0.bytes })
    }

    func waitClosed() async throws {
        for _ in 0..<500 {
            if received.state.withLock({ $0.closed }) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("the server did not close the connection")
    }

    /// Complete responses (status line, headers, Content-Length body) in `bytes`.
    static func parse(_ bytes: [UInt8]) -> [RawResponse] {
        var out: [RawResponse] = []
        var rest = bytes[...]
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        while let end = rest.firstRange(of: separator) {
            let head = String(decoding: rest[rest.startIndex..<end.lowerBound], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ")
            guard statusLine.count >= 2, let status = Int(statusLine[1]) else { break }
            var headers: [String: String] = [:]
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            guard rest.distance(from: end.upperBound, to: rest.endIndex) >= length else { break }
            let bodyEnd = rest.index(end.upperBound, offsetBy: length)
            out.append(RawResponse(status: status, headers: headers, body: String(decoding: rest[end.upperBound..<bodyEnd], as: UTF8.self)))
            rest = rest[bodyEnd...]
        }
        return out
    }
}

/// Graceful shutdown, on a testing channel: the shutdown notice is fired in the same loop turn as
/// the request, so the call is certainly still running when it arrives.
@Suite struct APIChannelHandlerShutdownTests {
    /// Records the user events that reach the end of the pipeline (Hummingbird's place).
    final class EventRecorder: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        let quiesceEvents = Locked<Int>(0)
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is ChannelShouldQuiesceEvent { quiesceEvents.withLock { $0 += 1 } }
        }
    }

    func channel() async throws -> (NIOAsyncTestingChannel, EventRecorder) {
        let endpoint = try #require(try await TestServer.endpoint(APIChannelHandlerTests.config))
        let recorder = EventRecorder()
        let channel = try await NIOAsyncTestingChannel(handlers: [APIChannelHandler(endpoint: endpoint, serverName: "t"), recorder])
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1))
        return (channel, recorder)
    }

    static func publishHead() -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .POST, uri: "/api/publish", headers: ["Host": "x", "X-API-Key": "k"])
    }

    @Test func aCallInFlightRepliesThenCloses() async throws {
        let (channel, recorder) = try await channel()
        let body = ByteBuffer(string: #"{"channel":"news:q","data":{"n":1}}"#)
        try await channel.testingEventLoop.executeInContext {
            let pipeline = channel.pipeline.syncOperations
            pipeline.fireChannelRead(NIOAny(HTTPServerRequestPart.head(Self.publishHead())))
            pipeline.fireChannelRead(NIOAny(HTTPServerRequestPart.body(body)))
            pipeline.fireChannelRead(NIOAny(HTTPServerRequestPart.end(nil)))
            pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        var head: HTTPResponseHead?
        var text = ""
        for _ in 0..<500 where head == nil || channel.isActive {
            await channel.testingEventLoop.run()
            while let part = try await channel.readOutbound(as: HTTPServerResponsePart.self) {
                switch part {
                case .head(let h): head = h
                case .body(.byteBuffer(let b)): text += String(buffer: b)
                case .body: break
                case .end: break
                }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(head?.status == .ok)
        #expect(head?.headers["Connection"] == ["close"])
        #expect(text.contains(#""offset":1"#), "the call runs to its reply")
        #expect(!channel.isActive, "and the connection closes after it")
        #expect(recorder.quiesceEvents.withLock { $0 } == 0, "the router must not close it under the call")
    }

    @Test func anIdleConnectionLeavesShutdownToTheRouter() async throws {
        let (channel, recorder) = try await channel()
        try await channel.testingEventLoop.executeInContext {
            channel.pipeline.syncOperations.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        #expect(recorder.quiesceEvents.withLock { $0 } == 1)
    }
}
