/// What part of a stream to read (history-and-recovery.md §3).
public struct HistoryFilter: Hashable, Sendable {
    /// Read after (or, reversed, before) this position; nil reads from the stream's end.
    public var since: StreamPosition?
    /// 0 returns only the top position, -1 everything in range, N at most N publications.
    public var limit: Int
    public var reverse: Bool

    public init(since: StreamPosition? = nil, limit: Int, reverse: Bool = false) {
        self.since = since
        self.limit = limit
        self.reverse = reverse
    }

    /// Only the stream top: what subscribe and position checks ask for.
    public static let topOnly = HistoryFilter(limit: 0)
}

/// Publications read from a stream plus the stream's current top position.
public struct HistoryResult: Hashable, Sendable {
    public var publications: [Publication]
    public var top: StreamPosition

    public init(publications: [Publication], top: StreamPosition) {
        self.publications = publications
        self.top = top
    }
}

/// Retention of one channel's stream, from its namespace options (seconds; both 0 = no stream).
public struct StreamRetention: Hashable, Sendable {
    public var size: Int
    public var ttlSeconds: Int64
    public var metaTTLSeconds: Int64

    public init(size: Int, ttlSeconds: Int64, metaTTLSeconds: Int64) {
        self.size = size
        self.ttlSeconds = ttlSeconds
        self.metaTTLSeconds = metaTTLSeconds
    }

    /// A channel owns a stream only when both size and TTL are set.
    public var keepsHistory: Bool { size > 0 && ttlSeconds > 0 }
}
