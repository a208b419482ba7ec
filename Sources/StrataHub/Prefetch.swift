import CPrefetch
import Synchronization

/// Asks the CPU to start loading memory that a fan-out will touch a few subscribers from now.
///
/// Why: at 50 publications a second, every connection's objects have left the caches between
/// two publications, and each delivery stalled on one cold object after another (the session,
/// its subscriptions, its queue, its writer, NIO's channel, contexts and pipeline): most of the
/// user-space time of a paced fan-out (docs/benchmarks-log.md §9). The fan-out knows its next
/// subscribers, and each delivery spends microseconds in the kernel, so loads issued a few
/// subscribers ahead have long arrived when their delivery starts (`Hub.broadcastPublication`).
///
/// A prefetch never faults: a stale address (a dictionary that grew, a connection that closed
/// meanwhile) only costs a wasted read.
package enum Prefetch {
    /// The cache lines of `bytes` bytes at `address`; nothing for 0.
    @inline(__always)
    package static func memory(at address: UInt, bytes: UInt) {
        if address != 0 { strata_prefetch_bytes(address, bytes) }
    }

    /// The object's first `bytes` bytes (its header is 16 of them).
    @inline(__always)
    package static func object(_ object: AnyObject, bytes: UInt) {
        strata_prefetch_bytes(address(of: object), bytes)
    }

    /// Where an object lives, not retained: for prefetching only.
    @inline(__always)
    package static func address(of object: AnyObject) -> UInt {
        UInt(bitPattern: Unmanaged.passUnretained(object).toOpaque())
    }

    /// Where a dictionary's storage lives (a native dictionary is one reference to it); 0 where
    /// it is laid out otherwise.
    @inline(__always)
    package static func address<K, V>(of dictionary: [K: V]) -> UInt {
        guard MemoryLayout<[K: V]>.size == MemoryLayout<UInt>.size else { return 0 }
        return unsafeBitCast(dictionary, to: UInt.self)
    }

    /// The size of the heap block an object lives in (its instance size, rounded up by the
    /// allocator).
    package static func allocationSize(of object: AnyObject) -> UInt {
        UInt(strata_allocation_size(Unmanaged.passUnretained(object).toOpaque()))
    }

    /// The words of `object` (past its header) that look like the address of an object
    /// allocated near it: for objects whose fields are not ours to name (NIO's channel and
    /// contexts), whose own objects (socket, pending writes, atomics, the next context) a write
    /// touches too. A word that only looks like one costs a wasted read. `object` is read, within
    /// its heap block: pass a strong reference to an object that lives on the heap.
    package static func pointees(of object: AnyObject) -> [UInt] {
        let base = UnsafeRawPointer(Unmanaged.passUnretained(object).toOpaque())
        let bytes = Int(allocationSize(of: object))
        let region = UInt(bitPattern: base) >> 32
        var found: [UInt] = []
        var offset = 16
        while offset + 8 <= bytes {
            let word = base.load(fromByteOffset: offset, as: UInt.self)
            // Heap objects are 16-byte aligned; one connection's are allocated by one thread,
            // from one arena (code and shared objects lie elsewhere).
            if word & 0xF == 0, word >> 32 == region, word != UInt(bitPattern: base) { found.append(word) }
            offset += 8
        }
        return found
    }
}

/// Memory that a connection's next write will touch, as a fixed set of slots the fan-out reads
/// without a lock or a reference count (`OutboundQueue.prefetchWriter`): each slot a
/// cache-line-aligned address with its count of lines in the low 6 bits.
///
/// 24 slots: an SSE writer lists 20 regions (its four objects, 16 pointees); with 16 slots the
/// channel's last pointees were dropped, and a fan-out cost 2–3 % more (docs/benchmarks-log.md §9).
package struct PrefetchSlots: ~Copyable, Sendable {
    package static let count = 24
    private let slots: InlineArray<24, Atomic<UInt>> = InlineArray { _ in Atomic(0) }

    package init() {}

    /// Keeps the first `count` regions (address, bytes); the rest of the slots are cleared.
    package func set(_ regions: [(address: UInt, bytes: UInt)]) {
        for i in 0..<Self.count {
            var slot: UInt = 0
            if i < regions.count, regions[i].address != 0 {
                let (address, bytes) = regions[i]
                let first = address & ~63
                let lines = min((address + max(bytes, 1) - 1 - first) / 64 + 1, 63)
                slot = first | lines
            }
            slots[i].store(slot, ordering: .relaxed)
        }
    }

    /// A region as kept: its first line's address and its count of lines.
    package struct Region: Equatable {
        package var line: UInt
        package var lines: UInt
    }

    /// The `index`th region as kept; nil for an empty slot. For inspection (tests).
    package func region(_ index: Int) -> Region? {
        let slot = slots[index].load(ordering: .relaxed)
        return slot == 0 ? nil : Region(line: slot & ~63, lines: slot & 63)
    }

    /// The regions in `slots` (of those `set`; empty ones are skipped).
    @inline(__always)
    package func prefetch(_ range: Range<Int>) {
        for i in range {
            let slot = slots[i].load(ordering: .relaxed)
            if slot == 0 { continue }
            strata_prefetch_bytes(slot & ~63, (slot & 63) * 64)
        }
    }
}
