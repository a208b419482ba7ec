import Foundation
import NIOSSL
import PostgresNIO

/// A PostgreSQL connection string as pgx (Centrifugo's driver) takes it: a URL
/// (`postgres://user:password@host:5432/db?sslmode=disable`) or `key=value` pairs
/// (`host=localhost port=5432 user=app dbname=app sslmode=require`). `sslmode` maps to
/// postgres-nio's TLS: `disable`, `allow`/`prefer` (the default, as in pgx), `require`
/// (encrypted, certificate not checked), `verify-ca`, `verify-full`.
package struct PostgresDSN: Sendable, Equatable {
    package var host = "localhost"
    package var port = 5432
    package var user = ""
    package var password: String?
    package var database: String?
    package var sslMode = "prefer"

    package struct Invalid: Error, CustomStringConvertible {
        package let description: String
    }

    package init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://") {
            try parseURL(trimmed)
        } else {
            try parsePairs(trimmed)
        }
        if user.isEmpty { user = ProcessInfo.processInfo.environment["USER"] ?? "postgres" }
        guard ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].contains(sslMode) else {
            throw Invalid(description: "unknown sslmode \"\(sslMode)\"")
        }
    }

    private mutating func parseURL(_ text: String) throws {
        guard let url = URLComponents(string: text) else { throw Invalid(description: "not a URL") }
        if let h = url.host, !h.isEmpty { host = h }
        if let p = url.port { port = p }
        user = url.user ?? ""
        password = url.password
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        database = path.isEmpty ? nil : path
        for item in url.queryItems ?? [] {
            try apply(item.name, item.value ?? "")
        }
    }

    private mutating func parsePairs(_ text: String) throws {
        for pair in text.split(separator: " ", omittingEmptySubsequences: true) {
            guard let eq = pair.firstIndex(of: "=") else { throw Invalid(description: "expected key=value, got \"\(pair)\"") }
            try apply(String(pair[..<eq]), String(pair[pair.index(after: eq)...]).trimmingCharacters(in: CharacterSet(charactersIn: "'")))
        }
    }

    private mutating func apply(_ key: String, _ value: String) throws {
        switch key {
        case "host": host = value
        case "port":
            guard let p = Int(value), (1...65535).contains(p) else { throw Invalid(description: "bad port \"\(value)\"") }
            port = p
        case "user": user = value
        case "password": password = value
        case "dbname": database = value
        case "sslmode": sslMode = value
        default: break  // application_name, connect_timeout, …: not needed here
        }
    }

    /// postgres-nio's client configuration.
    package func configuration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        var ssl = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case "disable":
            tls = .disable
        case "require":
            ssl.certificateVerification = .none
            tls = .require(ssl)
        case "verify-ca":
            ssl.certificateVerification = .noHostnameVerification
            tls = .require(ssl)
        case "verify-full":
            tls = .require(ssl)
        default:  // allow, prefer: TLS when the server offers it, unchecked, as libpq does
            ssl.certificateVerification = .none
            tls = .prefer(ssl)
        }
        if host.hasPrefix("/") {
            // A Unix socket directory, as libpq names it: the socket file is .s.PGSQL.<port> in it.
            return PostgresClient.Configuration(
                unixSocketPath: host + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
        }
        return PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
    }
}
