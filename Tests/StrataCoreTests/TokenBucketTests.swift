import StrataCore
import Testing

/// The token bucket behind the rate limits: a second's worth at once, then the rate.
@Suite("Token bucket")
struct TokenBucketTests {
    @Test func burstThenRate() {
        var bucket = TokenBucket(perSecond: 4, nowMillis: 0)
        var burst: [Bool] = []
        for _ in 0..<6 { burst.append(bucket.take(nowMillis: 0)) }
        #expect(burst == [true, true, true, true, false, false])
        let early = bucket.take(nowMillis: 249)
        let onTime = bucket.take(nowMillis: 250)  // a quarter second is one token at 4/s
        let again = bucket.take(nowMillis: 250)
        #expect(!early && onTime && !again)
        // Idle time refills up to the burst, no more.
        var allowed = 0
        for _ in 0..<6 where bucket.take(nowMillis: 60_000) { allowed += 1 }
        #expect(allowed == 4)
    }

    @Test func fullAfterASecondIdle() {
        var bucket = TokenBucket(perSecond: 10, nowMillis: 0)
        #expect(bucket.isFull(nowMillis: 0))
        let took = bucket.take(nowMillis: 0)
        #expect(took)
        #expect(!bucket.isFull(nowMillis: 99))
        #expect(bucket.isFull(nowMillis: 100))
    }

    /// A clock that steps back (or a huge gap) neither adds tokens nor overflows.
    @Test func clockStepsAndHugeGaps() {
        var bucket = TokenBucket(perSecond: Int(Int32.max), nowMillis: 1000)
        let afterGap = bucket.take(nowMillis: Int64.max / 2)
        #expect(afterGap)
        var slow = TokenBucket(perSecond: 1, nowMillis: 5000)
        let steps = [5000, 0, 5999, 6000].map { slow.take(nowMillis: Int64($0)) }
        #expect(steps == [true, false, false, true])
    }
}
