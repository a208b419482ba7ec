#if canImport(Glibc)
import CMalloc
#endif

/// Gives freed heap memory back to the system after many connections closed.
///
/// Why: glibc keeps what a process freed for its next allocations. After 10,000 connections
/// closed, Strata kept all the ~60 MB they had used, spread over the event loop threads' arenas
/// in pages that still hold a few live objects at their ends, so the heap never shrinks on its
/// own. `malloc_trim(0)` returns every whole free page in every arena (`madvise`), which brings
/// the resident size back near where it was before they came (docs/benchmarks.md, idle
/// connections). It walks the heap, so it runs only after a large drop in connections.
struct MemoryTrim {
    /// The most connections seen since the last trim.
    private var peak = 0
    /// A drop of at least this many connections, and of `fraction` of the peak, trims.
    let minimumDrop: Int
    let fraction: Double

    init(minimumDrop: Int = 1000, fraction: Double = 0.2) {
        self.minimumDrop = minimumDrop
        self.fraction = fraction
    }

    /// Called periodically with the current number of connections; true when it trimmed.
    mutating func observe(connections: Int) -> Bool {
        peak = max(peak, connections)
        let drop = peak - connections
        guard drop >= minimumDrop, Double(drop) >= Double(peak) * fraction else { return false }
        peak = connections
        #if canImport(Glibc)
        _ = malloc_trim(0)
        #endif
        return true
    }
}
