import CLMDB

/// A failed liblmdb call: the operation, LMDB's own text for the code, and the data directory.
package struct LMDBError: Error, Hashable, Sendable, CustomStringConvertible {
    package let code: Int32
    package let operation: String
    package let path: String

    package init(code: Int32, operation: String, path: String) {
        self.code = code
        self.operation = operation
        self.path = path
    }

    package var description: String {
        "\(operation) failed for \(path): \(String(cString: mdb_strerror(code))) (\(code))"
    }

    package var isMapFull: Bool { code == MDB_MAP_FULL }
}

/// The data directory exists but is not a Strata history store we can use.
package struct LMDBStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    package let path: String
    package let reason: String

    package var description: String { "history store at \(path): \(reason)" }
}

@inline(__always)
func check(_ rc: Int32, _ operation: String, _ path: String) throws(LMDBError) {
    if rc != MDB_SUCCESS { throw LMDBError(code: rc, operation: operation, path: path) }
}
