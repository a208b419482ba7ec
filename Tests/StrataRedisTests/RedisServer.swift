import Foundation
import StrataRedis
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A private redis-server on a free loopback port, in its own temporary directory.
///
/// Tests use `withRedisServer`, which always kills the server afterwards. The failure tests
/// also `kill()` it mid-test and `restart()` it on the same port.
final class RedisServer: Sendable {
    /// `REDIS_SERVER` overrides the binary; without one the Redis tests are skipped.
    static let executable = ProcessInfo.processInfo.environment["REDIS_SERVER"] ?? "/usr/bin/redis-server"
    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    struct StartFailure: Error, CustomStringConvertible {
        let description: String
    }

    let port: Int
    let directory: URL
    /// Given to redis-server after the usual ones (cluster mode, for one).
    let extraArguments: [String]
    private let process = Mutex<Process?>(nil)

    var configuration: RedisConfiguration { RedisConfiguration(host: "127.0.0.1", port: port) }

    private init(port: Int, directory: URL, extraArguments: [String]) {
        self.port = port
        self.directory = directory
        self.extraArguments = extraArguments
    }

    /// Starts a server; a port taken between choosing and binding it gets another try.
    /// `arguments` makes the server's extra arguments from its directory.
    static func start(arguments: (URL) throws -> [String] = { _ in [] }) async throws -> RedisServer {
        var lastError: (any Error)?
        for _ in 0..<3 {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strata-redis-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let server = RedisServer(port: try freePort(), directory: directory, extraArguments: try arguments(directory))
            do {
                try await server.launch()
                return server
            } catch {
                lastError = error
                server.stop()
            }
        }
        throw lastError ?? StartFailure(description: "redis-server did not start")
    }

    /// Starts the server process (again) on the same port and waits until it answers PING.
    func launch() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = [
            "--bind", "127.0.0.1", "--port", "\(port)", "--save", "", "--appendonly", "no",
            "--dir", directory.path, "--logfile", directory.appendingPathComponent("redis.log").path, "--daemonize", "no",
        ] + extraArguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process.withLock { $0 = process }
        try await waitUntilReady(process)
    }

    /// SIGKILL, as a crash would: no goodbye on open connections beyond the kernel's RST/FIN.
    func kill() {
        guard let process = process.withLock({ current -> Process? in
            defer { current = nil }
            return current
        }) else { return }
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
    }

    /// SIGSTOP: the server keeps its sockets and the kernel still accepts connections into its
    /// backlog, but nothing is answered — a hung server, which no FIN or RST announces.
    func pause() { signal(SIGSTOP) }

    /// SIGCONT: the server answers again, with everything it had.
    func resume() { signal(SIGCONT) }

    private func signal(_ number: Int32) {
        guard let process = process.withLock({ $0 }), process.isRunning else { return }
        Glibc.kill(process.processIdentifier, number)
    }

    func restart() async throws {
        kill()
        try await launch()
    }

    /// Kills the server and removes its directory.
    func stop() {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    private func waitUntilReady(_ process: Process) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        var config = configuration
        config.connectTimeout = .milliseconds(200)
        config.ioTimeout = .milliseconds(500)
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                let log = (try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? ""
                throw StartFailure(description: "redis-server exited with \(process.terminationStatus): \(log.suffix(500))")
            }
            if let connection = try? await RedisConnection.connect(config) {
                let reply = try? await connection.send("PING")
                await connection.close()
                if reply == .simpleString("PONG") { return }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw StartFailure(description: "redis-server on port \(port) did not answer PING within 10 s")
    }

    /// A port the kernel just handed out for 127.0.0.1 (bind to port 0, read it, close).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StartFailure(description: "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { throw StartFailure(description: "bind() failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Runs `body` with a fresh server and kills the server afterwards, whatever happens.
func withRedisServer<T>(_ body: (RedisServer) async throws -> T) async throws -> T {
    let server = try await RedisServer.start()
    defer { server.stop() }
    return try await body(server)
}

