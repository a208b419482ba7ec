import StrataCore

/// Decisions of stream-mode recovery (docs/recovery.md), as pure functions.
package enum StreamRecovery {
    /// Whether `publications` (read with `since = requestOffset`) hold everything the client missed:
    /// nothing trimmed before it and nothing cut off by the read limit after it.
    package static func isRecovered(publications: [Publication], requestOffset: UInt64, top: UInt64) -> Bool {
        guard let first = publications.first, let last = publications.last else {
            return requestOffset == top
        }
        return first.offset == requestOffset + 1 && last.offset == top
    }

    /// Result of merging history with publications buffered while the subscribe was in flight.
    package struct Merge: Equatable, Sendable {
        package var publications: [Publication]
        /// False when the merged sequence has a hole: the subscriber must resubscribe (3010).
        package var contiguous: Bool

        package init(publications: [Publication], contiguous: Bool) {
            self.publications = publications
            self.contiguous = contiguous
        }
    }

    /// Concatenates, orders by offset and drops duplicate offsets. Contiguity is only checked
    /// when something was buffered, as in Centrifugo: history alone was already judged by `isRecovered`.
    package static func merge(recovered: [Publication], buffered: [Publication]) -> Merge {
        if buffered.isEmpty { return Merge(publications: recovered, contiguous: true) }
        var all = recovered + buffered
        all.sort { $0.offset < $1.offset }
        var out: [Publication] = []
        out.reserveCapacity(all.count)
        for p in all where out.last?.offset != p.offset { out.append(p) }
        var contiguous = true
        for i in out.indices.dropFirst() where out[i].offset != out[i - 1].offset + 1 {
            contiguous = false
            break
        }
        return Merge(publications: out, contiguous: contiguous)
    }
}

/// Decisions of cache-recovery mode (docs/recovery.md).
package enum CacheRecovery {
    package struct Outcome: Equatable, Sendable {
        package var recovered: Bool
        package var publications: [Publication]

        package init(recovered: Bool, publications: [Publication]) {
            self.recovered = recovered
            self.publications = publications
        }
    }

    /// `latest` is the newest retained publication (read reverse, limit 1), `top` the stream top.
    package static func decide(latest: Publication?, top: StreamPosition, requestOffset: UInt64, requestEpoch: String) -> Outcome {
        let clientHasSameState = requestOffset > 0 && requestOffset == top.offset && requestEpoch == top.epoch
        guard let latest else { return Outcome(recovered: clientHasSameState, publications: []) }
        guard latest.offset == top.offset else { return Outcome(recovered: false, publications: []) }
        return Outcome(recovered: true, publications: clientHasSameState ? [] : [latest])
    }

    /// Cache recovery through a tags filter: the latest value is the newest publication that
    /// matches (`latestMatching`, found among the newest `client.recovery_max_publication_limit`),
    /// which may be older than the top. Recovered when the client gets it or already holds it;
    /// with none matching, only a client already at the top is recovered.
    /// A fresh subscribe to a cache channel gets the same answer from Centrifugo v6.9.1
    /// (`recovered: true` and the older matching value; compared with centrifuge-python against
    /// both, docs/tags-filter.md).
    package static func decideFiltered(
        latestMatching: Publication?, top: StreamPosition, requestOffset: UInt64, requestEpoch: String
    ) -> Outcome {
        let sameEpoch = requestEpoch == top.epoch
        guard let latest = latestMatching else {
            return Outcome(recovered: requestOffset > 0 && requestOffset == top.offset && sameEpoch, publications: [])
        }
        let holdsIt = sameEpoch && requestOffset >= latest.offset && requestOffset <= top.offset
        return Outcome(recovered: true, publications: holdsIt ? [] : [latest])
    }

    /// Keyed cache recovery (docs/keyed-cache.md). `entries` is what the store read: every live
    /// key for a client without a position, else every change (values and tombstones) after its
    /// offset. A client without a position gets the whole table; one with a position gets the
    /// changes when they are complete: same epoch, not ahead of the top, and not below the
    /// table's floor (changes at or below it may be forgotten).
    package static func decideKeyed(
        entries: [Publication], top: StreamPosition, floor: UInt64, requestOffset: UInt64, requestEpoch: String
    ) -> Outcome {
        if requestOffset == 0 { return Outcome(recovered: true, publications: entries) }
        guard requestEpoch == top.epoch, requestOffset <= top.offset, requestOffset >= floor else {
            return Outcome(recovered: false, publications: [])
        }
        return Outcome(recovered: true, publications: entries)
    }
}
