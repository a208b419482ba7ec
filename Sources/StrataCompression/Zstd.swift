import CZstd
import StrataCore

/// zstd failures (corrupt frames, sizes that do not match).
package struct ZstdError: Error, Hashable, Sendable, CustomStringConvertible {
    package let message: String
    package var description: String { "zstd: \(message)" }
}

/// A compression context reused across calls (zstd's advice: context creation costs more than a
/// small compression). Not thread-safe: one per thread, or borrow from a `ZstdPool`.
package final class ZstdCompressor {
    private let ctx: OpaquePointer
    package let level: Int32

    package init(level: Int32 = 3) {
        // ZSTD_createCCtx only fails when out of memory.
        guard let ctx = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx: out of memory") }
        self.ctx = ctx
        self.level = level
    }

    deinit { ZSTD_freeCCtx(ctx) }

    package func compress(_ input: [UInt8]) throws(ZstdError) -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = out.withUnsafeMutableBytes { dst in
            input.withUnsafeBytes { src in
                ZSTD_compressCCtx(ctx, dst.baseAddress, bound, src.baseAddress, src.count, level)
            }
        }
        if ZSTD_isError(n) != 0 { throw ZstdError(message: String(cString: ZSTD_getErrorName(n))) }
        out.removeSubrange(n...)
        return out
    }
}

/// A decompression context reused across calls. Not thread-safe.
package final class ZstdDecompressor {
    private let ctx: OpaquePointer
    /// Refuses frames that claim more than this (a corrupt or hostile size field).
    package let maxOutput: Int

    package init(maxOutput: Int = 64 * 1024 * 1024) {
        guard let ctx = ZSTD_createDCtx() else { fatalError("ZSTD_createDCtx: out of memory") }
        self.ctx = ctx
        self.maxOutput = maxOutput
    }

    deinit { ZSTD_freeDCtx(ctx) }

    /// Decompresses a frame whose content size is `expectedSize` (stored beside it).
    package func decompress(_ input: UnsafeRawBufferPointer, expectedSize: Int) throws(ZstdError) -> [UInt8] {
        guard expectedSize >= 0, expectedSize <= maxOutput else { throw ZstdError(message: "size \(expectedSize) out of range") }
        var out = [UInt8](repeating: 0, count: expectedSize)
        let n = out.withUnsafeMutableBytes { dst in
            ZSTD_decompressDCtx(ctx, dst.baseAddress, expectedSize, input.baseAddress, input.count)
        }
        if ZSTD_isError(n) != 0 { throw ZstdError(message: String(cString: ZSTD_getErrorName(n))) }
        guard n == expectedSize else { throw ZstdError(message: "frame size \(n) != recorded \(expectedSize)") }
        return out
    }

    package func decompress(_ input: [UInt8], expectedSize: Int) throws(ZstdError) -> [UInt8] {
        let result = input.withUnsafeBytes { buf in Result { () throws(ZstdError) in try decompress(buf, expectedSize: expectedSize) } }
        return try result.get()
    }
}

/// Decompression contexts shared by concurrent readers.
package final class ZstdDecompressorPool: Sendable {
    private let pool = ContextPool { ZstdDecompressor() }

    package init() {}

    package func withDecompressor<T>(_ body: (ZstdDecompressor) throws -> T) rethrows -> T {
        try pool.with(body)
    }
}

/// Compression contexts shared by concurrent writers (a store without a writer thread of its own).
package final class ZstdCompressorPool: Sendable {
    private let pool: ContextPool<ZstdCompressor>

    package init(level: Int32 = 3) {
        pool = ContextPool { ZstdCompressor(level: level) }
    }

    package func withCompressor<T>(_ body: (ZstdCompressor) throws -> T) rethrows -> T {
        try pool.with(body)
    }
}

/// Reuses up to 16 contexts: making one allocates its tables, which costs more than small payloads' work.
final class ContextPool<Context>: Sendable {
    private let free = Locked<[UnsafeTransfer<Context>]>([])
    private let make: @Sendable () -> Context

    init(make: @escaping @Sendable () -> Context) {
        self.make = make
    }

    func with<T>(_ body: (Context) throws -> T) rethrows -> T {
        let context = free.withLock { $0.popLast() }?.value ?? make()
        defer { free.withLock { if $0.count < 16 { $0.append(UnsafeTransfer(context)) } } }
        return try body(context)
    }
}

/// Moves a non-Sendable context between threads; the pool guarantees one user at a time.
struct UnsafeTransfer<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
