// libFuzzer entry point for the stored publication record (built by run.sh with
// Sources/StrataRecordFormat, StrataCompression and StrataCore, not by SwiftPM): what LMDB and
// Redis hand back is read with `PublicationRecord.decode`, so a corrupted value must be an
// error, never a trap or a huge allocation. A record that decodes is encoded again (without
// and with zstd) and must decode to the same publication. ASan and LSan reports are findings.
import StrataCompression

let decompressors = ZstdDecompressorPool()
let compressor: ZstdCompressor? = ZstdCompressor(level: 3)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? ClientInfoRecord.decode(bytes)
    guard let publication = try? PublicationRecord.decode(bytes, offset: 7, decompressors: decompressors) else { return 0 }
    for packer in [nil, compressor] {
        let again = PublicationRecord.encode(publication, compressor: packer, minSize: 1)
        guard let back = try? PublicationRecord.decode(again, offset: 7, decompressors: decompressors) else {
            preconditionFailure("a re-encoded record does not decode")
        }
        precondition(back == publication, "a record changed through encode and decode")
    }
    return 0
}
