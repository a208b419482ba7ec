import Testing

@testable import StrataAdmin

@Suite struct AdminTokenTests {
    let tokens = AdminToken(secret: "s3cret")

    @Test func aTokenVerifiesFor30DaysWithItsSecretOnly() {
        let t = tokens.issue(nowSeconds: 1_000_000)
        #expect(tokens.verify(t, nowSeconds: 1_000_000))
        #expect(tokens.verify(t, nowSeconds: 1_000_000 + AdminToken.maxAgeSeconds - 1))
        #expect(!tokens.verify(t, nowSeconds: 1_000_000 + AdminToken.maxAgeSeconds))
        #expect(!AdminToken(secret: "other").verify(t, nowSeconds: 1_000_000))
        #expect(!tokens.verify(t, nowSeconds: 1_000_000 - 3600))  // issued in the future
    }

    @Test func alteredOrMalformedTokensFail() {
        let t = tokens.issue(nowSeconds: 1_000_000)
        var bytes = Array(t.utf8)
        bytes[bytes.count / 2] = bytes[bytes.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(!tokens.verify(String(decoding: bytes, as: UTF8.self), nowSeconds: 1_000_000))
        for bad in ["", "x", "!!!!", String(repeating: "A", count: 5000), "MTIzfGF8"] {
            #expect(!tokens.verify(bad, nowSeconds: 1_000_000))
        }
    }

    @Test func passwordsFromEveryFormEncoding() {
        #expect(AdminForm.password(body: Array("password=a%20b&x=1".utf8), contentType: "application/x-www-form-urlencoded", query: nil) == "a b")
        let multipart = "--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\npa|ss\r\n--XyZ--\r\n"
        #expect(AdminForm.password(body: Array(multipart.utf8), contentType: "multipart/form-data; boundary=XyZ", query: nil) == "pa|ss")
        #expect(AdminForm.password(body: [], contentType: nil, query: "password=q") == "q")
        #expect(AdminForm.password(body: [], contentType: nil, query: nil) == nil)
    }

    @Test func theLoginThrottleRefusesAfterFiveFailuresUntilTheWindowEnds() {
        let t = LoginThrottle(maxFailures: 5, windowMillis: 60_000)
        for i in 0..<5 {
            #expect(t.allows("1.2.3.4", nowMillis: Int64(i)))
            t.failed("1.2.3.4", nowMillis: Int64(i))
        }
        #expect(!t.allows("1.2.3.4", nowMillis: 10))
        #expect(t.allows("5.6.7.8", nowMillis: 10))
        #expect(t.allows("1.2.3.4", nowMillis: 60_001))
    }
}
