import StrataCompression
import StrataCore
import StrataRecordFormat
import StrataTesting
import Testing

@Suite("PublicationRecord")
struct PublicationRecordTests {
    /// Random publications (payloads from empty to compressible kilobytes, binary or JSON, with
    /// and without info and tags) come back exactly, compressed or not.
    @Test("encode → decode is the identity", arguments: [1, 77, 2026] as [UInt64])
    func roundTrip(seed: UInt64) throws {
        var rng = SplitMix(state: seed)
        let compressor = ZstdCompressor()
        let decompressors = ZstdDecompressorPool()
        for _ in 0..<200 {
            let size = [0, 1, 17, 600, 5000].randomElement(using: &rng)!
            let repetitive = Bool.random(using: &rng)
            let data = (0..<size).map { i in repetitive ? UInt8(i % 7) : UInt8.random(in: 0...255, using: &rng) }
            var p = Publication(offset: 0, data: data, time: Int64.random(in: 0...Int64.max, using: &rng), isJSON: Bool.random(using: &rng))
            if Bool.random(using: &rng) {
                p.info = ClientInfo(
                    user: "u\(rng.next() % 100)", client: "c", connInfo: Bool.random(using: &rng) ? Array("{\"a\":1}".utf8) : nil,
                    chanInfo: Bool.random(using: &rng) ? [] : nil)
            }
            if Bool.random(using: &rng) { p.tags = ["k\(rng.next() % 10)": "v", "other": ""] }
            let offset = rng.next() % 1_000_000 + 1
            for minSize in [0, 16] {
                let record = PublicationRecord.encode(p, compressor: minSize > 0 ? compressor : nil, minSize: minSize)
                var expected = p
                expected.offset = offset
                #expect(try PublicationRecord.decode(record, offset: offset, decompressors: decompressors) == expected)
            }
        }
    }

    /// Records written before the not-JSON flag existed (flags 0 or 1) decode as JSON payloads.
    @Test func olderRecordsAreJSON() throws {
        let p = Publication(data: Array("{\"a\":1}".utf8), time: 5)
        let record = PublicationRecord.encode(p, compressor: nil, minSize: 0)
        #expect(record.first == 0, "a JSON payload writes the same flags as before")
        let binary = PublicationRecord.encode(Publication(data: [0xFF], isJSON: false), compressor: nil, minSize: 0)
        #expect(binary.first == 2)
        #expect(try PublicationRecord.decode(record, offset: 3, decompressors: ZstdDecompressorPool()).isJSON)
    }

    @Test func truncatedRecordsAreCorruptNotCrashes() {
        let record = PublicationRecord.encode(
            Publication(data: Array(repeating: 1, count: 40), info: ClientInfo(user: "u", client: "c"), tags: ["a": "b"]),
            compressor: nil, minSize: 0)
        for cut in 0..<record.count {
            #expect(throws: (any Error).self) { try PublicationRecord.decode(Array(record[..<cut]), offset: 1, decompressors: ZstdDecompressorPool()) }
        }
    }
}
