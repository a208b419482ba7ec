import NIOCore

// Apart from RedisError.swift so the error type needs no NIO (the RESP fuzz harness builds it
// without; Tests/Fuzz/run.sh).
extension RedisError {
    /// Any error from the channel, as a `RedisError`: ours pass through, NIO's mean the connection is gone.
    static func from(_ error: any Error) -> RedisError {
        switch error {
        case let error as RedisError: error
        case ChannelError.ioOnClosedChannel, ChannelError.alreadyClosed: RedisError(.connectionClosed, "connection closed")
        default: RedisError(.connectionClosed, "\(error)")
        }
    }
}
