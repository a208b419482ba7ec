import CZstd
import Foundation

/// Writes a zstd-compressed file incrementally (exports of any size, in constant memory).
package final class ZstdFileWriter {
    private let ctx: OpaquePointer
    private let handle: FileHandle
    private var pending: [UInt8] = []
    private var out: [UInt8]

    package init(path: String, level: Int32 = 3) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw ZstdError(message: "cannot create \(path)")
        }
        guard let h = FileHandle(forWritingAtPath: path) else { throw ZstdError(message: "cannot open \(path)") }
        guard let ctx = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx: out of memory") }
        ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, level)
        self.ctx = ctx
        handle = h
        out = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
    }

    deinit { ZSTD_freeCCtx(ctx) }

    package func write(_ bytes: [UInt8]) throws {
        pending.append(contentsOf: bytes)
        if pending.count >= 1 << 20 { try flush(end: false) }
    }

    /// Compresses what is buffered; with `end` the frame is finished.
    private func flush(end: Bool) throws {
        try pending.withUnsafeBytes { src in
            var input = ZSTD_inBuffer(src: src.baseAddress, size: src.count, pos: 0)
            while true {
                let (remaining, produced) = try out.withUnsafeMutableBytes { dst -> (Int, Int) in
                    var output = ZSTD_outBuffer(dst: dst.baseAddress, size: dst.count, pos: 0)
                    let r = ZSTD_compressStream2(ctx, &output, &input, end ? ZSTD_e_end : ZSTD_e_continue)
                    if ZSTD_isError(r) != 0 { throw ZstdError(message: String(cString: ZSTD_getErrorName(r))) }
                    return (r, output.pos)
                }
                if produced > 0 { try handle.write(contentsOf: out[0..<produced]) }
                if end ? remaining == 0 : input.pos == input.size { break }
            }
        }
        pending.removeAll(keepingCapacity: true)
    }

    package func finish() throws {
        try flush(end: true)
        try handle.close()
    }
}

/// Reads a zstd-compressed file incrementally.
package final class ZstdFileReader {
    private let ctx: OpaquePointer
    private let handle: FileHandle
    private var input: [UInt8] = []
    private var inputPos = 0
    private var decoded: [UInt8] = []
    private var decodedPos = 0
    private var eof = false
    /// Compressed bytes consumed so far, against `fileSize` (a progress estimate).
    package private(set) var compressedBytesRead = 0
    package let fileSize: Int
    /// How much of the file has been read, 0…1.
    package var shareRead: Double { fileSize > 0 ? min(1, Double(compressedBytesRead) / Double(fileSize)) : 0 }

    package init(path: String) throws {
        guard let h = FileHandle(forReadingAtPath: path) else { throw ZstdError(message: "cannot open \(path)") }
        guard let ctx = ZSTD_createDCtx() else { fatalError("ZSTD_createDCtx: out of memory") }
        self.ctx = ctx
        handle = h
        fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    deinit {
        ZSTD_freeDCtx(ctx)
        try? handle.close()
    }

    /// Exactly `count` bytes, or nil at a clean end of file; a truncated file is an error.
    package func read(_ count: Int) throws -> [UInt8]? {
        while decoded.count - decodedPos < count {
            if try !fill() {
                if decoded.count == decodedPos { return nil }
                throw ZstdError(message: "truncated input")
            }
        }
        defer { decodedPos += count }
        return Array(decoded[decodedPos..<decodedPos + count])
    }

    private func fill() throws -> Bool {
        if decodedPos > 0 {
            decoded.removeSubrange(0..<decodedPos)
            decodedPos = 0
        }
        if inputPos == input.count {
            if eof { return false }
            let chunk = try handle.read(upToCount: ZSTD_DStreamInSize()) ?? Data()
            if chunk.isEmpty {
                eof = true
                return false
            }
            input = Array(chunk)
            inputPos = 0
            compressedBytesRead += chunk.count
        }
        var out = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
        let produced = try input.withUnsafeBytes { src -> Int in
            var inBuf = ZSTD_inBuffer(src: src.baseAddress, size: src.count, pos: inputPos)
            return try out.withUnsafeMutableBytes { dst -> Int in
                var outBuf = ZSTD_outBuffer(dst: dst.baseAddress, size: dst.count, pos: 0)
                let r = ZSTD_decompressStream(ctx, &outBuf, &inBuf)
                if ZSTD_isError(r) != 0 { throw ZstdError(message: String(cString: ZSTD_getErrorName(r))) }
                inputPos = inBuf.pos
                return outBuf.pos
            }
        }
        decoded.append(contentsOf: out[0..<produced])
        return true
    }
}
