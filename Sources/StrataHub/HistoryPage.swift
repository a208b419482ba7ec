import StrataCore
import StrataProtocol

/// One page of a channel's stream for `GET {prefix}/history/{channel}` (docs/history-http.md) and
/// `strata history dump`: the read, the long poll, and whether the page may be cached for ever.
///
/// Why a page can be immutable: within an epoch an offset names one publication for good, so a
/// page that holds every offset from `since + 1` to `since + limit` of a named epoch can never
/// read differently (a later read after trimming would return less, never other data). Such a
/// page is cacheable by any HTTP cache; a page that is short of its limit (it reached the top) or
/// names no epoch is not.
package struct HistoryPage: Sendable, Equatable {
    package static let defaultLimit = 100
    package static let maxLimit = 10_000
    /// Below the 30 s an HTTP connection may stay silent (`HTTPIdleTimeout`), which would
    /// otherwise close a long poll before it answers.
    package static let maxWaitSeconds: Int64 = 25

    package struct Request: Sendable, Equatable {
        package var channel: String
        /// Publications after this offset (0: from the oldest retained).
        package var since: UInt64 = 0
        /// "" reads whatever epoch the stream has (and the page is never immutable).
        package var epoch = ""
        package var limit = HistoryPage.defaultLimit
        /// Seconds to wait for a publication when the page would be empty (0: answer at once).
        package var waitSeconds: Int64 = 0

        package init(channel: String) { self.channel = channel }
    }

    package var request: Request
    package var publications: [Publication]
    package var top: StreamPosition

    package init(request: Request, publications: [Publication], top: StreamPosition) {
        self.request = request
        self.publications = publications
        self.top = top
    }

    /// Every offset `since + 1 … since + limit` is here, in the epoch the request named.
    package var isImmutable: Bool {
        guard !request.epoch.isEmpty, request.epoch == top.epoch, publications.count == request.limit,
            let first = publications.first, let last = publications.last
        else { return false }
        return first.offset == request.since + 1 && last.offset == request.since + UInt64(request.limit)
    }

    /// An entity tag: the epoch and the offsets the page holds (plus the top where the page can
    /// still change, since the JSON form carries it).
    package var entityTag: String {
        let range = "\(publications.first?.offset ?? 0)-\(publications.last?.offset ?? 0)"
        return isImmutable ? "\"\(top.epoch):\(range)\"" : "\"\(top.epoch):\(range):\(top.offset)\""
    }

    /// The request for the page after this one (nil when this one is empty).
    package var next: Request? {
        guard let last = publications.last else { return nil }
        var next = request
        next.since = last.offset
        next.epoch = top.epoch
        return next
    }

    /// Reads the page; with `waitSeconds`, an empty page at the top waits (polling the store
    /// every 100 ms, so it works the same on every engine and node) for the next publication.
    package static func read(_ request: Request, node: Node) async throws(StrataError) -> HistoryPage {
        var request = request
        request.limit = min(max(1, request.limit), maxLimit)
        request.waitSeconds = min(max(0, request.waitSeconds), maxWaitSeconds)
        let since = StreamPosition(offset: request.since, epoch: request.epoch)
        let deadline = node.clock.nowMillis() + request.waitSeconds * 1000
        while true {
            let result = try await node.history(channel: request.channel, filter: HistoryFilter(since: since, limit: request.limit))
            let page = HistoryPage(request: request, publications: result.publications, top: result.top)
            if !page.publications.isEmpty || request.since < result.top.offset || node.clock.nowMillis() >= deadline { return page }
            do {
                try await Task.sleep(for: .milliseconds(100))
            } catch {
                return page
            }
        }
    }

    /// The publications as JSON lines, as the API's `history` writes each one; a payload that is
    /// not JSON goes as a string.
    package func jsonLines() -> [UInt8] {
        var w = JSONWriter(capacity: publications.reduce(0) { $0 + $1.data.count + 32 })
        for p in publications {
            JSONReplyEncoder.publication(&w, p, isDelta: false, dataAsString: !p.isJSON, includeInfo: true)
            w.raw([0x0A])
        }
        return w.bytes
    }

    /// The page as one JSON object, the shape of the API's `history` result
    /// (`{"publications":[…],"offset":N,"epoch":"…"}`).
    package func json() -> [UInt8] {
        var w = JSONWriter()
        JSONReplyEncoder.history(&w, publications: publications, top: top)
        return w.bytes
    }
}
