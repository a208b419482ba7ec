import StrataCore

/// How a connection talks to its session, beyond the codec (transports.md §4–§5).
package enum SessionStyle: Sendable {
    /// WebSocket: commands and replies on one socket.
    case bidirectional
    /// HTTP-streaming or SSE: replies down a stream, commands through `/emulation` requests that
    /// name the connection by this session id and the node's id (both in the connect reply).
    case emulated(session: String)
    /// uni_sse, uni_http_stream, uni_websocket: one connect request in, pushes out. The connect
    /// result carries the session id, no pong is expected, and a refused connect is a disconnect.
    case unidirectional(session: String)

    /// The session id of an emulated connection (nil for the others).
    package var emulationSession: String? {
        if case .emulated(let session) = self { return session }
        return nil
    }

    package var isUnidirectional: Bool {
        if case .unidirectional = self { return true }
        return false
    }
}

extension Disconnect {
    /// What a one-way client is told when its connect gets an error reply (Centrifugo's
    /// mapping): an expired token or connection 3005, too many requests 3013, permission
    /// denied 3507, any other error 3004.
    package static func unidirectional(for error: StrataError) -> Disconnect {
        switch error.code {
        case 109, 110: .expired
        case 111: .tooManyRequests
        case 103: .permissionDenied
        default: .serverError
        }
    }
}
