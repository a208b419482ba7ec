// libFuzzer entry point for the RESP reader path (built by run.sh with RESPReader, RESPValue,
// RedisError and RedisPushMessage from Sources/StrataRedis, linked with the system's hiredis; not
// by SwiftPM). What a Redis server (or anything posing as one) sends is read with hiredis's
// reader behind `RESPReader`: replies or an error, never a trap. The first byte sets a chunk
// size: the same bytes fed whole and fed in chunks must give the same replies and the same
// failure (a reply split across reads is the normal case on a socket). A PUB/SUB message's
// payload is then parsed as the nodes' push message. ASan and LSan reports are findings too;
// hiredis itself is not instrumented, so only its allocations are watched.

/// Every reply the bytes hold, fed in chunks of `chunk` bytes (0: all at once), and whether
/// the reader failed.
func replies(_ bytes: ArraySlice<UInt8>, chunk: Int) -> (values: [RESPValue], failed: Bool) {
    guard let reader = try? RESPReader() else { preconditionFailure("no reader") }
    var values: [RESPValue] = []
    var rest = bytes
    repeat {
        let piece = chunk == 0 ? rest : rest.prefix(chunk)
        rest = rest.dropFirst(piece.count)
        do {
            try reader.feed(Array(piece))
            while let value = try reader.next() { values.append(value) }
        } catch {
            return (values, true)
        }
    } while !rest.isEmpty
    return (values, false)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let whole = replies(bytes[1...], chunk: 0)
    let chunked = replies(bytes[1...], chunk: Int(bytes[0] % 16) + 1)
    precondition(whole.values == chunked.values && whole.failed == chunked.failed, "chunking changed what was read")
    for value in whole.values {
        // A PUB/SUB message: ["message", channel, payload] (or pmessage with the pattern first).
        guard let elements = value.elements, elements.count >= 3, let payload = elements.last?.bytes else { continue }
        _ = RedisPushMessage.parse(payload)
    }
    return 0
}
