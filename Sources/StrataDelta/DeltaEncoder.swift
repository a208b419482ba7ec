/// Creates fossil deltas: `target` expressed as copies from `source` plus literal inserts.
///
/// Follows fossil's `delta_create` step for step (docs/delta.md), so its output is
/// byte-identical to the reference encoder chosen by `DeltaMode`; only the inner loops are faster.
package enum DeltaEncoder {
    /// The delta that turns `source` into `target`. Inputs must be below 4 GiB (the format stores
    /// sizes and offsets as 32-bit integers); publications are far smaller.
    package static func create(source: [UInt8], target: [UInt8], mode: DeltaMode = .goPort) -> [UInt8] {
        precondition(
            UInt64(source.count) <= UInt64(UInt32.max) && UInt64(target.count) <= UInt64(UInt32.max),
            "fossil deltas address at most 4 GiB")
        // Every emitted copy costs at most as many delta bytes as it saves (the encoder only takes
        // copies with cnt >= their encoded size, insert header included), so the delta is at most
        // the target plus three integers of ≤ 6 digits with their terminators: header, one
        // unpaired insert header and the checksum trailer.
        let capacity = target.count + 32
        let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { scratch.deallocate() }
        var writer = DeltaWriter(start: scratch, capacity: capacity)
        source.withUnsafeBufferPointer { source in
            target.withUnsafeBufferPointer { target in
                switch mode {
                case .goPort:
                    encode(source: source, target: target, hashing: UnsignedHashBytes.self, chainLimit: mode.chainLimit, into: &writer)
                case .fossilC:
                    encode(source: source, target: target, hashing: SignedHashBytes.self, chainLimit: mode.chainLimit, into: &writer)
                }
            }
        }
        // Copied out at its exact size: a buffer sized for the worst case would keep up to a whole
        // target's worth of capacity alive for a delta that is usually tiny.
        return Array(writer.written)
    }

    private static func encode<Bytes: HashByteMapping>(
        source: UnsafeBufferPointer<UInt8>, target: UnsafeBufferPointer<UInt8>,
        hashing: Bytes.Type, chainLimit: Int, into writer: inout DeltaWriter
    ) {
        let window = RollingHash<Bytes>.window
        writer.putInt(target.count)
        writer.putByte(UInt8(ascii: "\n"))

        // A source no longer than one window has nothing to index: one literal, even for an empty
        // target (which gives `0:`; the reference does the same).
        guard source.count > window else {
            writer.putInsert(target)
            finish(target, into: &writer)
            return
        }
        guard let src = source.baseAddress, let out = target.baseAddress, target.count > window else {
            // Main loop never runs (base + 16 < len(target) is false): the whole target, if any, is
            // the final literal.
            if target.count > 0 { writer.putInsert(target) }
            finish(target, into: &writer)
            return
        }

        let index = SourceIndex(source: source, hashing: Bytes.self)
        let lenSrc = source.count
        let lenOut = target.count
        var base = 0  // everything before target[base] is already in the delta
        scan: while base + window < lenOut {
            var hash = RollingHash<Bytes>(out + base)
            var i = 0  // the window under test starts at target[base + i]
            while true {
                var bestCount = 0
                var bestOffset = 0
                var bestLiteral = 0
                var block = index.firstBlock(forHash: hash.value)
                var budget = chainLimit
                while block >= 0 && budget > 0 {
                    budget -= 1
                    let blockStart = block * window
                    let y = base + i
                    // Extend forwards from the block start, then backwards (never to source byte
                    // 0 and never before target[base]), exactly as delta.c does.
                    let forward = commonPrefixLength(
                        src + blockStart, out + y, limit: min(lenSrc - blockStart, lenOut - y))
                    var back = 1
                    while back < blockStart && back <= i && src[blockStart - back] == out[y - back] {
                        back += 1
                    }
                    back -= 1
                    let matched = forward + back
                    if matched > bestCount {
                        let literal = i - back
                        let offset = blockStart - back
                        let cost = DeltaBase64.digitCount(literal) + DeltaBase64.digitCount(matched)
                            + DeltaBase64.digitCount(offset) + 3
                        // Only copies no longer than the text they replace; first longest wins.
                        if matched >= cost {
                            bestCount = matched
                            bestOffset = offset
                            bestLiteral = literal
                        }
                    }
                    block = index.nextBlock(after: block)
                }

                if bestCount > 0 {
                    if bestLiteral > 0 {
                        writer.putInsert(UnsafeBufferPointer(start: out + base, count: bestLiteral))
                        base += bestLiteral
                    }
                    writer.putCopy(count: bestCount, offset: bestOffset)
                    base += bestCount
                    continue scan
                }
                if base + i + window >= lenOut {
                    // No match before the end: the rest is one literal.
                    writer.putInsert(UnsafeBufferPointer(start: out + base, count: lenOut - base))
                    base = lenOut
                    continue scan
                }
                hash.slide(removing: out[base + i], adding: out[base + i + window])
                i += 1
            }
        }
        if base < lenOut {
            writer.putInsert(UnsafeBufferPointer(start: out + base, count: lenOut - base))
        }
        finish(target, into: &writer)
    }

    /// The checksum trailer.
    private static func finish(_ target: UnsafeBufferPointer<UInt8>, into writer: inout DeltaWriter) {
        writer.putInt(DeltaChecksum.checksum(target))
        writer.putByte(UInt8(ascii: ";"))
    }
}
