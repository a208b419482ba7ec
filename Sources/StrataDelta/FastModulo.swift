/// `x % divisor` for 32-bit values by two multiplications instead of a division (Lemire, Kaser,
/// Kurz, "Faster Remainder by Direct Computation", 2019; exact for every 32-bit `x` and divisor).
/// The encoder reduces a hash to a bucket at every target position, where a hardware division
/// would be the single most expensive instruction.
struct FastModulo {
    private let divisor: UInt64
    private let magic: UInt64

    init(divisor: UInt32) {
        precondition(divisor > 0, "modulo by zero")
        self.divisor = UInt64(divisor)
        // ceil(2^64 / divisor); wraps to 0 for divisor 1, which then correctly yields 0.
        magic = UInt64.max / UInt64(divisor) &+ 1
    }

    @inline(__always)
    func reduce(_ x: UInt32) -> UInt32 {
        let fraction = magic &* UInt64(x)
        return UInt32(truncatingIfNeeded: fraction.multipliedFullWidth(by: divisor).high)
    }
}
