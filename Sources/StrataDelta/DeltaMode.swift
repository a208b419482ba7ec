/// Which reference encoder `DeltaEncoder` reproduces byte for byte.
///
/// Both modes produce valid deltas that every fossil decoder accepts; they only pick different
/// (equally correct) copy commands on some inputs. The choice matters for byte-identity tests and
/// for matching what other nodes emit, never for correctness.
package enum DeltaMode: Sendable, Hashable, CaseIterable {
    /// The Go port Centrifugo uses (github.com/shadowspore/fossil-delta): bytes enter the rolling
    /// hash unsigned and at most 249 collision-chain candidates are tried per window position
    /// (the port decrements its limit before testing it). The default, because it is what
    /// Centrifugo nodes emit.
    case goPort
    /// fossil's `delta.c` built for x86-64, where C `char` is signed: bytes >= 0x80 enter the
    /// rolling hash as -128...-1, and 250 candidates are tried per position.
    case fossilC

    /// Candidates walked per hash-bucket chain before giving up on a window position.
    var chainLimit: Int {
        switch self {
        case .goPort: 249
        case .fossilC: 250
        }
    }
}
