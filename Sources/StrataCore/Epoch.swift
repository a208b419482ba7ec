/// Stream epochs: 8 random ASCII letters, as Centrifugo v6.9 generates them. Opaque to clients.
public enum Epoch {
    private static let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)

    /// One 64-bit draw gives all 8 letters (52^8 < 2^46, so each base-52 digit is uniform up to a
    /// bias below 2^-18): callers that pass a candidate epoch with every publish (the Redis store)
    /// pay one random draw, not eight.
    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        var value = rng.next() as UInt64
        var bytes = [UInt8]()
        bytes.reserveCapacity(8)
        for _ in 0..<8 {
            bytes.append(letters[Int(value % UInt64(letters.count))])
            value /= UInt64(letters.count)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
