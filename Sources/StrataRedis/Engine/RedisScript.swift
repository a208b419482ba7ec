import Crypto
import NIOCore

/// A Lua script compiled into the binary (`Lua/*.lua`, embedded with `.embedInCode`), run by
/// EVALSHA so only its 40-character digest travels per call.
struct RedisScript: Sendable {
    let name: String
    let source: [UInt8]
    /// Lowercase hex SHA-1 of the source: the name Redis caches the script under.
    let sha: String

    init(name: String, source: [UInt8]) {
        self.name = name
        self.source = source
        self.sha = Insecure.SHA1.hash(data: source).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// keyed.lua's functions are prepended to the scripts that use them.
    static let historyAdd = RedisScript(
        name: "history_add", source: PackageResources.stream_read_lua + PackageResources.keyed_lua + PackageResources.history_add_lua)
    static let keyedGet = RedisScript(
        name: "keyed_get", source: PackageResources.stream_read_lua + PackageResources.keyed_lua + PackageResources.keyed_get_lua)
    /// stream_read.lua's function is prepended to both reads.
    static let historyGet = RedisScript(name: "history_get", source: PackageResources.stream_read_lua + PackageResources.history_get_lua)
    static let historyRemove = RedisScript(name: "history_remove", source: PackageResources.history_remove_lua)
    static let presenceAdd = RedisScript(name: "presence_add", source: PackageResources.presence_add_lua)
    static let presenceRemove = RedisScript(name: "presence_remove", source: PackageResources.presence_remove_lua)
    static let presenceGet = RedisScript(name: "presence_get", source: PackageResources.presence_get_lua)

    private func command(_ verb: String, _ body: [UInt8], keys: [String], arguments: [any RESPArgument]) -> RESPCommand {
        var all: [any RESPArgument] = [body, keys.count]
        all.append(contentsOf: keys)
        all.append(contentsOf: arguments)
        return RESPCommand(verb, arguments: all)
    }

    /// Runs the script on `connection`: EVALSHA, and EVAL (which also caches it) when Redis does
    /// not know it — after a restart or SCRIPT FLUSH. The fallback is written from the reply's
    /// callback on the event loop, so calls on one connection keep their order even then.
    /// An error reply from the script comes back as a thrown `.serverError`; `transform` turns
    /// the reply into the result, on the connection's loop, in reply order.
    ///
    /// The write and every callback are set up in one go on the connection's loop. A callback
    /// attached from another thread after the write runs when it is attached, which may be after
    /// the replies to later calls have been handled: calls would then see their replies out of
    /// order (appends reporting commits out of offset order).
    ///
    /// `asking`: the call follows a cluster's ASK redirection, so each attempt is preceded by
    /// `ASKING` in the same write (it admits only the next command to the importing slot).
    func run<T: Sendable>(
        on connection: RedisConnection, keys: [String], arguments: [any RESPArgument], asking: Bool = false,
        transform: @escaping @Sendable (RESPValue) throws -> T
    ) -> EventLoopFuture<T> {
        let evalsha = command("EVALSHA", Array(sha.utf8), keys: keys, arguments: arguments)
        let loop = connection.eventLoop
        let send: @Sendable (RESPCommand) -> EventLoopFuture<RESPValue> = { command in
            connection.enqueue(asking ? [RESPCommand("ASKING"), command] : [command]).map { $0.last ?? .null }
        }
        let chain: @Sendable () -> EventLoopFuture<T> = {
            send(evalsha).flatMap { reply -> EventLoopFuture<RESPValue> in
                if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
                    return send(command("EVAL", source, keys: keys, arguments: arguments))
                }
                return loop.makeSucceededFuture(reply)
            }.flatMapThrowing { reply in try transform(reply.checked()) }
        }
        return loop.inEventLoop ? chain() : loop.flatSubmit(chain)
    }
}
