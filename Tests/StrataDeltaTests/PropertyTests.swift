import StrataTesting
import Testing
@testable import StrataDelta

/// Seeded random inputs: every run replays the same cases, and a failure names its seed.
@Suite("properties")
struct PropertyTests {
    /// A source of one of several flavours (random bytes, small-alphabet text, runs that make long
    /// collision chains) and a target derived from it by random edits.
    static func pair(seed: UInt64) -> (source: [UInt8], target: [UInt8]) {
        var rng = SplitMix(state: seed)
        let length = [0, 5, 16, 17, 40, 200, 1000, 6000][Int.random(in: 0..<8, using: &rng)]
        let flavour = Int.random(in: 0..<3, using: &rng)
        func byte() -> UInt8 {
            switch flavour {
            case 0: UInt8.random(in: .min ... .max, using: &rng)
            case 1: UInt8(ascii: "a") + UInt8.random(in: 0..<4, using: &rng)
            default: Int.random(in: 0..<10, using: &rng) == 0 ? UInt8.random(in: 0x80 ... 0xFF, using: &rng) : 0
            }
        }
        let source = (0..<length).map { _ in byte() }
        var target = source
        for _ in 0..<Int.random(in: 0...6, using: &rng) {
            let at = Int.random(in: 0...target.count, using: &rng)
            let span = Int.random(in: 0...min(40, target.count - at), using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: target.removeSubrange(at..<at + span)
            case 1: target.insert(contentsOf: (0..<Int.random(in: 1...60, using: &rng)).map { _ in byte() }, at: at)
            case 2: target.replaceSubrange(at..<at + span, with: (0..<span).map { _ in byte() })
            default:
                // Move a block elsewhere (exercises out-of-order copies).
                let block = Array(target[at..<at + span])
                target.removeSubrange(at..<at + span)
                target.insert(contentsOf: block, at: Int.random(in: 0...target.count, using: &rng))
            }
        }
        if Int.random(in: 0..<10, using: &rng) == 0 { target = (0..<length).map { _ in byte() } }
        return (source, target)
    }

    @Test("encode then apply returns the target, in both modes", arguments: 0..<8)
    func roundTrip(batch: UInt64) throws {
        for seed in batch * 100..<(batch + 1) * 100 {
            let (source, target) = Self.pair(seed: seed)
            for mode in DeltaMode.allCases {
                let delta = DeltaEncoder.create(source: source, target: target, mode: mode)
                #expect(try DeltaApplier.apply(source: source, delta: delta) == target, "seed \(seed), \(mode)")
                #expect(delta.count <= target.count + 21, "seed \(seed)")
                #expect(declaredSize(of: delta) == target.count)
            }
        }
    }

    /// A damaged delta is either rejected or, if it happens to stay valid, yields exactly the size
    /// its (possibly damaged) header declares. Either way nothing traps or over-reads.
    @Test("flipped, truncated and spliced deltas never crash", arguments: 0..<4)
    func mutations(batch: UInt64) {
        var rng = SplitMix(state: 0xD1FF + batch)
        var accepted = 0
        var rejected = 0
        for seed in batch * 150..<(batch + 1) * 150 {
            let (source, target) = Self.pair(seed: seed)
            let delta = DeltaEncoder.create(source: source, target: target, mode: rng.next() & 1 == 0 ? .goPort : .fossilC)
            for _ in 0..<20 {
                var damaged = delta
                switch Int.random(in: 0..<4, using: &rng) {
                case 0:
                    let at = Int.random(in: 0..<damaged.count, using: &rng)
                    damaged[at] ^= UInt8.random(in: 1 ... .max, using: &rng)
                case 1:
                    damaged.removeLast(Int.random(in: 1...damaged.count, using: &rng))
                case 2:
                    let at = Int.random(in: 0...damaged.count, using: &rng)
                    let junk = "0123456789@:,;\n~_zZ".utf8.randomElement(using: &rng) ?? 0
                    damaged.insert(junk, at: at)
                default:
                    let at = Int.random(in: 0..<damaged.count, using: &rng)
                    damaged[at] = "0123456789@:,;\n~".utf8.randomElement(using: &rng) ?? 0
                }
                do {
                    let output = try DeltaApplier.apply(source: source, delta: damaged)
                    #expect(output.count == declaredSize(of: damaged), "seed \(seed)")
                    accepted += 1
                } catch {
                    rejected += 1
                }
            }
        }
        // Most damage must be caught (the checksum alone catches almost every silent change).
        #expect(rejected > accepted * 10)
    }

    @Test("a delta applied to the wrong base is caught by the checksum or a bounds check")
    func wrongBase() {
        var rng = SplitMix(state: 5)
        var caught = 0
        for seed in UInt64(1000)..<1100 {
            let (source, target) = Self.pair(seed: seed)
            guard source.count >= 200, source != target else { continue }
            let delta = DeltaEncoder.create(source: source, target: target)
            var other = source
            other[Int.random(in: 0..<other.count, using: &rng)] ^= 0x5A
            if let output = try? DeltaApplier.apply(source: other, delta: delta) {
                // Accepted only if the altered byte was never copied.
                #expect(output == target, "seed \(seed)")
            } else {
                caught += 1
            }
        }
        #expect(caught > 0)
    }
}
