import Testing
import StrataAuth

@Suite("TokenVerifier: signatures and expiry")
struct TokenVerifierSignatureTests {
    @Test func issuedTokenWithShortSecretVerifies() async throws {
        let token = TokenIssuer.hs256(secret: "secret", user: "42", now: 1_000, ttlSeconds: 3600)
        let v = try await TokenVerifier(keys: hmacKeys("secret"))
        #expect(v.hasKeys)
        let claims = try await v.verifyConnectionToken(token, now: 1_000)
        #expect(claims.user == "42")
        #expect(claims.expiresAt == 4_600)
        #expect(claims.expireAt == nil)
        #expect(claims.connectionExpiry == 4_600)
        #expect(claims.info == nil)
        #expect(claims.channels.isEmpty)
        #expect(claims.subs.isEmpty)
    }

    @Test func issuedTokenWithoutTTLNeverExpires() async throws {
        let token = TokenIssuer.hs256(secret: "s", user: "", now: 1_000, ttlSeconds: 0)
        let v = try await TokenVerifier(keys: hmacKeys("s"))
        let claims = try await v.verifyConnectionToken(token, now: 9_999_999_999)
        #expect(claims.user == "")
        #expect(claims.expiresAt == nil)
        #expect(claims.connectionExpiry == nil)
    }

    @Test func longSecretsWorkToo() async throws {
        let secret = String(repeating: "k", count: 200)
        let v = try await TokenVerifier(keys: hmacKeys(secret))
        #expect(await connectVerdict(v, TokenIssuer.hs256(secret: secret, user: "u", now: 1_000, ttlSeconds: 60)) == .ok)
    }

    @Test func wrongSecretIsInvalid() async throws {
        let token = TokenIssuer.hs256(secret: "other", user: "42", now: 1_000, ttlSeconds: 3600)
        let v = try await TokenVerifier(keys: hmacKeys("secret"))
        #expect(await connectVerdict(v, token) == .invalid)
        #expect(await connectVerdict(v, hmacToken(payload: #"{"sub":"1"}"#, secret: "secre")) == .invalid)
    }

    @Test("HS384 and HS512 are accepted", arguments: ["HS256", "HS384", "HS512"])
    func hmacFamilies(_ alg: String) async throws {
        let v = try await TokenVerifier(keys: hmacKeys())
        let claims = try await v.verifyConnectionToken(hmacToken(payload: #"{"sub":"7"}"#, secret: "secret", alg: alg), now: 1_000)
        #expect(claims.user == "7")
        #expect(await connectVerdict(v, hmacToken(payload: #"{"sub":"7"}"#, secret: "wrong", alg: alg)) == .invalid)
    }

    @Test func tamperedPayloadIsInvalid() async throws {
        let v = try await TokenVerifier(keys: hmacKeys())
        let good = hmacToken(payload: #"{"sub":"1"}"#, secret: "secret")
        let parts = good.split(separator: ".")
        let forged = String(parts[0]) + "." + b64url(#"{"sub":"admin"}"#) + "." + String(parts[2])
        #expect(await connectVerdict(v, forged) == .invalid)
        // Signature of a different algorithm in the header.
        let relabelled = b64url(#"{"alg":"HS512","typ":"JWT"}"#) + "." + String(parts[1]) + "." + String(parts[2])
        #expect(await connectVerdict(v, relabelled) == .invalid)
    }

    @Test func expiredTokens() async throws {
        let v = try await TokenVerifier(keys: hmacKeys())
        let token = hmacToken(payload: #"{"sub":"1","exp":2000}"#, secret: "secret")
        #expect(await connectVerdict(v, token, now: 1_999) == .ok)
        #expect(await connectVerdict(v, token, now: 2_000) == .expired)
        #expect(await connectVerdict(v, token, now: 5_000) == .expired)
        let issued = TokenIssuer.hs256(secret: "secret", user: "42", now: 1_000, ttlSeconds: 10)
        #expect(await connectVerdict(v, issued, now: 1_011) == .expired)
    }

    @Test func notBeforeInTheFutureIsExpired() async throws {
        let v = try await TokenVerifier(keys: hmacKeys())
        let token = hmacToken(payload: #"{"sub":"1","nbf":1500}"#, secret: "secret")
        #expect(await connectVerdict(v, token, now: 1_000) == .expired)
        #expect(await connectVerdict(v, token, now: 2_000) == .ok)
    }

    @Test func expiryIsCheckedOnlyAfterTheSignature() async throws {
        let v = try await TokenVerifier(keys: hmacKeys())
        let expiredButForged = hmacToken(payload: #"{"sub":"1","exp":10}"#, secret: "not-the-secret")
        #expect(await connectVerdict(v, expiredButForged, now: 1_000) == .invalid)
    }

    @Test func subscriptionTokensExpireToo() async throws {
        let v = try await TokenVerifier(keys: hmacKeys())
        let token = TokenIssuer.hs256(secret: "secret", user: "u", now: 1_000, ttlSeconds: 5, channel: "$c")
        #expect(await subscriptionVerdict(v, token, now: 1_004) == .ok)
        #expect(await subscriptionVerdict(v, token, now: 1_005) == .expired)
    }

    @Test("algorithm none and unknown algorithms are invalid", arguments: ["none", "None", "HS1024", "RS256", "ES256", "PS256", "EdDSA"])
    func unsupportedAlgorithms(_ alg: String) async throws {
        let v = try await TokenVerifier(keys: hmacKeys())
        let unsigned = b64url(#"{"alg":"\#(alg)","typ":"JWT"}"#) + "." + b64url(#"{"sub":"1"}"#) + "."
        #expect(await connectVerdict(v, unsigned) == .invalid)
        // Even with an HMAC signature computed with the right secret.
        let signed = hmacToken(payload: #"{"sub":"1"}"#, secret: "secret", header: #"{"alg":"\#(alg)","typ":"JWT"}"#)
        #expect(await connectVerdict(v, signed) == .invalid)
    }

    @Test func headerWithoutAlgorithmIsInvalid() async throws {
        let v = try await TokenVerifier(keys: hmacKeys())
        #expect(await connectVerdict(v, hmacToken(payload: #"{"sub":"1"}"#, secret: "secret", header: #"{"typ":"JWT"}"#)) == .invalid)
    }

    @Test func noKeysMeansEveryTokenIsInvalid() async throws {
        let v = try await TokenVerifier(keys: TokenKeys())
        #expect(!v.hasKeys)
        #expect(await connectVerdict(v, TokenIssuer.hs256(secret: "secret", user: "1", now: 1_000, ttlSeconds: 60)) == .invalid)
    }

    @Test func skippingSignatureVerificationStillReadsClaimsAndExpiry() async throws {
        var keys = TokenKeys()
        keys.skipSignatureVerification = true
        let v = try await TokenVerifier(keys: keys)
        let claims = try await v.verifyConnectionToken(hmacToken(payload: #"{"sub":"dev"}"#, secret: "anything"), now: 1_000)
        #expect(claims.user == "dev")
        #expect(await connectVerdict(v, hmacToken(payload: #"{"sub":"dev","exp":5}"#, secret: "x"), now: 1_000) == .expired)
    }

    @Test("malformed tokens are invalid", arguments: [
        "", "abc", "a.b", "a.b.c.d", "...", "!!!.@@@.###",
        b64url("not json") + "." + b64url(#"{"sub":"1"}"#) + ".sig",
        b64url(#"{"alg":"HS256"}"#) + "." + b64url("[1,2]") + ".sig",
        b64url(#"{"alg":"HS256"}"#) + "." + b64url(#"{"sub":1"#) + ".sig",
        b64url(#"{"alg":"HS256"}"#) + "." + b64url(#"{"sub":"1"}"#) + ".not*base64",
    ])
    func malformed(_ token: String) async throws {
        let v = try await TokenVerifier(keys: hmacKeys())
        #expect(await connectVerdict(v, token) == .invalid)
        #expect(await subscriptionVerdict(v, token) == .invalid)
    }

    @Test func connectionTokenMustNotHaveAChannelClaim() async throws {
        let v = try await TokenVerifier(keys: hmacKeys())
        let token = TokenIssuer.hs256(secret: "secret", user: "42", now: 1_000, ttlSeconds: 60, channel: "$private")
        #expect(await connectVerdict(v, token) == .invalid)
        #expect(await connectVerdict(v, hmacToken(payload: #"{"sub":"1","channel":"news"}"#, secret: "secret")) == .invalid)
    }
}

@Suite("TokenVerifier: audience and issuer")
struct TokenVerifierClaimCheckTests {
    private func check(_ configure: (inout TokenKeys) -> Void, _ payload: String) async throws -> Verdict {
        let v = try await TokenVerifier(keys: hmacKeys(configure: configure))
        return await connectVerdict(v, hmacToken(payload: payload, secret: "secret"))
    }

    @Test func unconfiguredChecksAcceptAnything() async throws {
        #expect(try await check({ _ in }, #"{"sub":"1","aud":"whatever","iss":"anyone"}"#) == .ok)
        #expect(try await check({ _ in }, #"{"sub":"1"}"#) == .ok)
    }

    @Test("audience", arguments: [
        (#"{"sub":"1","aud":"app"}"#, Verdict.ok),
        (#"{"sub":"1","aud":["other","app"]}"#, .ok),
        (#"{"sub":"1","aud":"other"}"#, .invalid),
        (#"{"sub":"1","aud":["x","y"]}"#, .invalid),
        (#"{"sub":"1","aud":"application"}"#, .invalid),
        (#"{"sub":"1"}"#, .invalid),
        (#"{"sub":"1","aud":[]}"#, .invalid),
    ] as [(String, Verdict)])
    func audience(_ payload: String, _ expected: Verdict) async throws {
        #expect(try await check({ $0.audience = "app" }, payload) == expected)
    }

    @Test("audience_regex", arguments: [
        (#"{"sub":"1","aud":"app-12"}"#, Verdict.ok),
        (#"{"sub":"1","aud":["zzz","app-7"]}"#, .ok),
        (#"{"sub":"1","aud":"app-x"}"#, .invalid),
        (#"{"sub":"1","aud":"my-app-1"}"#, .invalid),
        (#"{"sub":"1"}"#, .invalid),
    ] as [(String, Verdict)])
    func audienceRegex(_ payload: String, _ expected: Verdict) async throws {
        #expect(try await check({ $0.audienceRegex = #"^app-\d+$"# }, payload) == expected)
    }

    @Test("issuer", arguments: [
        (#"{"sub":"1","iss":"https://auth.example"}"#, Verdict.ok),
        (#"{"sub":"1","iss":"https://evil.example"}"#, .invalid),
        (#"{"sub":"1","iss":"https://auth.example/"}"#, .invalid),
        (#"{"sub":"1"}"#, .invalid),
    ] as [(String, Verdict)])
    func issuer(_ payload: String, _ expected: Verdict) async throws {
        #expect(try await check({ $0.issuer = "https://auth.example" }, payload) == expected)
    }

    @Test("issuer_regex", arguments: [
        (#"{"sub":"1","iss":"tenant-a.auth.example"}"#, Verdict.ok),
        (#"{"sub":"1","iss":"auth.example"}"#, .invalid),
        (#"{"sub":"1","iss":"tenant-a.auth.example.evil"}"#, .invalid),
        (#"{"sub":"1"}"#, .invalid),
    ] as [(String, Verdict)])
    func issuerRegex(_ payload: String, _ expected: Verdict) async throws {
        #expect(try await check({ $0.issuerRegex = #"^[a-z-]+\.auth\.example$"# }, payload) == expected)
    }

    @Test func audienceAndIssuerApplyToSubscriptionTokens() async throws {
        let v = try await TokenVerifier(keys: hmacKeys { $0.audience = "app"; $0.issuer = "me" })
        let good = hmacToken(payload: #"{"sub":"1","channel":"c","aud":"app","iss":"me"}"#, secret: "secret")
        let badAud = hmacToken(payload: #"{"sub":"1","channel":"c","aud":"x","iss":"me"}"#, secret: "secret")
        #expect(await subscriptionVerdict(v, good) == .ok)
        #expect(await subscriptionVerdict(v, badAud) == .invalid)
    }

    @Test func audienceMismatchOnAnExpiredTokenIsInvalid() async throws {
        #expect(try await check({ $0.audience = "app" }, #"{"sub":"1","aud":"x","exp":1}"#) == .invalid)
    }

    @Test func badRegexFailsInit() async {
        await #expect(throws: (any Error).self) { _ = try await TokenVerifier(keys: hmacKeys { $0.audienceRegex = "([" }) }
    }
}
