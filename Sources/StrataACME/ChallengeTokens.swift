import StrataCore

/// The HTTP-01 challenges under way: token → key authorization. The ACME client adds a token
/// before telling the server to validate and removes it after; the challenge listener answers
/// `GET /.well-known/acme-challenge/<token>` from here (RFC 8555 §8.3).
package final class ChallengeTokens: Sendable {
    private let tokens = Locked<[String: String]>([:])

    package init() {}

    package static let pathPrefix = "/.well-known/acme-challenge/"

    func add(token: String, keyAuthorization: String) {
        tokens.withLock { $0[token] = keyAuthorization }
    }

    func remove(token: String) {
        _ = tokens.withLock { $0.removeValue(forKey: token) }
    }

    /// The body to answer for a request path, nil when it is no challenge under way.
    package func response(forPath path: String) -> String? {
        guard path.hasPrefix(Self.pathPrefix) else { return nil }
        let token = String(path.dropFirst(Self.pathPrefix.count))
        return tokens.withLock { $0[token] }
    }
}
