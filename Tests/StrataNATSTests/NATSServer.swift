import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Debian's nats-server on a free loopback port, for the client tests; skipped without one.
final class NATSServer: Sendable {
    static let executable = ProcessInfo.processInfo.environment["NATS_SERVER"] ?? "/usr/sbin/nats-server"
    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    struct StartFailure: Error {
        let description: String
    }

    let port: Int
    private let process = Mutex<Process?>(nil)

    init(port: Int) {
        self.port = port
    }

    static func start() async throws -> NATSServer {
        let server = NATSServer(port: try freePort())
        try await server.launch()
        return server
    }

    func launch() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["-a", "127.0.0.1", "-p", "\(port)"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process.withLock { $0 = process }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if Self.accepts(port) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw StartFailure(description: "nats-server on \(port) did not start")
    }

    func kill() { signal(SIGKILL, wait: true) }
    func pause() { signal(SIGSTOP, wait: false) }
    func resume() { signal(SIGCONT, wait: false) }

    private func signal(_ number: Int32, wait: Bool) {
        guard let process = process.withLock({ $0 }), process.isRunning else { return }
        Glibc.kill(process.processIdentifier, number)
        if wait { process.waitUntilExit() }
    }

    private static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StartFailure(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw StartFailure(description: "bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
