import Logging
import NIOCore
import StrataCore
import Synchronization
import Testing

@testable import StrataNATS

@Suite("NATSClient against nats-server", .enabled(if: NATSServer.isAvailable, "nats-server is not installed"))
struct NATSClientTests {
    let logger = Logger(label: "test.nats")

    func configuration(_ server: NATSServer, probe: Duration = .seconds(5)) -> NATSConfiguration {
        NATSConfiguration(
            servers: [NATSAddress(host: "127.0.0.1", port: server.port)], connectTimeout: .seconds(1), pongTimeout: .milliseconds(300),
            probeInterval: probe)
    }

    func nextEvent(_ client: NATSClient) async -> NATSClientEvent? {
        for await event in client.events { return event }
        return nil
    }

    @Test func publishesReachSubscribersInOrderAcrossAServerRestart() async throws {
        let server = try await NATSServer.start()
        defer { server.kill() }
        let received = Mutex<[String]>([])
        let client = try await NATSClient.connect(configuration(server), backoff: ReconnectBackoff(initial: .milliseconds(20)), logger: logger) {
            _, payload in received.withLock { $0.append(String(buffer: payload)) }
        }
        try await client.subscribe("a.b")
        for i in 0..<100 { try client.publish("a.b", payload: Array("m\(i)".utf8)) }
        try client.publish("other", payload: Array("x".utf8))
        try await eventually { received.withLock { $0.count } == 100 }
        #expect(received.withLock { $0 } == (0..<100).map { "m\($0)" })

        server.kill()
        #expect(await nextEvent(client) == .disconnected)
        #expect(throws: NATSError.self) { try client.publish("a.b", payload: [1]) }
        try await server.launch()
        #expect(await nextEvent(client) == .resubscribed)
        try client.publish("a.b", payload: Array("after".utf8))
        try await eventually { received.withLock { $0.last } == "after" }
        await client.close()
    }

    /// A stopped server closes nothing; the liveness PING notices within an interval and the
    /// PONG deadline.
    @Test func aStoppedServerIsNoticedByTheProbe() async throws {
        let server = try await NATSServer.start()
        defer {
            server.resume()
            server.kill()
        }
        let client = try await NATSClient.connect(configuration(server, probe: .milliseconds(200)), logger: logger) { _, _ in }
        try await client.subscribe("s")
        try await Task.sleep(for: .milliseconds(500))  // probes answered meanwhile
        server.pause()
        let start = ContinuousClock.now
        #expect(await nextEvent(client) == .disconnected)
        #expect(ContinuousClock.now - start < .seconds(2))
        await client.close()
    }

    @Test func noServerFailsTheConnectWithItsAddress() async throws {
        let server = try await NATSServer.start()
        server.kill()
        let failure = await #expect(throws: NATSError.self) {
            _ = try await NATSClient.connect(configuration(server), logger: logger) { _, _ in }
        }
        #expect(failure?.message.contains("127.0.0.1:\(server.port)") == true)
    }
}
