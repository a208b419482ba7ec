/// Applies fossil deltas, validating everything: a delta comes from the network and may be
/// truncated, corrupted, meant for another base, or hostile.
package enum DeltaApplier {
    /// Default bound on the declared target size: 64 MiB, well above any publication a
    /// Centrifugo-style server accepts, and small enough that a forged header cannot make us
    /// allocate gigabytes.
    package static let defaultMaxOutputSize = 64 << 20

    /// The target that `delta` describes relative to `source`.
    ///
    /// Rejects (with the reason in the error) a missing or unterminated header, integers outside
    /// the alphabet or 32 bits, copies outside `source`, inserts longer than the rest of the delta,
    /// output beyond or short of the declared size, a declared size above `maxOutputSize`, unknown
    /// operators, a missing `;` trailer, bytes after it, and a checksum that does not match.
    package static func apply(
        source: [UInt8], delta: [UInt8], maxOutputSize: Int = defaultMaxOutputSize
    ) throws(DeltaError) -> [UInt8] {
        let header = delta.withUnsafeBufferPointer { delta in
            Result { () throws(DeltaError) in try readHeader(delta, maxOutputSize: maxOutputSize) }
        }
        let (declaredSize, bodyStart) = try header.get()

        var failure: DeltaError?
        // The output is allocated once at the declared (already bounded) size and filled in place;
        // the commands are checked never to write past it.
        let output = [UInt8](unsafeUninitializedCapacity: declaredSize) { output, initialized in
            source.withUnsafeBufferPointer { source in
                delta.withUnsafeBufferPointer { delta in
                    do throws(DeltaError) {
                        try applyCommands(
                            DeltaCursor(delta, position: bodyStart), source: source,
                            into: UnsafeMutableBufferPointer(rebasing: output[..<declaredSize]), written: &initialized)
                    } catch {
                        failure = error
                    }
                }
            }
        }
        if let failure { throw failure }
        return output
    }

    /// Reads `INT "\n"` and bounds the declared size; returns it and where the commands start.
    private static func readHeader(
        _ delta: UnsafeBufferPointer<UInt8>, maxOutputSize: Int
    ) throws(DeltaError) -> (size: Int, bodyStart: Int) {
        var cursor = DeltaCursor(delta)
        let size = try cursor.readInt()
        guard cursor.readByte() == UInt8(ascii: "\n") else {
            throw DeltaError(.headerNotTerminated, at: cursor.position)
        }
        guard UInt64(size) <= UInt64(max(maxOutputSize, 0)) else { throw DeltaError(.targetTooLarge, at: 0) }
        return (Int(size), cursor.position)
    }

    /// Runs the commands from `cursor` into `output` (exactly the declared size), counting the
    /// bytes written in `written` so that the array is valid even when this throws.
    private static func applyCommands(
        _ cursor: DeltaCursor, source: UnsafeBufferPointer<UInt8>,
        into output: UnsafeMutableBufferPointer<UInt8>, written: inout Int
    ) throws(DeltaError) {
        var cursor = cursor
        let declaredSize = output.count
        while !cursor.isAtEnd {
            let commandStart = cursor.position
            let count = Int(try cursor.readInt())
            let operatorPosition = cursor.position
            switch cursor.readByte() {
            case UInt8(ascii: "@"):
                let offset = Int(try cursor.readInt())
                guard cursor.readByte() == UInt8(ascii: ",") else {
                    throw DeltaError(.copyNotTerminated, at: cursor.position - 1)
                }
                // Int is 64 bits wide and both values are below 2^32: the sum cannot overflow.
                guard offset + count <= source.count else { throw DeltaError(.copyOutOfRange, at: commandStart) }
                guard count <= declaredSize - written else { throw DeltaError(.outputOverflow, at: commandStart) }
                if count > 0, let from = source.baseAddress, let to = output.baseAddress {
                    (to + written).update(from: from + offset, count: count)
                    written += count
                }
            case UInt8(ascii: ":"):
                guard count <= cursor.remaining else { throw DeltaError(.insertPastEnd, at: commandStart) }
                guard count <= declaredSize - written else { throw DeltaError(.outputOverflow, at: commandStart) }
                let literal = cursor.take(count)
                if count > 0, let from = literal.baseAddress, let to = output.baseAddress {
                    (to + written).update(from: from, count: count)
                    written += count
                }
            case UInt8(ascii: ";"):
                guard written == declaredSize else { throw DeltaError(.sizeMismatch, at: commandStart) }
                let actual = DeltaChecksum.checksum(UnsafeBufferPointer(output))
                guard UInt32(truncatingIfNeeded: count) == actual else {
                    throw DeltaError(.checksumMismatch, at: commandStart)
                }
                guard cursor.isAtEnd else { throw DeltaError(.trailingBytes, at: cursor.position) }
                return
            case nil:
                throw DeltaError(.unterminated, at: operatorPosition)
            default:
                throw DeltaError(.unknownOperator, at: operatorPosition)
            }
        }
        throw DeltaError(.unterminated, at: cursor.position)
    }
}
