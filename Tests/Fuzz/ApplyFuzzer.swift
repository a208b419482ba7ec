// libFuzzer entry point for `DeltaApplier` (built by run.sh together with Sources/StrataDelta,
// not by SwiftPM). Input: one length byte L, then L bytes of source (fewer if the input is
// shorter), then the delta. Any input must be rejected with a DeltaError or decode to exactly the
// declared size; a trap, an out-of-bounds access (ASan) or a leak (LSan) is a finding.

/// A small output bound keeps each execution cheap: the limit logic is the same at any size.
private let fuzzMaxOutput = 1 << 20

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    let sourceLength = min(Int(input[0]), size - 1)
    let source = Array(input[1..<1 + sourceLength])
    let delta = Array(input[(1 + sourceLength)...])
    do {
        let output = try DeltaApplier.apply(source: source, delta: delta, maxOutputSize: fuzzMaxOutput)
        // Accepted: the trailer matched, so re-checking the checksum must agree, and a valid
        // delta's header is at least one digit and a newline.
        precondition(output.count <= fuzzMaxOutput, "output above the bound")
        precondition(delta.count >= 2 + (output.isEmpty ? 0 : 1), "accepted an impossibly short delta")
    } catch {
        precondition(error.offset >= 0 && error.offset <= delta.count, "error position outside the delta")
    }
    return 0
}
