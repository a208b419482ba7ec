extension Dictionary {
    /// Gives back most of the storage once the dictionary is at most a quarter full: Swift's
    /// dictionaries keep the capacity they grew to, so without this a node's tables of
    /// connections stay sized for the most it ever held (`docs/benchmarks.md`, RSS after close).
    /// Rebuilding costs one pass, and only after three quarters of the entries have left.
    package mutating func shrinkIfSparse(above minimumCapacity: Int = 1024) {
        guard capacity > minimumCapacity, count * 4 < capacity else { return }
        var compact = Dictionary(minimumCapacity: count)
        for (key, value) in self { compact[key] = value }
        self = compact
    }
}
