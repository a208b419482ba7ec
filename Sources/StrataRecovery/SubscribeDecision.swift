import StrataCore

/// The whole decision of a positioned subscribe, as one pure function: what the reply says (epoch,
/// offset, recovered), which publications the client gets (in the reply, and streamed after it),
/// and where the subscription's live position starts. The session calls it under its lock with
/// the store's read and what arrived meanwhile, then encodes the outcome (`docs/recovery.md`).
package enum SubscribeDecision {
    /// How the channel recovers.
    package enum Mode: Sendable, Equatable {
        /// Every missed publication, or none (stream mode).
        case stream
        /// Only the latest value (`force_recovery_mode: cache`). `latestOnly`: non-delta
        /// subscribers get just the newest publication even when several arrived meanwhile.
        case cache(latestOnly: Bool)
        /// Keyed cache (`cache_key_tag`): the latest value of every key, or the changes since the
        /// client's position; `floor` is the table's (KeyedCache.swift in StrataHistory).
        case keyedCache(floor: UInt64)
    }

    package struct Input: Sendable {
        package var mode: Mode
        /// The client asked to recover (or cache mode recovers on its own) and may.
        package var recovering: Bool
        /// The client's position (`offset`, `epoch` of the subscribe request).
        package var since: StreamPosition
        /// The "reject unrecovered" flag: error 112 instead of an unrecovered result (stream mode).
        package var rejectUnrecovered: Bool
        /// What the store returned: stream mode reads `since` the client's offset (limited),
        /// cache mode the newest publication (reverse, limit 1), otherwise only the top.
        package var read: HistoryResult
        /// Live publications that arrived while the subscribe was in flight, in arrival order,
        /// each with the epoch it was published under.
        package var buffered: [(publication: Publication, epoch: String)]
        /// At most this many recovered publications go in the reply (0: no limit); with
        /// `streamsLongGaps` the rest follow as pushes, else the reply carries them all (the read
        /// limit already decided whether everything was recovered).
        package var replyLimit: Int
        package var streamsLongGaps: Bool
        /// The subscriber's tags filter: recovered publications that do not match are left out
        /// (whether the stream is recovered is decided on all of them), and in cache mode the
        /// latest value is the newest one that matches (`read` then holds several, newest first).
        package var tagsFilter: TagsFilter?

        package init(
            mode: Mode, recovering: Bool, since: StreamPosition, rejectUnrecovered: Bool, read: HistoryResult,
            buffered: [(publication: Publication, epoch: String)], replyLimit: Int = 0, streamsLongGaps: Bool = false,
            tagsFilter: TagsFilter? = nil
        ) {
            self.tagsFilter = tagsFilter
            self.mode = mode
            self.recovering = recovering
            self.since = since
            self.rejectUnrecovered = rejectUnrecovered
            self.read = read
            self.buffered = buffered
            self.replyLimit = replyLimit
            self.streamsLongGaps = streamsLongGaps
        }
    }

    package enum Recovery: Sendable, Equatable {
        case notAttempted
        case recovered
        case notRecovered
    }

    package struct Positioned: Sendable, Equatable {
        /// The stream's epoch (the reply's `epoch` and the live position's).
        package var epoch: String
        /// The reply's `offset`: the client's own offset after a recovery (it advances it with
        /// the publications it gets), else the newest offset the subscription starts after.
        package var replyOffset: UInt64
        /// Where live delivery continues: the next publication must be `position.offset + 1`.
        package var position: StreamPosition
        package var recovery: Recovery
        /// What the client gets, in offset order: the first `inReply` in the reply's
        /// `publications`, the rest as pushes right behind it, before any live publication.
        package var publications: [Publication]
        package var inReply: Int
        /// Why recovery failed (`recovery == .notRecovered`), else nil.
        package var failure: RecoveryFailure?

        package init(
            epoch: String, replyOffset: UInt64, position: StreamPosition, recovery: Recovery, publications: [Publication], inReply: Int,
            failure: RecoveryFailure? = nil
        ) {
            self.failure = failure
            self.epoch = epoch
            self.replyOffset = replyOffset
            self.position = position
            self.recovery = recovery
            self.publications = publications
            self.inReply = inReply
        }
    }

    package enum Outcome: Sendable, Equatable {
        case positioned(Positioned)
        /// Not recovered and the client asked for an error instead (112).
        case reject
        /// History and the buffered publications leave a hole: the subscription cannot start
        /// consistently (client-side: resubscribe; the session maps it to 3010).
        case insufficientState
    }

    package static func decide(_ input: Input) -> Outcome {
        if case .keyedCache(let floor) = input.mode, input.recovering { return decideKeyed(input, floor: floor) }
        let top = input.read.top
        var recovery = Recovery.notAttempted
        var failure: RecoveryFailure?
        var recoveredPublications: [Publication] = []
        if input.recovering {
            switch input.mode {
            case .cache:
                let outcome: CacheRecovery.Outcome
                let latest: Publication?
                if let filter = input.tagsFilter {
                    latest = input.read.publications.first { filter.matches($0.tags) }
                    outcome = CacheRecovery.decideFiltered(
                        latestMatching: latest, top: top, requestOffset: input.since.offset, requestEpoch: input.since.epoch)
                } else {
                    latest = input.read.publications.first
                    outcome = CacheRecovery.decide(latest: latest, top: top, requestOffset: input.since.offset, requestEpoch: input.since.epoch)
                }
                recovery = outcome.recovered ? .recovered : .notRecovered
                if !outcome.recovered { failure = RecoveryFailure.cache(latest: latest, top: top) }
                recoveredPublications = outcome.publications
            case .stream, .keyedCache:
                var recovered = false
                if input.since.epoch.isEmpty || input.since.epoch == top.epoch {
                    recovered = StreamRecovery.isRecovered(
                        publications: input.read.publications, requestOffset: input.since.offset, top: top.offset)
                    if recovered { recoveredPublications = input.read.publications }
                }
                if !recovered && input.rejectUnrecovered { return .reject }
                recovery = recovered ? .recovered : .notRecovered
                if !recovered { failure = RecoveryFailure.stream(since: input.since, read: input.read) }
            }
        }

        // Only publications of the stream's current epoch can join; anything buffered from an
        // older epoch was published before the epoch the read saw.
        let sameEpoch = input.buffered.filter { $0.epoch == top.epoch }.map(\.publication)
        let isCache = if case .cache = input.mode { true } else { false }
        var forMerge = recoveredPublications
        let filteredCache = isCache && input.tagsFilter != nil && recovery == .recovered
        if filteredCache && !sameEpoch.isEmpty {
            // The latest matching value may be older than the top: what was read (newest first)
            // shows the stream whole up to the top, so the buffered publications are checked
            // against all of it; below, only the value and what follows it are kept.
            forMerge = input.read.publications.reversed()
        }
        let merge = StreamRecovery.merge(recovered: forMerge, buffered: sameEpoch)
        if !merge.contiguous { return .insufficientState }
        var merged = merge.publications
        let newest = max(top.offset, merged.last?.offset ?? 0, sameEpoch.last?.offset ?? 0)
        if let filter = input.tagsFilter { merged = merged.filter { filter.matches($0.tags) } }
        if filteredCache {
            let from = recoveredPublications.first?.offset ?? top.offset + 1
            merged = merged.filter { $0.offset >= from }
        }
        if case .cache(latestOnly: true) = input.mode, let last = merged.last { merged = [last] }
        let position = StreamPosition(offset: newest, epoch: top.epoch)

        guard recovery == .recovered else {
            // Not recovering (or not recovered): the subscription starts after everything read
            // or buffered, and the client gets none of it.
            return .positioned(
                Positioned(
                    epoch: top.epoch, replyOffset: newest, position: position, recovery: recovery, publications: [], inReply: 0,
                    failure: failure))
        }
        return recovered(merged.filter { isCache || $0.offset > input.since.offset }, input, at: position)
    }

    /// A recovered outcome: the client's own offset in the reply, and the publications in it, or
    /// with long gaps streamed only the first `replyLimit` (the rest as pushes behind it).
    static func recovered(_ publications: [Publication], _ input: Input, at position: StreamPosition) -> Outcome {
        var inReply = publications.count
        if input.streamsLongGaps, input.replyLimit > 0, publications.count > input.replyLimit { inReply = input.replyLimit }
        return .positioned(
            Positioned(
                epoch: position.epoch, replyOffset: input.since.offset, position: position, recovery: .recovered,
                publications: publications, inReply: inReply))
    }
}

extension SubscribeDecision {
    /// A recovering subscribe to a keyed cache channel: `input.read` holds the table's entries
    /// (in offset order, not contiguous). What arrived meanwhile joins only past the read's top,
    /// where it must continue from it without a hole.
    static func decideKeyed(_ input: Input, floor: UInt64) -> Outcome {
        let top = input.read.top
        var newer: [Publication] = []
        for (publication, epoch) in input.buffered.sorted(by: { $0.publication.offset < $1.publication.offset })
        where epoch == top.epoch && publication.offset > (newer.last?.offset ?? top.offset) {
            guard publication.offset == (newer.last?.offset ?? top.offset) + 1 else { return .insufficientState }
            newer.append(publication)
        }
        let position = StreamPosition(offset: newer.last?.offset ?? top.offset, epoch: top.epoch)
        let outcome = CacheRecovery.decideKeyed(
            entries: input.read.publications, top: top, floor: floor, requestOffset: input.since.offset, requestEpoch: input.since.epoch)
        guard outcome.recovered else {
            return .positioned(
                Positioned(
                    epoch: top.epoch, replyOffset: position.offset, position: position, recovery: .notRecovered, publications: [],
                    inReply: 0, failure: RecoveryFailure.keyed(since: input.since, top: top, floor: floor)))
        }
        var publications = outcome.publications + newer
        if let filter = input.tagsFilter { publications = publications.filter { filter.matches($0.tags) } }
        return recovered(publications, input, at: position)
    }
}

/// What to do with a live publication for a positioned subscription at `position`.
package enum LivePosition {
    package enum Check: Equatable, Sendable {
        case deliver
        /// Already delivered (a duplicate offset).
        case skip
        /// A gap or another epoch: the subscription lost its place.
        case insufficientState
    }

    /// Advances `position` when the publication is the next one; adopts the epoch of the first
    /// publication when the position has none yet.
    package static func check(_ position: inout StreamPosition, offset: UInt64, epoch: String) -> Check {
        if position.epoch.isEmpty {
            position.epoch = epoch
        } else if epoch != position.epoch {
            return .insufficientState
        }
        if offset > position.offset + 1 { return .insufficientState }
        if offset < position.offset + 1 { return .skip }
        position.offset = offset
        return .deliver
    }
}
