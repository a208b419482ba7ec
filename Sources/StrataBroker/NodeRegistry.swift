import StrataCore

/// Which nodes are running, for the server API's `info` (and the admin UI's status page): each
/// node announces its record — the `info` object of itself, as JSON — every few seconds, and a
/// record not renewed within its lifetime is gone (a crashed node drops out by itself).
package protocol NodeRegistry: Sendable {
    /// Stores this node's record for `ttlSeconds`.
    func announce(nodeID: String, record: [UInt8], ttlSeconds: Int64) async throws
    /// The live records, by node id (this node's included, once announced).
    func nodes() async throws -> [String: [UInt8]]
}

/// One node alone: its own record is all there is.
package final class LocalNodeRegistry: NodeRegistry {
    private let records = Locked<[String: [UInt8]]>([:])

    package init() {}

    package func announce(nodeID: String, record: [UInt8], ttlSeconds: Int64) async throws {
        records.withLock { $0 = [nodeID: record] }
    }

    package func nodes() async throws -> [String: [UInt8]] { records.withLock { $0 } }
}
