/// Who published or who is present: `user` and `client` are always sent, the infos only when set.
package struct ClientInfo: Hashable, Sendable {
    package var user: String
    package var client: String
    /// Raw JSON (or binary) from the connection token's `info`.
    package var connInfo: [UInt8]?
    /// Raw JSON (or binary) from the subscription token's `info`.
    package var chanInfo: [UInt8]?

    package init(user: String, client: String, connInfo: [UInt8]? = nil, chanInfo: [UInt8]? = nil) {
        self.user = user
        self.client = client
        self.connInfo = connInfo
        self.chanInfo = chanInfo
    }
}

/// One message in a channel. `data` holds the payload bytes exactly as published (JSON as the
/// publisher wrote it, whitespace included, or binary), as Centrifugo keeps them.
package struct Publication: Hashable, Sendable {
    /// Position in the channel's stream; 0 when the channel keeps no history.
    package var offset: UInt64
    package var data: [UInt8]
    package var info: ClientInfo?
    package var tags: [String: String]
    /// Unix milliseconds when the server accepted it (kept for lag metrics, not sent to clients).
    package var time: Int64
    /// False when `data` is not one JSON value (binary published as `b64data`). Such a payload
    /// cannot travel in a JSON-protocol frame: Centrifugo disconnects those subscribers with
    /// 3506 and its JSON history API answers 500, and Strata does the same.
    package var isJSON: Bool

    package init(
        offset: UInt64 = 0, data: [UInt8], info: ClientInfo? = nil, tags: [String: String] = [:], time: Int64 = 0,
        isJSON: Bool = true
    ) {
        self.offset = offset
        self.data = data
        self.info = info
        self.tags = tags
        self.time = time
        self.isJSON = isJSON
    }
}

/// A place in a stream: offset under an epoch. Offset 0 means "before the first publication".
package struct StreamPosition: Hashable, Sendable, CustomStringConvertible {
    package var offset: UInt64
    package var epoch: String

    package init(offset: UInt64, epoch: String) {
        self.offset = offset
        self.epoch = epoch
    }

    package var description: String { "\(offset)@\(epoch)" }
}
