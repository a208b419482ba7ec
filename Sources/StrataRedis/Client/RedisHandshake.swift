import NIOCore

/// What a new connection says before it is used (Centrifugo's `user`, `password` and `db`, or
/// the address URL's): `AUTH [user] password` when a password is set, `SELECT db` for another
/// database than 0, else a `PING`: a connection is handed out only once Redis has answered on
/// it, so a refused TLS certificate fails the connect with its reason, and a server that takes
/// TCP connections but does not answer (stopped with SIGSTOP: the kernel still accepts into
/// its backlog) fails it within `io_timeout`. Both connection kinds run it before their own
/// handler takes the channel, so a PUB/SUB connection is authenticated the same way as a
/// command connection.
final class RedisHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// One command of the handshake: its name for errors (never its arguments: the password),
    /// and what its answer must be (nil: anything but an error reply).
    struct Step: Sendable {
        let name: String
        let command: RESPCommand
        var check: (@Sendable (RESPValue) -> String?)?
    }

    private let commands: [Step]
    private let promise: EventLoopPromise<Void>
    private let reader: RESPReader
    private let timeout: TimeAmount
    private var answered = 0
    /// The promise is completed once, whichever comes first: the answers, a refusal, the
    /// deadline or the end of the connection.
    private var finished = false
    private var deadline: Scheduled<Void>?

    init(commands: [Step], timeout: TimeAmount, promise: EventLoopPromise<Void>) throws(RedisError) {
        self.commands = commands
        self.timeout = timeout
        self.promise = promise
        self.reader = try RESPReader()
    }

    private func finish(_ error: RedisError?, context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        deadline?.cancel()
        if let error {
            promise.fail(error)
            context.close(promise: nil)
        } else {
            promise.succeed(())
        }
    }

    /// The commands a configuration needs; never empty.
    static func commands(for configuration: RedisConfiguration) -> [Step] {
        var out: [Step] = []
        if !configuration.password.isEmpty {
            let auth =
                configuration.user.isEmpty
                ? RESPCommand("AUTH", configuration.password) : RESPCommand("AUTH", configuration.user, configuration.password)
            out.append(Step(name: "AUTH", command: auth))
        }
        if configuration.db != 0 { out.append(Step(name: "SELECT", command: RESPCommand("SELECT", configuration.db))) }
        if configuration.requireMaster {
            out.append(
                Step(name: "ROLE", command: RESPCommand("ROLE")) { reply in
                    let role = reply.elements?.first?.string ?? "\(reply)"
                    return role == "master" ? nil : "the server is a \(role), not the master"
                })
        }
        if out.isEmpty { out.append(Step(name: "PING", command: RESPCommand("PING"))) }
        return out
    }

    /// Whether the commands went out (once the connection is up).
    private var started = false

    /// Added when the channel is made, before it connects: the commands go out once it is up.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    /// A connect that failed tears the pipeline down without the channel ever being active.
    func handlerRemoved(context: ChannelHandlerContext) {
        finish(RedisError(.connectionClosed, "closed before \(commands.map(\.name).joined(separator: "/"))"), context: context)
    }

    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        var buffer = context.channel.allocator.buffer(capacity: 64)
        for step in commands { step.command.encode(into: &buffer) }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = bound.value
            handler.finish(RedisError(.timeout, "no answer to \(handler.commands.map(\.name).joined(separator: "/")) within \(handler.timeout.nanoseconds / 1_000_000) ms"), context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do throws(RedisError) {
            try reader.feed(unwrapInboundIn(data))
            while answered < commands.count, let reply = try reader.next() {
                answered += 1
                // The password is not repeated in the error: only the command's name.
                let step = commands[answered - 1]
                if case .error(let message) = reply { throw RedisError(.serverError, "\(step.name) refused: \(message)") }
                if let problem = step.check?(reply) { throw RedisError(.serverError, problem) }
            }
            if answered == commands.count { finish(nil, context: context) }
        } catch {
            finish(error, context: context)
        }
    }

    /// A TLS handshake that fails (an unknown CA, a name the certificate does not carry, a
    /// client certificate the server wants) arrives here, before any answer.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(RedisError(.connectFailed, "handshake failed: \(error)"), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(RedisError(.connectionClosed, "closed during \(commands.map(\.name).joined(separator: "/"))"), context: context)
        context.fireChannelInactive()
    }
}
