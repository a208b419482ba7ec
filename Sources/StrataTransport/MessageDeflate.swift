import NIOCore
import NIOHTTP1
import StrataCompression

/// WebSocket permessage-deflate (RFC 7692) as Centrifugo offers it (transports.md §3.6): off
/// unless `websocket.compression`; accepted when the client lists `permessage-deflate` with any
/// parameters, answered always with no context takeover either way, so every message is
/// compressed on its own and a connection keeps no compression state.
package struct MessageDeflateOptions: Sendable {
    /// `compression_min_size`: only messages (batches) strictly larger are compressed; 0: all.
    package var minSize: Int
    /// `compression_level`, Go's −2…9.
    package var level: Int
    /// `decompressed_message_size_limit` (0: 10 × the message size limit), resolved.
    package var inflatedLimit: Int

    package init(minSize: Int, level: Int, inflatedLimit: Int) {
        self.minSize = minSize
        self.level = level
        self.inflatedLimit = inflatedLimit
    }

    /// The answer to an offer, always the same.
    static let responseHeader = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

    /// Whether the request offers permessage-deflate (its parameters are ignored).
    static func offered(_ headers: HTTPHeaders) -> Bool {
        headers[canonicalForm: "sec-websocket-extensions"].contains { offer in
            let name = offer.split(separator: ";").first ?? ""
            return name.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed().elementsEqual("permessage-deflate")
        }
    }
}

/// The zlib streams of one event loop, shared by its connections (each message is compressed
/// or inflated on its own, on the loop, so one pair per loop is enough). `@unchecked Sendable`:
/// made by `PerEventLoop` and only used on its loop.
final class LoopDeflate: @unchecked Sendable {
    let deflater: RawDeflater
    let inflater = RawInflater()

    init(level: Int) {
        deflater = RawDeflater(level: level)
    }
}

/// What a connection that negotiated permessage-deflate uses.
struct MessageDeflate: Sendable {
    let options: MessageDeflateOptions
    let streams: LoopDeflate
}
