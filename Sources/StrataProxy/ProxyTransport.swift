import StrataConfig

/// How a proxy request reaches the application backend: one POST of a JSON body, its status and
/// body back. The HTTP implementation (a pooled client) is given by the composition root, so the
/// proxy logic here and the hub that calls it hold no network code, and tests give a fake.
package protocol ProxyTransport: Sendable {
    /// Throws when there is no answer (refused, reset, timed out).
    func post(_ endpoint: String, body: [UInt8], headers: [StrataConfig.HeaderField], timeoutMillis: Int64) async throws
        -> (status: Int, body: [UInt8])
}
