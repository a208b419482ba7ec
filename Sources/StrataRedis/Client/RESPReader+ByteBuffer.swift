import CHiredis
import NIOCore

// Kept apart from RESPReader.swift so the reader itself needs no NIO: the RESP fuzz harness
// builds it alone (Tests/Fuzz/run.sh).
extension RESPReader {
    /// Appends a buffer's readable bytes (hiredis copies them).
    func feed(_ buffer: ByteBuffer) throws(RedisError) {
        if buffer.withUnsafeReadableBytes(append) != REDIS_OK { throw failure() }
    }
}
