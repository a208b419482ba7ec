import StrataCore

/// The Redis clients' name for the shared reconnect backoff.
package typealias RedisBackoff = ReconnectBackoff
