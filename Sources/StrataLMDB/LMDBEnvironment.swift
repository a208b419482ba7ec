import CLMDB
import Foundation
import StrataCore

/// One LMDB environment (a data directory) and its named databases.
///
/// LMDB's rules, which this type and `LMDBWriter` enforce:
/// - one environment per process and path (opening it twice breaks its locks): see `openPaths`;
/// - a write transaction belongs to the thread that began it: all writes run on the writer thread,
///   never across an `await`;
/// - read-only transactions may run on any thread (`MDB_NOTLS`), concurrently with the writer;
/// - memory returned by reads is valid only inside the transaction: values are copied out;
/// - the map is grown (`mdb_env_set_mapsize`) only while no transaction is active: readers hold
///   `resizeLock` shared, the writer takes it exclusively to grow.
final class LMDBEnvironment: @unchecked Sendable {
    let env: OpaquePointer
    let path: String
    private(set) var mapSize: Int
    private let resizeLock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)

    let meta: MDB_dbi
    let entries: MDB_dbi
    let names: MDB_dbi
    let idempotency: MDB_dbi
    let expiry: MDB_dbi
    let info: MDB_dbi
    /// Keyed cache channels: channel id + offset → key entry, and channel id + key → offset.
    let keyed: MDB_dbi
    let keyIndex: MDB_dbi

    static let formatKey = Array("format".utf8)
    static let formatValue = Array("strata-history-1".utf8)

    private static let openPaths = Locked<Set<String>>([])

    init(path: String, mapSize: Int, relaxedDurability: Bool, readahead: Bool = true) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw LMDBStoreError(path: path, reason: "not a directory") }
        } else {
            do {
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw LMDBStoreError(path: path, reason: "cannot create directory: \(error.localizedDescription)")
            }
        }
        let canonical = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        let fresh = Self.openPaths.withLock { $0.insert(canonical).inserted }
        guard fresh else { throw LMDBStoreError(path: path, reason: "already open in this process") }
        self.path = path
        self.mapSize = mapSize
        self.relaxed = relaxedDurability
        pthread_rwlock_init(resizeLock, nil)

        var envPointer: OpaquePointer?
        do {
            try check(mdb_env_create(&envPointer), "mdb_env_create", path)
            guard let envPointer else { throw LMDBStoreError(path: path, reason: "mdb_env_create returned no environment") }
            env = envPointer
        } catch {
            Self.openPaths.withLock { _ = $0.remove(canonical) }
            throw error
        }
        do {
            try check(mdb_env_set_maxdbs(env, 16), "mdb_env_set_maxdbs", path)
            try check(mdb_env_set_mapsize(env, mapSize), "mdb_env_set_mapsize", path)
            var flags = UInt32(MDB_NOTLS)
            // Without readahead, stores larger than memory read far faster: a channel's large
            // payloads sit on scattered overflow pages, and readahead fills the cache with neighbours.
            if !readahead { flags |= UInt32(MDB_NORDAHEAD) }
            if relaxedDurability { flags |= UInt32(MDB_NOSYNC) | UInt32(MDB_NOMETASYNC) }
            let rc = mdb_env_open(env, path, flags, 0o644)
            if rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH {
                throw LMDBStoreError(path: path, reason: "data.mdb is corrupt or not an LMDB file (\(String(cString: mdb_strerror(rc))))")
            }
            try check(rc, "mdb_env_open", path)
            // A larger map recorded in the file wins over the configured initial size.
            var envInfo = MDB_envinfo()
            mdb_env_info(env, &envInfo)
            self.mapSize = max(mapSize, envInfo.me_mapsize)

            (meta, entries, names, idempotency, expiry, info, keyed, keyIndex) = try Self.openDatabases(env, path: path)
        } catch {
            mdb_env_close(env)
            Self.openPaths.withLock { _ = $0.remove(canonical) }
            throw error
        }
        canonicalPath = canonical
    }

    private let canonicalPath: String

    /// Opens (or, in an empty environment, creates) the named databases and checks the format marker,
    /// so a foreign or newer data directory is refused instead of silently re-initialised.
    private static func openDatabases(_ env: OpaquePointer, path: String) throws
        -> (MDB_dbi, MDB_dbi, MDB_dbi, MDB_dbi, MDB_dbi, MDB_dbi, MDB_dbi, MDB_dbi)
    {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, 0, &txn), "mdb_txn_begin", path)
        guard let txn else { throw LMDBStoreError(path: path, reason: "no transaction") }
        var committed = false
        defer { if !committed { mdb_txn_abort(txn) } }

        var mainDBI: MDB_dbi = 0
        try check(mdb_dbi_open(txn, nil, 0, &mainDBI), "mdb_dbi_open", path)
        var infoDBI: MDB_dbi = 0
        let infoRC = mdb_dbi_open(txn, "info", 0, &infoDBI)
        if infoRC == MDB_NOTFOUND {
            var stat = MDB_stat()
            mdb_stat(txn, mainDBI, &stat)
            guard stat.ms_entries == 0 else {
                throw LMDBStoreError(path: path, reason: "this LMDB environment belongs to something else (no Strata format marker)")
            }
            try check(mdb_dbi_open(txn, "info", UInt32(MDB_CREATE), &infoDBI), "mdb_dbi_open(info)", path)
            try formatValue.withUnsafeBytes { v in
                try formatKey.withUnsafeBytes { k in
                    var key = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
                    var val = MDB_val(mv_size: v.count, mv_data: UnsafeMutableRawPointer(mutating: v.baseAddress))
                    try check(mdb_put(txn, infoDBI, &key, &val, 0), "mdb_put(format)", path)
                }
            }
        } else {
            try check(infoRC, "mdb_dbi_open(info)", path)
            var marker: [UInt8]?
            formatKey.withUnsafeBytes { k in
                var key = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
                var val = MDB_val()
                if mdb_get(txn, infoDBI, &key, &val) == MDB_SUCCESS {
                    marker = Array(UnsafeRawBufferPointer(start: val.mv_data, count: val.mv_size))
                }
            }
            guard let marker else { throw LMDBStoreError(path: path, reason: "format marker missing") }
            guard marker == formatValue else {
                throw LMDBStoreError(
                    path: path, reason: "unsupported format \(String(decoding: marker, as: UTF8.self)) (this build reads strata-history-1)")
            }
        }
        func open(_ name: String) throws -> MDB_dbi {
            var dbi: MDB_dbi = 0
            try check(mdb_dbi_open(txn, name, UInt32(MDB_CREATE), &dbi), "mdb_dbi_open(\(name))", path)
            return dbi
        }
        // keyed and keyIndex came with keyed cache channels: an older data directory gains them here.
        let dbs = (
            try open("meta"), try open("entries"), try open("names"), try open("idempotency"), try open("expiry"), infoDBI,
            try open("keyed"), try open("keyIndex")
        )
        try check(mdb_txn_commit(txn), "mdb_txn_commit", path)
        committed = true
        return dbs
    }

    private let closed = Locked(false)
    /// Set under the exclusive resize lock; readers check it under the shared lock, so no read
    /// transaction can begin on a closed environment.
    private nonisolated(unsafe) var isClosed = false

    /// Closes the environment once; no transaction may run afterwards.
    func close() {
        let first = closed.withLock { c -> Bool in
            defer { c = true }
            return !c
        }
        guard first else { return }
        pthread_rwlock_wrlock(resizeLock)
        isClosed = true
        mdb_env_close(env)
        pthread_rwlock_unlock(resizeLock)
        let p = canonicalPath
        Self.openPaths.withLock { _ = $0.remove(p) }
    }

    deinit {
        close()
        pthread_rwlock_destroy(resizeLock)
        resizeLock.deallocate()
    }

    /// Runs `body` in a read-only transaction on the calling thread.
    func read<T>(_ body: (LMDBTransaction) throws -> T) throws -> T {
        pthread_rwlock_rdlock(resizeLock)
        defer { pthread_rwlock_unlock(resizeLock) }
        guard !isClosed else { throw LMDBStoreError(path: path, reason: "store is closed") }
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn), "mdb_txn_begin(read)", path)
        guard let txn else { throw LMDBStoreError(path: path, reason: "no transaction") }
        defer { mdb_txn_abort(txn) }
        return try body(LMDBTransaction(txn: txn, env: self))
    }

    let relaxed: Bool

    /// Runs `body` in a write transaction and commits. Writer thread only.
    /// `durable: false` commits without fsync even in sync mode (the next durable commit's fsync
    /// flushes it too): for work that can be redone, never for acknowledged publications.
    func write<T>(durable: Bool = true, _ body: (LMDBTransaction) throws -> T) throws -> T {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, 0, &txn), "mdb_txn_begin(write)", path)
        guard let txn else { throw LMDBStoreError(path: path, reason: "no transaction") }
        let result: T
        do {
            result = try body(LMDBTransaction(txn: txn, env: self))
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        let skipSync = !durable && !relaxed
        if skipSync { mdb_env_set_flags(env, UInt32(MDB_NOSYNC), 1) }
        let rc = mdb_txn_commit(txn)
        if skipSync { mdb_env_set_flags(env, UInt32(MDB_NOSYNC), 0) }
        try check(rc, "mdb_txn_commit", path)
        return result
    }

    /// Doubles the map. Writer thread only, between transactions.
    func grow() throws {
        pthread_rwlock_wrlock(resizeLock)
        defer { pthread_rwlock_unlock(resizeLock) }
        let newSize = mapSize * 2
        try check(mdb_env_set_mapsize(env, newSize), "mdb_env_set_mapsize", path)
        mapSize = newSize
    }

    /// Flushes buffers to disk (used in relaxed mode on a timer).
    func sync() throws {
        try check(mdb_env_sync(env, 1), "mdb_env_sync", path)
    }

    var flags: UInt32 {
        var f: UInt32 = 0
        mdb_env_get_flags(env, &f)
        return f
    }

    func stat(_ dbi: MDB_dbi) throws -> MDB_stat {
        try read { txn in
            var s = MDB_stat()
            try check(mdb_stat(txn.txn, dbi, &s), "mdb_stat", path)
            return s
        }
    }
}
