import CLMDB

/// A failed liblmdb call: the operation, LMDB's own text for the code, and the data directory.
public struct LMDBError: Error, Hashable, Sendable, CustomStringConvertible {
    public let code: Int32
    public let operation: String
    public let path: String

    public init(code: Int32, operation: String, path: String) {
        self.code = code
        self.operation = operation
        self.path = path
    }

    public var description: String {
        "\(operation) failed for \(path): \(String(cString: mdb_strerror(code))) (\(code))"
    }

    public var isMapFull: Bool { code == MDB_MAP_FULL }
}

/// The data directory exists but is not a Strata history store we can use.
public struct LMDBStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public var description: String { "history store at \(path): \(reason)" }
}

@inline(__always)
func check(_ rc: Int32, _ operation: String, _ path: String) throws(LMDBError) {
    if rc != MDB_SUCCESS { throw LMDBError(code: rc, operation: operation, path: path) }
}
