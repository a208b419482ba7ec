// libFuzzer entry point for encode → apply (built by run.sh together with Sources/StrataDelta).
// Input: a control byte (bit 0: encoder mode; bit 1: derive the target from the source), a split
// byte choosing how much of the rest is source, then the bytes. With bit 1 set the target is the
// source with the remaining bytes spliced into its middle, so long copies get exercised too;
// otherwise the target is the remaining bytes as they are. The round trip must return the target
// exactly and the delta must respect the size bound the encoder's buffer relies on.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    let control = input[0]
    let rest = input[2...]
    let sourceLength = rest.count * Int(input[1]) / 255
    let source = Array(rest.prefix(sourceLength))
    let extra = Array(rest.dropFirst(sourceLength))
    let target: [UInt8]
    if control & 2 != 0 {
        let cut = source.count / 2
        target = Array(source[..<cut]) + extra + Array(source[cut...])
    } else {
        target = extra
    }
    let mode: DeltaMode = control & 1 == 0 ? .goPort : .fossilC
    let delta = DeltaEncoder.create(source: source, target: target, mode: mode)
    guard delta.count <= target.count + 21 else { fatalError("delta larger than the proven bound") }
    do {
        let output = try DeltaApplier.apply(source: source, delta: delta)
        guard output == target else { fatalError("round trip changed the target") }
    } catch {
        fatalError("encoder output rejected: \(error)")
    }
    return 0
}
