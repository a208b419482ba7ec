import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import StrataConfig
import StrataCore
import StrataHub
import StrataProtocol

/// `POST {http_api.handler_prefix}/{method}` (server-api.md §1): API key, JSON in, JSON out,
/// errors in the body (default) or as HTTP statuses (`transport` error mode).
public enum HTTPAPIRoutes {
    static let maxBody = 16 * 1024 * 1024

    public static func register<Context: RequestContext>(on router: Router<Context>, node: Node) {
        let config = node.config.httpAPI
        guard !config.disabled else { return }
        let api = ServerAPI(node: node)
        let auth = APIAuth(key: config.key, insecure: config.insecure)
        let prefix = config.handlerPrefix.hasSuffix("/") ? String(config.handlerPrefix.dropLast()) : config.handlerPrefix
        for method in ServerAPI.methods {
            let path = RouterPath("\(prefix)/\(method)")
            router.post(path) { request, _ -> Response in
                guard auth.allows(request) else { return Response(status: .unauthorized) }
                let transportMode =
                    config.errorMode == "transport" || request.headers[HTTPField.Name("X-Centrifugo-Error-Mode")!] == "transport"
                let body: ByteBuffer
                do {
                    body = try await request.body.collect(upTo: maxBody)
                } catch {
                    return plain(.internalServerError, "Internal Server Error")
                }
                let bytes = Array(body.readableBytesView)
                let params: JSONValue
                do {
                    params = try JSONParser.parse(bytes)
                    guard case .object = params else { return plain(.badRequest, "Bad Request") }
                } catch {
                    return plain(.badRequest, "Bad Request")
                }
                if method == "batch" { return json(.ok, await batch(api, params)) }
                do throws(StrataError) {
                    let result = try await api.call(method, params)
                    var w = JSONWriter(capacity: result.count + 16)
                    w.beginObject()
                    w.key("result")
                    w.raw(result)
                    w.endObject()
                    return json(.ok, w.bytes)
                } catch {
                    return errorResponse(error, transportMode: transportMode)
                }
            }
            for other in [HTTPRequest.Method.get, .put, .delete, .patch] {
                router.on(path, method: other) { _, _ in Response(status: .methodNotAllowed) }
            }
        }
    }

    static func errorResponse(_ error: StrataError, transportMode: Bool) -> Response {
        var w = JSONWriter()
        if transportMode {
            JSONReplyEncoder.errorObject(&w, error, includeTemporary: false)
            let status: HTTPResponse.Status =
                switch error.code {
                case 102, 104: .notFound
                case 107, 108: .badRequest
                case 112: .rangeNotSatisfiable
                case 113: .conflict
                default: .internalServerError
                }
            return json(status, w.bytes)
        }
        w.beginObject()
        w.key("error")
        JSONReplyEncoder.errorObject(&w, error, includeTemporary: false)
        w.endObject()
        return json(.ok, w.bytes)
    }

    /// `{"commands":[{"publish":{…}},…]}` ⇒ `{"replies":[{"publish":{…}},{"error":{…}}]}`.
    static func batch(_ api: ServerAPI, _ params: JSONValue) async -> [UInt8] {
        var commands: [JSONValue] = []
        if case .array(let items)? = params["commands"] { commands = items }
        var replies: [[UInt8]] = []
        for command in commands {
            var w = JSONWriter()
            w.beginObject()
            do throws(StrataError) {
                guard case .object(let members) = command, let first = members.first else { throw .badRequest }
                guard ServerAPI.methods.contains(first.key), first.key != "batch" else { throw .apiNotFound }
                guard case .object = first.value else { throw .badRequest }
                let result = try await api.call(first.key, first.value)
                w.key(first.key)
                w.raw(result)
            } catch {
                w.key("error")
                JSONReplyEncoder.errorObject(&w, error, includeTemporary: false)
            }
            w.endObject()
            replies.append(w.bytes)
        }
        var w = JSONWriter()
        w.beginObject()
        w.key("replies")
        w.beginArray()
        for r in replies {
            w.element()
            w.raw(r)
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    static func json(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
