import CZlib

/// Raw DEFLATE (RFC 1951) for WebSocket permessage-deflate (RFC 7692) without context takeover:
/// each message is compressed on its own, ends with a sync flush whose `00 00 ff ff` tail is cut
/// off, and is inflated after that tail is put back. Through zlib.
///
/// Not thread-safe, and a zlib stream is large (~260 KiB to deflate at the default memory
/// level): one per event loop, reset for every message.
package final class RawDeflater {
    private let stream: UnsafeMutablePointer<z_stream>

    /// `level`: Go's `compress/flate` levels, −2…9 (0 stores, −1 is zlib's default, −2 is
    /// Huffman coding only); anything else is 1, as Centrifugo keeps 1 for an invalid level.
    package init(level: Int) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let valid = (-2...9).contains(level) ? level : 1
        let zlevel = valid == -2 ? Int32(1) : Int32(valid)
        let strategy = valid == -2 ? Z_HUFFMAN_ONLY : Z_DEFAULT_STRATEGY
        // windowBits −15: raw deflate, no zlib header. It fails only without memory.
        let status = deflateInit2_(stream, zlevel, Z_DEFLATED, -15, 8, strategy, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "deflateInit2: \(status)")
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// One message's compressed payload.
    package func compress(_ input: [UInt8]) -> [UInt8] {
        input.withUnsafeBytes { compress($0) }
    }

    /// The same, from bytes in place (a frame's payload in a `ByteBuffer`, not copied out).
    package func compress(_ src: UnsafeRawBufferPointer) -> [UInt8] {
        deflateReset(stream)
        var out = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(src.count))) + 16)
        var produced = 0
        // zlib reads the input through a mutable pointer type but does not write it.
        stream.pointee.next_in = UnsafeMutablePointer(mutating: src.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = uInt(src.count)
        while true {
            if produced == out.count { out += [UInt8](repeating: 0, count: out.count) }
            let room = out.count - produced
            out.withUnsafeMutableBufferPointer { dst in
                stream.pointee.next_out = dst.baseAddress.map { $0 + produced }
                stream.pointee.avail_out = uInt(room)
                _ = deflate(stream, Z_SYNC_FLUSH)
            }
            produced += room - Int(stream.pointee.avail_out)
            // Done when the input is used and zlib did not fill the room it had.
            if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { break }
        }
        out.removeSubrange(produced...)
        if out.count >= 4 && out.suffix(4).elementsEqual([0, 0, 0xFF, 0xFF]) { out.removeLast(4) }
        return out
    }
}

/// The other direction: a client's compressed message, bounded.
package final class RawInflater {
    /// A message inflating past its limit, or bytes that are not DEFLATE.
    package enum Failure: Error, Sendable {
        case tooLarge
        case corrupt
    }

    private let stream: UnsafeMutablePointer<z_stream>

    package init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = inflateInit2_(stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "inflateInit2: \(status)")
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    private static let tail: [UInt8] = [0, 0, 0xFF, 0xFF]

    /// The message, at most `limit` bytes.
    package func decompress(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        inflateReset(stream)
        let data = input + Self.tail
        var out = [UInt8](repeating: 0, count: min(max(256, data.count * 4), limit + 1))
        var produced = 0
        var failure: Failure?
        data.withUnsafeBufferPointer { src in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
            stream.pointee.avail_in = uInt(src.count)
            while true {
                if produced == out.count {
                    guard out.count <= limit else { failure = .tooLarge; return }
                    out += [UInt8](repeating: 0, count: min(out.count, limit + 1 - out.count))
                }
                let room = out.count - produced
                var status: Int32 = Z_OK
                out.withUnsafeMutableBufferPointer { dst in
                    stream.pointee.next_out = dst.baseAddress.map { $0 + produced }
                    stream.pointee.avail_out = uInt(room)
                    status = inflate(stream, Z_SYNC_FLUSH)
                }
                produced += room - Int(stream.pointee.avail_out)
                if produced > limit { failure = .tooLarge; return }
                if status == Z_STREAM_END { return }
                // Z_BUF_ERROR: no progress possible, which once the input is used means done.
                guard status == Z_OK || status == Z_BUF_ERROR else { failure = .corrupt; return }
                if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
                if status == Z_BUF_ERROR && stream.pointee.avail_out > 0 { failure = .corrupt; return }
            }
        }
        if let failure { throw failure }
        out.removeSubrange(produced...)
        return out
    }
}
