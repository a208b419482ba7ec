import StrataCore
import StrataProtocol

extension ServerAPI {
    /// `{"commands":[{"publish":{…}},…]}` ⇒ `{"replies":[{"publish":{…}},{"error":{…}}]}`, the
    /// commands already type-checked (`APIRequestSchema.checkBatch`). A command naming no known
    /// method is error 104; no commands at all answer `{}`.
    package func batch(_ params: JSONValue) async -> [UInt8] {
        var commands: [JSONValue] = []
        if case .array(let items)? = params["commands"] { commands = items }
        var w = JSONWriter()
        w.beginObject()
        if !commands.isEmpty {
            w.key("replies")
            w.beginArray()
            for command in commands {
                w.element()
                w.beginObject()
                do throws(APIFailure) {
                    guard case .object(let members) = command,
                        let first = members.first(where: { ServerAPI.methods.contains($0.key) && $0.key != "batch" })
                    else { throw .error(.apiNotFound) }
                    let result = try await call(first.key, first.value.isNull ? .object([]) : first.value)
                    w.key(first.key)
                    w.raw(result)
                } catch {
                    Self.writeError(&w, error)
                }
                w.endObject()
            }
            w.endArray()
        }
        w.endObject()
        return w.bytes
    }

    /// An API failure as the `error` member of a reply object.
    package static func writeError(_ w: inout JSONWriter, _ failure: APIFailure) {
        w.key("error")
        switch failure {
        case .error(let e): JSONReplyEncoder.errorObject(&w, e, includeTemporary: false)
        case .unencodable: JSONReplyEncoder.errorObject(&w, .apiInternal, includeTemporary: false)
        }
    }
}
