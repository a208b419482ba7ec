import CHiredis

/// Incremental RESP2 parser: hiredis's `redisReader` behind a Swift interface.
///
/// Feed bytes as they arrive, then call `next()` until it returns nil; a reply split across
/// any number of feeds comes out once it is complete. One reader per connection. Not Sendable:
/// the reader belongs to the channel handler and lives on its event loop.
///
/// After a protocol error the reader stays failed (hiredis keeps its error flag), so the
/// connection must be closed: the byte stream can no longer be split into replies.
final class RESPReader {
    private let reader: UnsafeMutablePointer<redisReader>

    /// The largest array reply read (16 Mi elements, `STRATA_RESP_MAX_ARRAY_ELEMENTS`).
    ///
    /// hiredis 0.14 allocates an array reply's table of elements as soon as it reads the header
    /// (`*<count>`), before any element has arrived, so a peer posing as Redis (or a corrupted
    /// stream) could make it allocate up to 16 GiB with one line (found by the RESP fuzz harness,
    /// docs/reliability.md). A larger header is refused instead: hiredis reports it as its
    /// "Out of memory" error and the connection is closed. No reply Strata asks for comes near
    /// it (a history page or a presence table of millions of entries would).
    static let maxArrayElements = Int(STRATA_RESP_MAX_ARRAY_ELEMENTS)

    init() throws(RedisError) {
        guard let functions = BoundedReplyFunctions.table, let reader = redisReaderCreateWithFunctions(functions) else {
            throw RedisError(.protocolError, "hiredis could not allocate a reader")
        }
        self.reader = reader
    }

    deinit {
        redisReaderFree(reader)
    }

    /// Appends bytes to the reader's buffer (hiredis copies them).
    func feed(_ bytes: UnsafeRawBufferPointer) throws(RedisError) {
        if append(bytes) != REDIS_OK { throw failure() }
    }

    func feed(_ bytes: [UInt8]) throws(RedisError) {
        if bytes.withUnsafeBytes(append) != REDIS_OK { throw failure() }
    }

    func append(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return REDIS_OK }
        return redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count)
    }

    /// The next complete reply, or nil when more bytes are needed.
    func next() throws(RedisError) -> RESPValue? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw failure() }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return Self.value(of: UnsafePointer(raw.assumingMemoryBound(to: redisReply.self)))
    }

    func failure() -> RedisError {
        let text = withUnsafePointer(to: &reader.pointee.errstr) {
            String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
        }
        if text == "Out of memory" {
            // What hiredis says when the shim refuses an array header (or a real allocation fails).
            return RedisError(.protocolError, "an array reply of more than \(Self.maxArrayElements) elements, or out of memory")
        }
        return RedisError(.protocolError, text.isEmpty ? "malformed RESP" : text)
    }

    /// Copies a hiredis reply tree into Swift values (the tree is freed right after).
    private static func value(of reply: UnsafePointer<redisReply>) -> RESPValue {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            return .bulkString(bytes(node))
        case REDIS_REPLY_STATUS:
            return .simpleString(String(decoding: bytes(node), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(node), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(node.integer))
        case REDIS_REPLY_ARRAY:
            // hiredis leaves `element` NULL for an empty array.
            guard node.elements > 0, let elements = node.element else { return .array([]) }
            var values: [RESPValue] = []
            values.reserveCapacity(node.elements)
            for index in 0..<node.elements {
                values.append(elements[index].map { value(of: UnsafePointer($0)) } ?? .null)
            }
            return .array(values)
        default:
            return .null
        }
    }

    private static func bytes(_ node: redisReply) -> [UInt8] {
        guard let str = node.str, node.len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: str, count: node.len))
    }
}

/// hiredis's own reply functions (private to it, so taken from a first reader), with `createArray`
/// refusing counts above `RESPReader.maxArrayElements`. Made once; never freed.
private enum BoundedReplyFunctions {
    typealias CreateArray = @convention(c) (UnsafePointer<redisReadTask>?, Int32) -> UnsafeMutableRawPointer?

    /// Read-only after its one-time initialisation (Swift runs a global's initialiser once, safely).
    nonisolated(unsafe) static let defaultCreateArray: CreateArray? = defaults?.createArray

    static let defaults: redisReplyObjectFunctions? = {
        guard let reader = redisReaderCreate() else { return nil }
        defer { redisReaderFree(reader) }
        return reader.pointee.fn?.pointee
    }()

    nonisolated(unsafe) static let table: UnsafeMutablePointer<redisReplyObjectFunctions>? = {
        guard var functions = defaults, defaultCreateArray != nil else { return nil }
        functions.createArray = { task, elements in
            guard elements <= STRATA_RESP_MAX_ARRAY_ELEMENTS, let create = BoundedReplyFunctions.defaultCreateArray else { return nil }
            return create(task, elements)
        }
        let table = UnsafeMutablePointer<redisReplyObjectFunctions>.allocate(capacity: 1)
        table.initialize(to: functions)
        return table
    }()
}
