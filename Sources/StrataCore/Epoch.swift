/// Stream epochs: 8 random ASCII letters, as Centrifugo v6.9 generates them. Opaque to clients.
public enum Epoch {
    private static let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)

    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        var bytes = [UInt8]()
        bytes.reserveCapacity(8)
        for _ in 0..<8 { bytes.append(letters[Int(rng.next(upperBound: UInt64(letters.count)))]) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
