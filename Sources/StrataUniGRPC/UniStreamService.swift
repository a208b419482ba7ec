import GRPCCore
import StrataConfig
import StrataCore
import StrataHub
import StrataProtocol

/// `centrifugal.centrifugo.unistream.CentrifugoUniStream/Consume` (unistream.proto,
/// docs/transports.md "uni_grpc"): one `ConnectRequest` in, a stream of `Push` messages out —
/// the connect push first, then what the connection receives, an empty push as the ping every
/// 25 s. A refused connect or any later disconnect is a disconnect push, after which the call
/// ends with status OK; a client that cancels ends its connection.
struct UniStreamService: RegistrableRPCService {
    static let consume = MethodDescriptor(fullyQualifiedService: "centrifugal.centrifugo.unistream.CentrifugoUniStream", method: "Consume")

    let sessions: SessionFactory
    let open: OpenStreams
    /// `uni_grpc.max_receive_message_size`: a larger request is refused as Go's gRPC server
    /// refuses it (the listener itself resets anything past a margin above it).
    var maxRequestSize = 4 * 1024 * 1024

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(forMethod: Self.consume, deserializer: RawBytesDeserializer(), serializer: RawBytesSerializer()) {
            request, context in
            // The request is one message (none or more is refused by gRPC's own check).
            let connect = try await ServerRequest(stream: request).message
            guard connect.count <= maxRequestSize else {
                throw RPCError(code: .resourceExhausted, message: "grpc: received message larger than max (\(connect.count) vs. \(maxRequestSize))")
            }
            // A request that is not a ConnectRequest is refused before a connection opens, with
            // the status Go's gRPC server gives a message it cannot unmarshal.
            do {
                _ = try UnidirectionalProtobufCodec.connectRequest(connect)
            } catch {
                throw RPCError(code: .internalError, message: "grpc: failed to unmarshal the received message: \(error)")
            }
            guard sessions.admits(from: Self.peer(context.remotePeer)) else {
                throw RPCError(code: .unavailable, message: "too many connections")
            }
            let metadata = request.metadata.compactMap { entry -> StrataConfig.HeaderField? in
                guard case .string(let value) = entry.value else { return nil }
                return .init(name: entry.key, value: value)
            }
            return StreamingServerResponse { writer in
                try await stream(connect: connect, metadata: metadata, to: writer)
                return [:]
            }
        }
    }

    /// grpc-swift's peer (`ipv4:127.0.0.1:5000`; IPv6 peers are not told apart here) as the
    /// per-address connection limits count it.
    static func peer(_ remote: String) -> PeerAddress? {
        guard remote.hasPrefix("ipv4:"), let host = remote.dropFirst("ipv4:".count).split(separator: ":").first else { return nil }
        let octets = host.split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4 else { return nil }
        return PeerAddress(ipv4: (octets[0], octets[1], octets[2], octets[3]))
    }

    /// Runs one connection: its session's messages go to `writer` as they are queued, until
    /// the session closes (its disconnect push last) or the client goes away.
    private func stream(connect: [UInt8], metadata: [StrataConfig.HeaderField], to writer: RPCWriter<[UInt8]>) async throws {
        let session = sessions.openUniGRPC(metadata: metadata)
        let id = open.add(session)
        let (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        session.queue.onReady { wake.yield() }
        defer { open.remove(id) }
        await session.handleFrame(connect)
        do {
            // A client that cancels (or goes away) cancels the RPC, which grpc-swift reports
            // through its own handler rather than by cancelling this task.
            try await withRPCCancellationHandler {
                try await withTaskCancellationHandler {
                    drain: for await _ in wakes {
                        while let event = session.queue.poll() {
                            switch event {
                            case .frame(let messages):
                                for message in messages { try await writer.write(message) }
                            case .close(let disconnect):
                                if let disconnect { try await writer.write(session.codec.disconnectPush(disconnect)) }
                                break drain
                            }
                        }
                    }
                } onCancel: {
                    wake.finish()
                }
            } onCancelRPC: {
                wake.finish()
            }
        } catch {
            // The client is gone: its connection ends below like any other.
        }
        wake.finish()
        await session.transportClosed()
    }
}

/// The node's open uni_grpc connections, so a stopping server can end them (3001) before it
/// waits for their calls to finish.
final class OpenStreams: Sendable {
    private let sessions = Locked<(next: Int, byID: [Int: ClientSession])>((0, [:]))

    func add(_ session: ClientSession) -> Int {
        sessions.withLock { s in
            s.next += 1
            s.byID[s.next] = session
            return s.next
        }
    }

    func remove(_ id: Int) {
        sessions.withLock { _ = $0.byID.removeValue(forKey: id) }
    }

    /// Tells every open connection the server is stopping.
    func shutDown() {
        for session in sessions.withLock({ Array($0.byID.values) }) { session.disconnect(.shutdown) }
    }
}
