import Testing

@testable import StrataHub

/// What the fan-out prefetches is only a hint to the CPU, and no delivery depends on it; these
/// check that the hints name the memory they are meant to.
@Suite("Prefetch: the memory a fan-out loads ahead")
struct PrefetchTests {
    final class Box: Sendable {
        let value: Int
        init(_ value: Int) { self.value = value }
    }

    final class Holder: Sendable {
        let first: Box
        let number: Int
        let second: Box
        let small: Int

        init(first: Box, second: Box) {
            self.first = first
            self.number = 0x1234_5670  // aligned, but not where the heap is
            self.second = second
            self.small = 48
        }
    }

    /// A region keeps its cache lines: from the line its first byte is in, through the line of
    /// its last byte.
    @Test func slotsKeepEachRegionsCacheLines() {
        let slots = PrefetchSlots()
        slots.set([(address: 0x7F00_0000_1030, bytes: 100), (address: 0, bytes: 64), (address: 0x7F00_0000_2000, bytes: 64)])
        #expect(slots.region(0) == .init(line: 0x7F00_0000_1000, lines: 3))
        #expect(slots.region(1) == nil, "no address, no region")
        #expect(slots.region(2) == .init(line: 0x7F00_0000_2000, lines: 1))
        #expect(slots.region(3) == nil)
    }

    /// Regions past the slots' count are dropped; setting again clears what was there.
    @Test func slotsHoldAFixedNumberOfRegions() {
        let slots = PrefetchSlots()
        let many = (0..<(PrefetchSlots.count + 4)).map { (address: UInt(0x7F00_0000_0000 + 0x1000 * $0), bytes: UInt(64)) }
        slots.set(many)
        #expect(slots.region(PrefetchSlots.count - 1) == .init(line: UInt(0x7F00_0000_0000 + 0x1000 * (PrefetchSlots.count - 1)), lines: 1))
        slots.set([(address: 0x7F00_0000_4000, bytes: 1)])
        #expect(slots.region(0) == .init(line: 0x7F00_0000_4000, lines: 1))
        #expect(slots.region(1) == nil)
        slots.prefetch(0..<PrefetchSlots.count)
    }

    /// An object's references are found among its words; numbers that are not addresses near it
    /// are not.
    @Test func pointeesAreTheObjectsItReferences() {
        let holder = Holder(first: Box(1), second: Box(2))
        let found = Prefetch.pointees(of: holder)
        #expect(found.contains(Prefetch.address(of: holder.first)))
        #expect(found.contains(Prefetch.address(of: holder.second)))
        #expect(!found.contains(0x1234_5670))
        #expect(!found.contains(48))
        #expect(!found.contains(Prefetch.address(of: holder)))
    }

    /// An object's heap block holds at least its instance: a header and four words here.
    @Test func anObjectsAllocationHoldsItsInstance() {
        let holder = Holder(first: Box(1), second: Box(2))
        #expect(Prefetch.allocationSize(of: holder) >= 16 + 4 * 8)
        #expect(Prefetch.allocationSize(of: holder) < 256)
    }

    /// A native dictionary is one reference to its storage, which holds its keys.
    @Test func aDictionarysAddressIsItsStorage() {
        let empty: [String: Int] = [:]
        var one: [String: Int] = ["a": 1]
        let before = Prefetch.address(of: one)
        #expect(before != 0)
        #expect(before != Prefetch.address(of: empty))
        one["b"] = 2
        one["c"] = 3
        #expect(Prefetch.address(of: one) != 0)
    }
}
