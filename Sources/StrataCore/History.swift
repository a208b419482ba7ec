/// What part of a stream to read (docs/protocol/history.md §3).
package struct HistoryFilter: Hashable, Sendable {
    /// Read after (or, reversed, before) this position; nil reads from the stream's end.
    package var since: StreamPosition?
    /// 0 returns only the top position, -1 everything in range, N at most N publications.
    package var limit: Int
    package var reverse: Bool

    package init(since: StreamPosition? = nil, limit: Int, reverse: Bool = false) {
        self.since = since
        self.limit = limit
        self.reverse = reverse
    }

    /// Only the stream top: what subscribe and position checks ask for.
    package static let topOnly = HistoryFilter(limit: 0)
}

/// Publications read from a stream plus the stream's current top position.
package struct HistoryResult: Hashable, Sendable {
    package var publications: [Publication]
    package var top: StreamPosition

    package init(publications: [Publication], top: StreamPosition) {
        self.publications = publications
        self.top = top
    }
}

/// Retention of one channel's stream, from its namespace options (seconds; both 0 = no stream).
package struct StreamRetention: Hashable, Sendable {
    package var size: Int
    package var ttlSeconds: Int64
    package var metaTTLSeconds: Int64

    package init(size: Int, ttlSeconds: Int64, metaTTLSeconds: Int64) {
        self.size = size
        self.ttlSeconds = ttlSeconds
        self.metaTTLSeconds = metaTTLSeconds
    }

    /// A channel owns a stream only when both size and TTL are set.
    package var keepsHistory: Bool { size > 0 && ttlSeconds > 0 }
}
