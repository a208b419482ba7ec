import NIOCore
import NIOHTTP1
import StrataConfig
import StrataCore
import StrataHub
import StrataProtocol

/// One uni_grpc call (docs/transports.md, "uni_grpc"): an HTTP/2 stream, seen through NIO's
/// HTTP/2-to-HTTP/1 codec. The request is `POST /centrifugal.centrifugo.unistream.CentrifugoUniStream/Consume`
/// with one length-prefixed `ConnectRequest`; the answer is a stream of length-prefixed `Push`
/// messages written by the session's `HTTPStreamWriter` straight from its queue on this event
/// loop (no task per call, no per-message hop), ended by `grpc-status: 0` after the disconnect
/// push. A call refused before a connection opens gets its gRPC status as Go's server gives it.
final class UniGRPCStreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let consumePath = "/centrifugal.centrifugo.unistream.CentrifugoUniStream/Consume"

    private enum State {
        case waitingForHead
        case reading(HTTPRequestHead, ByteBuffer)
        case streaming(StreamConnection)
        case done
    }

    private var state = State.waitingForHead
    /// The stream's writer, told of the channel's writability (`HTTPStreamWriter.writabilityChanged`).
    private var writer: HTTPStreamWriter?
    private let transport: UniGRPCTransport

    init(transport: UniGRPCTransport) {
        self.transport = transport
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .waitingForHead):
            guard head.method == .POST, head.uri == Self.consumePath else {
                let method = head.uri.split(separator: "/").last.map(String.init) ?? head.uri
                return refuse(.unimplemented, "unknown method \(method) for service centrifugal.centrifugo.unistream.CentrifugoUniStream",
                    context: context)
            }
            guard head.headers.first(name: "content-type")?.hasPrefix("application/grpc") == true else {
                return respondPlain(.unsupportedMediaType, context: context)
            }
            state = .reading(head, context.channel.allocator.buffer(capacity: 0))
        case (.body(var chunk), .reading(let head, var body)):
            body.writeBuffer(&chunk)
            // The declared length is checked as soon as it is known, so a large request is
            // refused without being read.
            if let length = body.getInteger(at: body.readerIndex + 1, as: UInt32.self), Int(length) > transport.maxRequestSize {
                return refuse(
                    .resourceExhausted, "grpc: received message larger than max (\(length) vs. \(transport.maxRequestSize))",
                    unread: true, context: context)
            }
            state = .reading(head, body)
        case (.end, .reading(let head, let body)):
            requestEnded(head: head, body: body, context: context)
        default:
            break
        }
    }

    /// The whole request is in: one message, a ConnectRequest, from a client the node admits;
    /// then the connection opens.
    private func requestEnded(head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) {
        var body = body
        guard let compressed = body.readInteger(as: UInt8.self), let length = body.readInteger(as: UInt32.self),
            let message = body.readBytes(length: Int(length))
        else {
            return refuse(.internalError, "grpc: failed to unmarshal the received message: no whole message", context: context)
        }
        guard body.readableBytes == 0 else {
            return refuse(.internalError, "grpc: client streaming protocol violation: more than one request message", context: context)
        }
        guard compressed == 0 else {
            let encoding = head.headers.first(name: "grpc-encoding") ?? "identity"
            return refuse(.unimplemented, "grpc: Decompressor is not installed for grpc-encoding \"\(encoding)\"", context: context)
        }
        do {
            _ = try UnidirectionalProtobufCodec.connectRequest(message)
        } catch {
            // Go's text, whatever swift-protobuf found wrong.
            return refuse(
                .internalError, "grpc: failed to unmarshal the received message: proto: cannot parse invalid wire-format data",
                context: context)
        }
        guard transport.sessions.admits(from: PeerAddress(context.channel.parent?.remoteAddress)) else {
            return refuse(.unavailable, "too many connections", context: context)
        }
        let metadata = head.headers.map { StrataConfig.HeaderField(name: $0.name.lowercased(), value: $0.value) }
        let session = transport.sessions.openUniGRPC(metadata: metadata, lane: transport.batchers(context.eventLoop))
        let codec = session.codec
        context.write(wrapOutboundOut(.head(Self.responseHead)), promise: nil)
        let writer = HTTPStreamWriter(
            context: context, queue: session.queue, batcher: transport.batchers(context.eventLoop), framing: .grpcLengthPrefixed,
            disconnectMessage: { codec.disconnectPush($0) }, chunked: false, trailers: ["grpc-status": "0"])
        writer.start()
        self.writer = writer
        let connection = StreamConnection(session: session, executor: transport.executors(context.eventLoop))
        state = .streaming(connection)
        session.startTimers()
        connection.submit(message)
    }

    static let responseHead = HTTPResponseHead(version: .http2, status: .ok, headers: ["content-type": "application/grpc"])

    /// Ends the call with a gRPC error status (the response head, then trailers with no message).
    /// `unread`: the request is still coming; the stream is reset after the status, so the rest
    /// is not read.
    private func refuse(_ status: GRPCStatus, _ message: String, unread: Bool = false, context: ChannelHandlerContext) {
        state = .done
        context.write(wrapOutboundOut(.head(Self.responseHead)), promise: nil)
        let trailers: HTTPHeaders = ["grpc-status": "\(status.rawValue)", "grpc-message": GRPCStatus.percentEncoded(message)]
        let written = context.writeAndFlush(wrapOutboundOut(.end(trailers)))
        if unread {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// A request that is not gRPC at all gets a plain HTTP status, as gRPC servers answer it.
    private func respondPlain(_ status: HTTPResponseStatus, context: ChannelHandlerContext) {
        state = .done
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http2, status: status))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writer?.writabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The client cancelled (RST_STREAM) or its connection went: the session ends now.
        if case .streaming(let connection) = state { connection.close() }
        state = .done
        context.fireChannelInactive()
    }
}

/// The gRPC status codes uni_grpc answers with.
enum GRPCStatus: Int {
    case ok = 0
    case internalError = 13
    case unimplemented = 12
    case resourceExhausted = 8
    case unavailable = 14

    /// `grpc-message` is percent-encoded: bytes outside printable ASCII, and `%`.
    static func percentEncoded(_ message: String) -> String {
        var out = ""
        for byte in message.utf8 {
            if byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "%") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }
}

@available(*, unavailable)
extension UniGRPCStreamHandler: Sendable {}
