import Crypto
import CryptoExtras
import Foundation
import JWTKit
import StrataAuth
import StrataCore
import Testing

/// A JWKS endpoint in memory: the document it serves (or a failure), and how often it was asked.
private final class FakeJWKSEndpoint: Sendable {
    let document = Locked<Result<String, TestFailure>>(.success(#"{"keys":[]}"#))
    let fetches = Locked(0)

    struct TestFailure: Error {}

    func serve(_ keys: [String]) {
        document.withLock { $0 = .success(#"{"keys":[\#(keys.joined(separator: ","))]}"#) }
    }

    func fail() {
        document.withLock { $0 = .failure(TestFailure()) }
    }

    var fetch: JWKSKeySet.Fetch {
        { _ in
            self.fetches.withLock { $0 += 1 }
            return Array(try self.document.withLock { $0 }.get().utf8)
        }
    }
}

private func ecJWK(_ key: P256.Signing.PrivateKey, kid: String, extra: String = "") -> String {
    let point = Array(key.publicKey.x963Representation)
    return #"{"kty":"EC","crv":"P-256","kid":"\#(kid)","x":"\#(b64url(point[1..<33]))","y":"\#(b64url(point[33..<65]))"\#(extra)}"#
}

/// A JWT signed by hand with a `kid` in its header.
private func token(alg: String, kid: String?, payload: String = #"{"sub":"u1"}"#, sign: (Data) throws -> [UInt8]) rethrows -> String {
    let header = kid.map { #"{"alg":"\#(alg)","kid":"\#($0)","typ":"JWT"}"# } ?? #"{"alg":"\#(alg)","typ":"JWT"}"#
    let input = b64url(header) + "." + b64url(payload)
    return input + "." + b64url(try sign(Data(input.utf8)))
}

private func es256(_ key: P256.Signing.PrivateKey, kid: String?) throws -> String {
    try token(alg: "ES256", kid: kid) { Array(try key.signature(for: $0).rawRepresentation) }
}

private func verifier(_ endpoint: FakeJWKSEndpoint, refreshAfter: Duration = .seconds(3600), unknownKidRefetch: Duration = .seconds(30),
                      problems: Locked<[String]> = Locked([])) async throws -> TokenVerifier
{
    var keys = TokenKeys()
    keys.hmacSecretKey = "secret"  // not used once JWKS is set
    keys.jwks = JWKSKeySet(
        url: "https://idp.test/jwks", refreshAfter: refreshAfter, unknownKidRefetch: unknownKidRefetch,
        onProblem: { message in problems.withLock { $0.append(message) } }, fetch: endpoint.fetch)
    return try await TokenVerifier(keys: keys)
}

@Suite("TokenVerifier: JWKS")
struct JWKSTests {
    @Test func ecRSAAndEd25519KeysVerifyByKid() async throws {
        let ec = P256.Signing.PrivateKey()
        let ed = Curve25519.Signing.PrivateKey()
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let (n, e) = try Insecure.RSA.PublicKey(backing: rsa.publicKey).getKeyPrimitives()
        let endpoint = FakeJWKSEndpoint()
        endpoint.serve([
            ecJWK(ec, kid: "ec1"),
            #"{"kty":"OKP","crv":"Ed25519","kid":"ed1","x":"\#(b64url(Array(ed.publicKey.rawRepresentation)))"}"#,
            #"{"kty":"RSA","kid":"rsa1","use":"sig","alg":"RS256","n":"\#(b64url(Array(n)))","e":"\#(b64url(Array(e)))"}"#,
        ])
        let v = try await verifier(endpoint)
        #expect(v.hasKeys)
        #expect(try await v.verifyConnectionToken(try es256(ec, kid: "ec1"), now: 1_000).user == "u1")
        let edToken = try token(alg: "EdDSA", kid: "ed1") { Array(try ed.signature(for: $0)) }
        #expect(await connectVerdict(v, edToken) == .ok)
        let rsaSigner = await JWTKeyCollection().add(rsa: try Insecure.RSA.PrivateKey(backing: rsa), digestAlgorithm: .sha256, kid: "rsa1")
        let rsaToken = try await rsaSigner.sign(JWKSClaims(sub: "r"), kid: "rsa1")
        #expect(try await v.verifyConnectionToken(rsaToken, now: 1_000).user == "r")
        #expect(endpoint.fetches.withLock { $0 } == 1)  // one document served all three
    }

    @Test func withJWKSTheStaticKeysAndTokensWithoutAKidOrOfAnotherAlgorithmAreRefused() async throws {
        let ec = P256.Signing.PrivateKey()
        let endpoint = FakeJWKSEndpoint()
        endpoint.serve([ecJWK(ec, kid: "ec1"), ecJWK(P256.Signing.PrivateKey(), kid: "pinned", extra: #","alg":"ES256""#)])
        let v = try await verifier(endpoint)
        #expect(await connectVerdict(v, try es256(ec, kid: nil)) == .invalid)  // no kid
        #expect(await connectVerdict(v, hmacToken(payload: #"{"sub":"u"}"#, secret: "secret")) == .invalid)  // static key unused
        let hsWithKid = hmacToken(payload: #"{"sub":"u"}"#, secret: "secret", header: #"{"alg":"HS256","kid":"ec1"}"#)
        #expect(await connectVerdict(v, hsWithKid) == .invalid)
        // A P-256 key verifies ES256 only, whatever the token claims.
        let es384 = try token(alg: "ES384", kid: "ec1") { Array(try ec.signature(for: $0).rawRepresentation) }
        #expect(await connectVerdict(v, es384) == .invalid)
        // Another key's signature under this kid.
        #expect(await connectVerdict(v, try es256(P256.Signing.PrivateKey(), kid: "ec1")) == .invalid)
    }

    @Test func anUnknownKidFetchesAgainSoARotatedKeyWorks() async throws {
        let old = P256.Signing.PrivateKey()
        let new = P256.Signing.PrivateKey()
        let endpoint = FakeJWKSEndpoint()
        endpoint.serve([ecJWK(old, kid: "2026-11")])
        let v = try await verifier(endpoint, unknownKidRefetch: .zero)
        #expect(await connectVerdict(v, try es256(old, kid: "2026-11")) == .ok)
        endpoint.serve([ecJWK(new, kid: "2026-12")])  // the provider rotated
        #expect(await connectVerdict(v, try es256(new, kid: "2026-12")) == .ok)
        #expect(endpoint.fetches.withLock { $0 } == 2)
        // The old key left the document, and so left the set.
        #expect(await connectVerdict(v, try es256(old, kid: "2026-11")) == .invalid)
    }

    @Test func madeUpKidsDoNotFloodTheProvider() async throws {
        let ec = P256.Signing.PrivateKey()
        let endpoint = FakeJWKSEndpoint()
        endpoint.serve([ecJWK(ec, kid: "ec1")])
        let v = try await verifier(endpoint, unknownKidRefetch: .seconds(60))
        #expect(await connectVerdict(v, try es256(ec, kid: "ec1")) == .ok)
        // Many concurrent tokens with unknown kids: the first fetch was moments ago, so none.
        await withTaskGroup(of: Verdict.self) { group in
            for i in 0..<50 {
                group.addTask { await connectVerdict(v, try! es256(ec, kid: "made-up-\(i)")) }
            }
            for await verdict in group { #expect(verdict == .invalid) }
        }
        #expect(endpoint.fetches.withLock { $0 } == 1)
    }

    @Test func concurrentFirstTokensShareOneFetch() async throws {
        let ec = P256.Signing.PrivateKey()
        let endpoint = FakeJWKSEndpoint()
        endpoint.serve([ecJWK(ec, kid: "ec1")])
        let v = try await verifier(endpoint)
        let token = try es256(ec, kid: "ec1")
        await withTaskGroup(of: Verdict.self) { group in
            for _ in 0..<20 { group.addTask { await connectVerdict(v, token) } }
            for await verdict in group { #expect(verdict == .ok) }
        }
        #expect(endpoint.fetches.withLock { $0 } == 1)
    }

    @Test func aProviderThatIsDownOrServesNoUsableKeyKeepsTheKnownKeys() async throws {
        let ec = P256.Signing.PrivateKey()
        let endpoint = FakeJWKSEndpoint()
        endpoint.serve([ecJWK(ec, kid: "ec1")])
        let problems = Locked<[String]>([])
        // Every use is a refresh: each token below triggers a fetch.
        let v = try await verifier(endpoint, refreshAfter: .zero, unknownKidRefetch: .zero, problems: problems)
        let token = try es256(ec, kid: "ec1")
        #expect(await connectVerdict(v, token) == .ok)
        endpoint.fail()
        #expect(await connectVerdict(v, token) == .ok)
        try await Task.sleep(for: .milliseconds(50))  // the background refresh
        #expect(await connectVerdict(v, token) == .ok)
        endpoint.serve([#"{"kty":"EC","crv":"P-256","kid":"enc","use":"enc","x":"AA","y":"AA"}"#, #"{"kty":"oct","kid":"h","k":"c2VjcmV0"}"#, #"{"kty":"EC"}"#])
        #expect(await connectVerdict(v, token) == .ok)
        try await Task.sleep(for: .milliseconds(50))
        #expect(await connectVerdict(v, token) == .ok)
        let seen = problems.withLock { $0 }
        #expect(seen.contains { $0.contains("could not be fetched") }, "\(seen)")
        #expect(seen.contains { $0.contains("no usable key") }, "\(seen)")
        #expect(seen.contains { $0.contains("enc is for enc") }, "\(seen)")
        #expect(seen.contains { $0.contains("h: unsupported key type") }, "\(seen)")
        #expect(seen.contains { $0.contains("has no kid") }, "\(seen)")
    }

    @Test func aDocumentThatIsNotJWKSIsAProblemNotACrash() async throws {
        let endpoint = FakeJWKSEndpoint()
        endpoint.document.withLock { $0 = .success("<html>oops</html>") }
        let problems = Locked<[String]>([])
        let v = try await verifier(endpoint, problems: problems)
        #expect(await connectVerdict(v, try es256(P256.Signing.PrivateKey(), kid: "k")) == .invalid)
        #expect(problems.withLock { $0 }.contains { $0.contains("not a JSON object with a keys array") })
    }
}

private struct JWKSClaims: JWTPayload {
    var sub: String
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
