import StrataTLS

/// Where a Redis server is and how long to wait for it.
package struct RedisConfiguration: Sendable {
    package var host: String
    package var port: Int
    /// Limit for the TCP connect.
    package var connectTimeout: Duration
    /// Limit for each reply (pub/sub: each SUBSCRIBE/UNSUBSCRIBE confirmation). When it passes,
    /// the connection is closed and everything in flight on it fails with `.timeout`.
    package var ioTimeout: Duration
    /// ACL user (empty: the default user) and password (empty: no AUTH).
    package var user: String
    package var password: String
    /// The database commands use (SELECT when not 0).
    package var db: Int
    /// Set: every connection (commands and PUB/SUB) speaks TLS.
    package var tls: TLSClientSettings?
    /// How often an idle connection PINGs (`RedisProbe`); zero: never.
    package var probeInterval: Duration
    /// Set: where to connect is asked anew for every connection (a Sentinel's current master,
    /// or the next Sentinel to try) instead of `host` and `port`, which then only name it in logs.
    package var locate: (@Sendable () async throws(RedisError) -> RedisAddress)?
    /// The server must answer `ROLE` with `master` before the connection is used: after a
    /// failover the old master may be back as a replica, where writes fail and PUB/SUB hears nothing.
    package var requireMaster = false

    package init(
        host: String = "127.0.0.1", port: Int = 6379, connectTimeout: Duration = .seconds(1), ioTimeout: Duration = .seconds(4),
        user: String = "", password: String = "", db: Int = 0, tls: TLSClientSettings? = nil,
        probeInterval: Duration = .seconds(5)
    ) {
        self.host = host
        self.port = port
        self.connectTimeout = connectTimeout
        self.ioTimeout = ioTimeout
        self.user = user
        self.password = password
        self.db = db
        self.tls = tls
        self.probeInterval = probeInterval
    }
}

/// A server's host and port.
package struct RedisAddress: Sendable, Hashable, CustomStringConvertible {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    package var description: String { "\(host):\(port)" }
}
