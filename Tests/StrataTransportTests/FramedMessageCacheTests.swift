import NIOCore
import Testing

@testable import StrataTransport

@Suite("FramedMessageCache: a message shared by the loop's writers is framed once")
struct FramedMessageCacheTests {
    let allocator = ByteBufferAllocator()
    let sse = FramedMessageCache.Format.httpStream(.serverSentEvents, chunked: true)

    /// Frames with `framing`, counting how often it had to.
    final class Counter { var calls = 0 }

    func frame(_ cache: FramedMessageCache, _ message: [UInt8], as format: FramedMessageCache.Format, _ counter: Counter) -> ByteBuffer {
        cache.framed(message, as: format) { m in
            counter.calls += 1
            switch format {
            case .httpStream(let framing, let chunked): return framing.encode([m], allocator: allocator, chunked: chunked)
            case .webSocket(let batching): return ChannelFrameWriter.dataFrame([m], batching)
            }
        }
    }

    @Test func theSameMessageIsFramedOnceAndTheBufferShared() {
        let cache = FramedMessageCache()
        let counter = Counter()
        let publication = Array(#"{"push":{"channel":"c","pub":{"data":{"n":1}}}}"#.utf8)
        let copies = (0..<100).map { _ in publication }  // one storage, as subscribers share a publication's frame
        let framed = copies.map { frame(cache, $0, as: sse, counter) }
        #expect(counter.calls == 1)
        #expect(framed.allSatisfy { $0 == HTTPStreamFraming.serverSentEvents.encode([publication], allocator: allocator, chunked: true) })
        let addresses = Set(framed.map { $0.withUnsafeReadableBytes { Int(bitPattern: $0.baseAddress) } })
        #expect(addresses.count == 1)
    }

    /// Equal bytes in another array are another message as far as the cache knows: framed
    /// again, to the same bytes. A format is part of the key.
    @Test func anotherStorageOrFormatIsFramedAgain() {
        let cache = FramedMessageCache()
        let counter = Counter()
        let a = Array("hello".utf8)
        var b = Array("hell".utf8)
        b.append(UInt8(ascii: "o"))
        let first = frame(cache, a, as: sse, counter)
        let second = frame(cache, b, as: sse, counter)
        #expect(counter.calls == 2)
        #expect(first == second)
        let asWebSocket = frame(cache, a, as: .webSocket(.newlineJoinedText), counter)
        #expect(counter.calls == 3)
        #expect(asWebSocket == ChannelFrameWriter.dataFrame([a], .newlineJoinedText))
        #expect(frame(cache, a, as: .httpStream(.serverSentEvents, chunked: false), counter) != first)
        #expect(counter.calls == 4)
    }

    /// Four messages alternate without misses; a fifth pushes out the oldest.
    @Test func keepsAFewMessages() {
        let cache = FramedMessageCache()
        let counter = Counter()
        let messages = (0..<5).map { Array("message \($0)".utf8) }
        for _ in 0..<3 { for m in messages.prefix(4) { _ = frame(cache, m, as: sse, counter) } }
        #expect(counter.calls == 4)
        _ = frame(cache, messages[4], as: sse, counter)
        _ = frame(cache, messages[0], as: sse, counter)
        #expect(counter.calls == 6)
    }

    /// Large messages and empty ones are framed each time, not kept.
    @Test func largeMessagesAreNotKept() {
        let cache = FramedMessageCache()
        let counter = Counter()
        let large = [UInt8](repeating: 65, count: FramedMessageCache.largestKept + 1)
        _ = frame(cache, large, as: sse, counter)
        _ = frame(cache, large, as: sse, counter)
        #expect(counter.calls == 2)
    }
}
