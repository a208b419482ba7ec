import CLMDB

/// A transaction handle. Values read through it are copied out before they are returned.
struct LMDBTransaction {
    let txn: OpaquePointer
    let env: LMDBEnvironment

    var path: String { env.path }

    func get(_ dbi: MDB_dbi, _ key: [UInt8]) throws -> [UInt8]? {
        try key.withUnsafeBytes { k in
            var kv = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            var v = MDB_val()
            let rc = mdb_get(txn, dbi, &kv, &v)
            if rc == MDB_NOTFOUND { return nil }
            try check(rc, "mdb_get", path)
            return Array(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
        }
    }

    func put(_ dbi: MDB_dbi, _ key: [UInt8], _ value: [UInt8], flags: UInt32 = 0) throws {
        try key.withUnsafeBytes { k in
            try value.withUnsafeBytes { val in
                var kv = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
                var vv = MDB_val(mv_size: val.count, mv_data: UnsafeMutableRawPointer(mutating: val.baseAddress))
                try check(mdb_put(txn, dbi, &kv, &vv, flags), "mdb_put", path)
            }
        }
    }

    /// Deletes `key`; false when it was not there.
    @discardableResult
    func delete(_ dbi: MDB_dbi, _ key: [UInt8]) throws -> Bool {
        try key.withUnsafeBytes { k in
            var kv = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            let rc = mdb_del(txn, dbi, &kv, nil)
            if rc == MDB_NOTFOUND { return false }
            try check(rc, "mdb_del", path)
            return true
        }
    }

    func cursor(_ dbi: MDB_dbi) throws -> LMDBCursor {
        var c: OpaquePointer?
        try check(mdb_cursor_open(txn, dbi, &c), "mdb_cursor_open", path)
        guard let c else { throw LMDBError(code: MDB_PANIC, operation: "mdb_cursor_open", path: path) }
        return LMDBCursor(cursor: c, path: path)
    }
}

/// A cursor; closed when released (before its transaction ends).
final class LMDBCursor {
    let cursor: OpaquePointer
    let path: String

    init(cursor: OpaquePointer, path: String) {
        self.cursor = cursor
        self.path = path
    }

    deinit { mdb_cursor_close(cursor) }

    /// Moves the cursor and returns copies of the key and value there, or nil at the end.
    func move(_ op: MDB_cursor_op, to key: [UInt8]? = nil) throws -> (key: [UInt8], value: [UInt8])? {
        var k = MDB_val()
        var v = MDB_val()
        let rc: Int32
        if let key {
            rc = key.withUnsafeBytes { kb in
                k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
                return mdb_cursor_get(cursor, &k, &v, op)
            }
        } else {
            rc = mdb_cursor_get(cursor, &k, &v, op)
        }
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get", path)
        return (
            Array(UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size)),
            Array(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
        )
    }

    func deleteCurrent() throws {
        try check(mdb_cursor_del(cursor, 0), "mdb_cursor_del", path)
    }
}
