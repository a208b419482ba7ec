/// A NATS server and the credentials for it (`broker.nats.url`, parsed by the config loader):
/// user and password, or a token, or none.
package struct NATSAddress: Sendable, Hashable, CustomStringConvertible {
    package var host: String
    package var port: Int
    package var user: String
    package var password: String
    package var token: String

    package init(host: String, port: Int, user: String = "", password: String = "", token: String = "") {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.token = token
    }

    /// host:port only: what logs and errors show.
    package var description: String { "\(host):\(port)" }
}
