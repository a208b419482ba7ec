import Testing
import StrataAuth

private func verifier(_ configure: (inout TokenKeys) -> Void = { _ in }) async throws -> TokenVerifier {
    try await TokenVerifier(keys: hmacKeys(configure: configure))
}

private func connect(_ payload: String, _ configure: (inout TokenKeys) -> Void = { _ in }) async throws -> ConnectionClaims {
    try await verifier(configure).verifyConnectionToken(hmacToken(payload: payload, secret: "secret"), now: 1_000)
}

private func subscribe(_ payload: String) async throws -> SubscriptionClaims {
    try await verifier().verifySubscriptionToken(hmacToken(payload: payload, secret: "secret"), now: 1_000)
}

private func text(_ b: [UInt8]?) -> String? { b.map { String(decoding: $0, as: UTF8.self) } }

@Suite("Connection token claims")
struct ConnectionClaimsTests {
    @Test func infoBytesArePreservedExactly() async throws {
        let info = #"{"name":"Alex","n":1.50,"big":12345678901234567890,"e":"\u00e9","emoji":"😀","nested":{"z":[true,null]}}"#
        let claims = try await connect(#"{"sub":"1","info":"# + info + "}")
        #expect(text(claims.info) == info)
    }

    @Test func infoIsCompactedButOtherwiseVerbatim() async throws {
        let claims = try await connect(#"{"sub":"1","info": { "a" : [1, 2], "s" : "x  y" } }"#)
        #expect(text(claims.info) == #"{"a":[1,2],"s":"x  y"}"#)
    }

    @Test("info of any JSON type", arguments: [
        (#""text""#, #""text""#), ("[1,2]", "[1,2]"), ("42", "42"), ("false", "false"),
    ])
    func infoTypes(_ raw: String, _ expected: String) async throws {
        #expect(text(try await connect(#"{"sub":"1","info":"# + raw + "}").info) == expected)
    }

    @Test func nullOrMissingInfoIsNil() async throws {
        #expect(try await connect(#"{"sub":"1","info":null}"#).info == nil)
        #expect(try await connect(#"{"sub":"1"}"#).info == nil)
    }

    @Test func b64infoDecodesAndWinsOverInfo() async throws {
        #expect(try await connect(#"{"sub":"1","b64info":"AAECAw=="}"#).info == [0, 1, 2, 3])
        #expect(try await connect(#"{"sub":"1","info":{"a":1},"b64info":"/w=="}"#).info == [0xFF])
        // An empty b64info falls back to info.
        #expect(text(try await connect(#"{"sub":"1","info":{"a":1},"b64info":""}"#).info) == #"{"a":1}"#)
    }

    @Test func badB64infoIsInvalid() async throws {
        let v = try await verifier()
        #expect(await connectVerdict(v, hmacToken(payload: #"{"sub":"1","b64info":"!!not base64!!"}"#, secret: "secret")) == .invalid)
    }

    @Test func userIDClaimSelectsAnotherClaim() async throws {
        let payload = #"{"sub":"from-sub","user_id":"from-custom"}"#
        #expect(try await connect(payload).user == "from-sub")
        #expect(try await connect(payload) { $0.userIDClaim = "user_id" }.user == "from-custom")
        #expect(try await connect(#"{"sub":"from-sub"}"#) { $0.userIDClaim = "user_id" }.user == "")
        let v = try await verifier { $0.userIDClaim = "user_id" }
        #expect(await connectVerdict(v, hmacToken(payload: #"{"user_id":42}"#, secret: "secret")) == .invalid)
    }

    @Test func nonStringSubIsInvalid() async throws {
        let v = try await verifier()
        #expect(await connectVerdict(v, hmacToken(payload: #"{"sub":42}"#, secret: "secret")) == .invalid)
        #expect(try await connect(#"{"sub":null}"#).user == "")
    }

    @Test func expireAtOverridesExp() async throws {
        let never = try await connect(#"{"sub":"1","exp":5000,"expire_at":0}"#)
        #expect(never.expiresAt == 5000)
        #expect(never.expireAt == 0)
        #expect(never.connectionExpiry == nil)

        let later = try await connect(#"{"sub":"1","exp":5000,"expire_at":9000}"#)
        #expect(later.connectionExpiry == 9000)

        let onlyExpireAt = try await connect(#"{"sub":"1","expire_at":3000}"#)
        #expect(onlyExpireAt.expiresAt == nil)
        #expect(onlyExpireAt.connectionExpiry == 3000)

        let onlyExp = try await connect(#"{"sub":"1","exp":5000}"#)
        #expect(onlyExp.expireAt == nil)
        #expect(onlyExp.connectionExpiry == 5000)
    }

    @Test func expireAtInThePastDoesNotMakeTheTokenExpired() async throws {
        // expire_at is the connection's lifetime (error 110 later), not a token validity check (109).
        let claims = try await connect(#"{"sub":"1","expire_at":10}"#)
        #expect(claims.connectionExpiry == 10)
    }

    @Test("numeric claims of the wrong type are invalid", arguments: [
        #"{"sub":"1","exp":"5000"}"#, #"{"sub":"1","expire_at":"0"}"#, #"{"sub":"1","nbf":true}"#, #"{"sub":"1","exp":{}}"#,
    ])
    func wrongNumericTypes(_ payload: String) async throws {
        let v = try await verifier()
        #expect(await connectVerdict(v, hmacToken(payload: payload, secret: "secret")) == .invalid)
    }

    @Test func channelsClaim() async throws {
        #expect(try await connect(#"{"sub":"1","channels":["news","chat:index"]}"#).channels == ["news", "chat:index"])
        let v = try await verifier()
        #expect(await connectVerdict(v, hmacToken(payload: #"{"sub":"1","channels":"news"}"#, secret: "secret")) == .invalid)
        #expect(await connectVerdict(v, hmacToken(payload: #"{"sub":"1","channels":[1]}"#, secret: "secret")) == .invalid)
    }

    @Test func subsClaimWithOptions() async throws {
        let claims = try await connect(
            #"{"sub":"1","subs":{"news":{"info":{"x": 1},"b64data":"AQI=","override":{"presence":{"value":true},"#
                + #""join_leave":{"value":false},"force_recovery":{"value":true}}},"plain":{}}}"#)
        #expect(claims.subs.count == 2)
        let news = try #require(claims.subs["news"])
        #expect(text(news.info) == #"{"x":1}"#)
        #expect(news.data == [1, 2])
        #expect(news.override.presence == true)
        #expect(news.override.joinLeave == false)
        #expect(news.override.forceRecovery == true)
        #expect(news.override.forcePositioning == nil)
        #expect(news.override.forcePushJoinLeave == nil)
        #expect(claims.subs["plain"] == TokenSubscribeOptions())
    }

    @Test func subsEntryMustBeAnObject() async throws {
        let v = try await verifier()
        #expect(await connectVerdict(v, hmacToken(payload: #"{"sub":"1","subs":{"news":true}}"#, secret: "secret")) == .invalid)
    }

    @Test func unknownClaimsAreIgnored() async throws {
        let claims = try await connect(#"{"sub":"9","iat":1,"jti":"x","meta":{"m":1},"custom":[1]}"#)
        #expect(claims.user == "9")
    }
}

@Suite("Subscription token claims")
struct SubscriptionClaimsTests {
    @Test func allClaimsAreRead() async throws {
        let c = try await subscribe(
            #"{"sub":"u","channel":"$secret","client":"cid","info":{"i": 1},"data":{"d":[1]},"exp":5000,"expire_at":0,"#
                + #""override":{"force_positioning":{"value":true},"force_push_join_leave":{"value":false}}}"#)
        #expect(c.user == "u")
        #expect(c.channel == "$secret")
        #expect(c.client == "cid")
        #expect(text(c.info) == #"{"i":1}"#)
        #expect(text(c.data) == #"{"d":[1]}"#)
        #expect(c.expiresAt == 5000)
        #expect(c.subscriptionExpiry == nil)
        #expect(c.override.forcePositioning == true)
        #expect(c.override.forcePushJoinLeave == false)
        #expect(c.override.presence == nil)
    }

    @Test func b64Variants() async throws {
        let c = try await subscribe(#"{"sub":"u","channel":"c","info":{"a":1},"b64info":"AQ==","data":"x","b64data":"Ag=="}"#)
        #expect(c.info == [1])
        #expect(c.data == [2])
    }

    @Test func expiryFields() async throws {
        #expect(try await subscribe(#"{"sub":"u","channel":"c","exp":5000}"#).subscriptionExpiry == 5000)
        #expect(try await subscribe(#"{"sub":"u","channel":"c","exp":5000,"expire_at":7000}"#).subscriptionExpiry == 7000)
        #expect(try await subscribe(#"{"sub":"u","channel":"c"}"#).subscriptionExpiry == nil)
    }

    @Test func issuerMadeSubscriptionToken() async throws {
        let token = TokenIssuer.hs256(secret: "secret", user: "42", now: 1_000, ttlSeconds: 60, channel: "$room")
        let c = try await verifier().verifySubscriptionToken(token, now: 1_000)
        #expect(c.user == "42")
        #expect(c.channel == "$room")
        #expect(c.client == "")
        #expect(c.expiresAt == 1_060)
    }

    @Test("channel claim is required", arguments: [
        #"{"sub":"u"}"#, #"{"sub":"u","channel":""}"#, #"{"sub":"u","channel":5}"#, #"{"sub":"u","channel":null}"#,
    ])
    func channelRequired(_ payload: String) async throws {
        let v = try await verifier()
        #expect(await subscriptionVerdict(v, hmacToken(payload: payload, secret: "secret")) == .invalid)
    }

    @Test func connectionTokenIsNotASubscriptionToken() async throws {
        let v = try await verifier()
        #expect(await subscriptionVerdict(v, TokenIssuer.hs256(secret: "secret", user: "1", now: 1_000, ttlSeconds: 60)) == .invalid)
    }
}
