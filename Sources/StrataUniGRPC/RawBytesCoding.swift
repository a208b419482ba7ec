import GRPCCore

/// Messages passed through as their encoded bytes: the session's codec makes the `Push` bytes
/// once per publication (shared by every subscriber of this format), and the connect request is
/// decoded by the same codec, so nothing is encoded or decoded twice.
struct RawBytesSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
}

struct RawBytesDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}
