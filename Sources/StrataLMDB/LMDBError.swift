import CLMDB
import Glibc

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
        "\(operation) failed for \(path): \(String(cString: mdb_strerror(code))) (\(code))" + hint
    }

    /// What an operator needs to know beside LMDB's text. A full filesystem shows up as ENOSPC,
    /// or as EIO when a page write came up short (liblmdb's mdb_page_flush): the free space is
    /// measured and the key named, so the log says what to do (storage/README.md, "A full disk").
    var hint: String {
        switch code {
        case MDB_MAP_FULL:
            return " (the map could not grow further: raise engine.lmdb.map_size)"
        case ENOSPC, EIO, EDQUOT, EFBIG:
            var fs = statvfs()
            guard statvfs(path, &fs) == 0 else { return "" }
            let free = UInt64(fs.f_bavail) * UInt64(fs.f_frsize)
            return " (the filesystem holding engine.lmdb.path has \(free) bytes free: publications are refused with error 100"
                + " until space returns; nothing already acknowledged is lost)"
        default:
            return ""
        }
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
