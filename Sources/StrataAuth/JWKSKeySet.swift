import Foundation
import JWTKit
import StrataCore

/// `jwks_public_endpoint`: the public keys of an identity provider (Keycloak, Auth0, …), fetched
/// from its JWKS document and picked by the token's `kid` (docs/jwks.md).
///
/// - A `kid` not in the set makes the set be fetched again — but at most once per
///   `unknownKidRefetch`, whatever the tokens say, so a stream of made-up `kid`s cannot turn the
///   server into a flood of requests to the provider. Concurrent misses share one fetch.
/// - A set older than `refreshAfter` is fetched again in the background when next used, so
///   removed keys stop working; the current keys serve meanwhile.
/// - A fetch that fails, or a document with no usable key, keeps the keys there are: a provider
///   that is down does not stop tokens whose keys are known.
package final class JWKSKeySet: Sendable {
    /// Fetches the document (the body of a 200 answer; anything else throws).
    package typealias Fetch = @Sendable (_ url: String) async throws -> [UInt8]

    /// One usable key: the algorithms it may verify, and a jwt-kit collection holding it alone.
    struct Key: Sendable {
        let algorithms: Set<String>
        let collection: JWTKeyCollection
    }

    private struct State {
        var keys: [String: Key] = [:]
        var fetchedAt: ContinuousClock.Instant?
        var attemptedAt: ContinuousClock.Instant?
        var inFlight: Task<Void, Never>?
    }

    package let url: String
    private let fetch: Fetch
    private let refreshAfter: Duration
    private let unknownKidRefetch: Duration
    private let onProblem: @Sendable (String) -> Void
    private let state = Locked(State())

    package init(
        url: String, refreshAfter: Duration = .seconds(3600), unknownKidRefetch: Duration = .seconds(30),
        onProblem: @escaping @Sendable (String) -> Void = { _ in }, fetch: @escaping Fetch
    ) {
        self.url = url
        self.fetch = fetch
        self.refreshAfter = refreshAfter
        self.unknownKidRefetch = unknownKidRefetch
        self.onProblem = onProblem
    }

    /// The key with this id, fetching the set first when it is unknown and may be fetched.
    func key(_ kid: String) async -> Key? {
        let now = ContinuousClock.now
        let (hit, stale, mayFetch) = state.withLock { s -> (Key?, Bool, Bool) in
            let stale = s.fetchedAt.map { now - $0 >= refreshAfter } ?? true
            let mayFetch = s.attemptedAt.map { now - $0 >= unknownKidRefetch } ?? true
            return (s.keys[kid], stale, mayFetch)
        }
        if let hit {
            if stale && mayFetch { _ = startRefresh() }
            return hit
        }
        guard mayFetch || state.withLock({ $0.inFlight != nil }) else { return nil }
        await startRefresh().value
        return state.withLock { $0.keys[kid] }
    }

    /// Fetches the set now (at start, so the first connections do not wait for it).
    package func refresh() async {
        await startRefresh().value
    }

    /// The kids known now.
    package var keyIDs: [String] {
        state.withLock { $0.keys.keys.sorted() }
    }

    /// The fetch under way, or a new one.
    private func startRefresh() -> Task<Void, Never> {
        state.withLock { s in
            if let running = s.inFlight { return running }
            s.attemptedAt = .now
            let task = Task { await self.load() }
            s.inFlight = task
            return task
        }
    }

    private func load() async {
        defer { state.withLock { $0.inFlight = nil } }
        do {
            let (keys, skipped) = await Self.parse(try await fetch(url))
            for reason in skipped { onProblem("JWKS \(url): a key was skipped: \(reason)") }
            guard !keys.isEmpty else {
                onProblem("JWKS \(url): no usable key in the document; keeping the \(state.withLock { $0.keys.count }) known")
                return
            }
            state.withLock {
                $0.keys = keys
                $0.fetchedAt = .now
            }
        } catch {
            onProblem("JWKS \(url) could not be fetched (\(error)); keeping the \(state.withLock { $0.keys.count }) known keys")
        }
    }

    /// The usable keys of a JWKS document by kid, and why the others were skipped: each key
    /// needs a `kid`, a `use` of `sig` if any, and a type Centrifugo takes (RSA, EC, OKP/Ed25519).
    static func parse(_ document: [UInt8]) async -> ([String: Key], skipped: [String]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(document)) as? [String: Any],
            let entries = object["keys"] as? [Any]
        else { return ([:], ["not a JSON object with a keys array"]) }
        var keys: [String: Key] = [:]
        var skipped: [String] = []
        for (index, entry) in entries.enumerated() {
            guard let fields = entry as? [String: Any], let kid = fields["kid"] as? String, !kid.isEmpty else {
                skipped.append("key \(index) has no kid")
                continue
            }
            if let use = fields["use"] as? String, use != "sig" {
                skipped.append("\(kid) is for \(use), not signatures")
                continue
            }
            guard let algorithms = Self.algorithms(fields) else {
                skipped.append("\(kid): unsupported key type or algorithm")
                continue
            }
            do {
                let jwk = try JSONDecoder().decode(JWK.self, from: JSONSerialization.data(withJSONObject: fields))
                let collection = try await JWTKeyCollection().add(jwk: jwk)
                keys[kid] = Key(algorithms: algorithms, collection: collection)
            } catch {
                skipped.append("\(kid): \(error)")
            }
        }
        return (keys, skipped)
    }

    /// The token algorithms a key may verify: its `alg` if it names one, else those its type
    /// (and curve) allow.
    static func algorithms(_ fields: [String: Any]) -> Set<String>? {
        let byType: Set<String>
        switch (fields["kty"] as? String, fields["crv"] as? String) {
        case ("RSA", _): byType = ["RS256", "RS384", "RS512"]
        case ("EC", "P-256"): byType = ["ES256"]
        case ("EC", "P-384"): byType = ["ES384"]
        case ("EC", "P-521"): byType = ["ES512"]
        case ("OKP", "Ed25519"): byType = ["EdDSA"]
        default: return nil
        }
        guard let alg = fields["alg"] as? String else { return byType }
        return byType.contains(alg) ? [alg] : nil
    }
}
