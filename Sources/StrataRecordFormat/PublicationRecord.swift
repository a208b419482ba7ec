import StrataCompression
import StrataCore

/// The stored form of a publication, shared by the LMDB and Redis stores (`storage/README.md`):
/// flags, time, payload (zstd when that makes it smaller), info, tags. The offset is not part of
/// the record: LMDB keeps it in the key, Redis in the stream entry ID.
package enum PublicationRecord {
    static let compressedFlag: UInt8 = 1
    /// The payload is not JSON (`Publication.isJSON` false). Records written before this flag
    /// existed have it clear: they came from JSON `data` or were written raw into JSON frames.
    static let notJSONFlag: UInt8 = 2

    package static func encode(_ p: Publication, compressor: ZstdCompressor?, minSize: Int) -> [UInt8] {
        var w = ByteWriter()
        var flags: UInt8 = 0
        var payload = p.data
        if let compressor, minSize > 0, p.data.count >= minSize, let packed = try? compressor.compress(p.data),
            packed.count < p.data.count
        {
            flags |= compressedFlag
            payload = packed
        }
        if !p.isJSON { flags |= notJSONFlag }
        w.u8(flags)
        w.i64(p.time)
        if flags & compressedFlag != 0 { w.u32(UInt32(p.data.count)) }
        w.blob(payload)
        if let info = p.info {
            w.u8(1)
            ClientInfoRecord.write(info, to: &w)
        } else {
            w.u8(0)
        }
        w.u32(UInt32(p.tags.count))
        for (k, v) in p.tags.sorted(by: { $0.key < $1.key }) {
            w.string(k)
            w.string(v)
        }
        return w.bytes
    }

    package static func decode(_ bytes: [UInt8], offset: UInt64, decompressors: ZstdDecompressorPool) throws -> Publication {
        var r = ByteReader(bytes)
        let flags = try r.u8()
        let time = try r.i64()
        var data: [UInt8]
        if flags & compressedFlag != 0 {
            let size = Int(try r.u32())
            let packed = try r.blob()
            data = try decompressors.withDecompressor { try $0.decompress(packed, expectedSize: size) }
        } else {
            data = try r.blob()
        }
        var info: ClientInfo?
        if try r.u8() == 1 { info = try ClientInfoRecord.read(from: &r) }
        var tags: [String: String] = [:]
        let n = try r.u32()
        guard n < 100_000 else { throw RecordCorrupt(what: "tag count") }
        for _ in 0..<n { tags[try r.string()] = try r.string() }
        return Publication(offset: offset, data: data, info: info, tags: tags, time: time, isJSON: flags & notJSONFlag == 0)
    }
}

/// A `ClientInfo` in records and in Redis join/leave messages.
package enum ClientInfoRecord {
    package static func write(_ info: ClientInfo, to w: inout ByteWriter) {
        w.string(info.user)
        w.string(info.client)
        w.optionalBlob(info.connInfo)
        w.optionalBlob(info.chanInfo)
    }

    package static func read(from r: inout ByteReader) throws -> ClientInfo {
        ClientInfo(user: try r.string(), client: try r.string(), connInfo: try r.optionalBlob(), chanInfo: try r.optionalBlob())
    }

    package static func encode(_ info: ClientInfo) -> [UInt8] {
        var w = ByteWriter()
        write(info, to: &w)
        return w.bytes
    }

    package static func decode(_ bytes: [UInt8]) throws -> ClientInfo {
        var r = ByteReader(bytes)
        return try read(from: &r)
    }
}
