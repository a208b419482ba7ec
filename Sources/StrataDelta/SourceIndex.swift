/// fossil's index of the source: one hash-table entry per aligned 16-byte block, chained
/// newest-block-first (`landmark` holds the chain heads per bucket, `collide` the next block of
/// each block). Block numbers fit in Int32 because sources are below 2^32 bytes.
struct SourceIndex: ~Copyable {
    /// `collide[0..<buckets]` then `landmark[0..<buckets]`, one allocation like delta.c's.
    private let table: UnsafeMutableBufferPointer<Int32>
    let buckets: Int
    let modulo: FastModulo

    /// Indexes `source` (more than 16 bytes). As in delta.c the loop bound is strict, so when the
    /// length is a multiple of 16 the last block is not indexed; byte identity depends on it.
    init<Bytes: HashByteMapping>(source: UnsafeBufferPointer<UInt8>, hashing: Bytes.Type) {
        let window = RollingHash<Bytes>.window
        buckets = source.count / window
        modulo = FastModulo(divisor: UInt32(truncatingIfNeeded: buckets))
        table = .allocate(capacity: buckets * 2)
        table.initialize(repeating: -1)
        guard let start = source.baseAddress else { return }
        var offset = 0
        while offset < source.count - window {
            let bucket = Int(modulo.reduce(RollingHash<Bytes>(start + offset).value))
            let block = offset / window
            table[block] = table[buckets + bucket]
            table[buckets + bucket] = Int32(truncatingIfNeeded: block)
            offset += window
        }
    }

    deinit { table.deallocate() }

    /// The newest block whose hash falls in `hash`'s bucket, or -1.
    @inline(__always)
    func firstBlock(forHash hash: UInt32) -> Int {
        Int(table[buckets + Int(modulo.reduce(hash))])
    }

    /// The next older block in the same bucket, or -1.
    @inline(__always)
    func nextBlock(after block: Int) -> Int {
        Int(table[block])
    }
}
