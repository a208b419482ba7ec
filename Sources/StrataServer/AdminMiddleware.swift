import HTTPTypes
import Hummingbird
import NIOCore
import StrataAdmin
import StrataConfig
import StrataHTTP
import StrataHistory
import StrataLMDB

/// Hands the requests the router has no route for to the admin endpoints (StrataAdmin). A
/// fallback rather than routes: with the default empty prefix the admin UI owns every path
/// nothing else serves, as Centrifugo's catch-all admin handler does — and `/health` or
/// `/metrics` stay theirs.
struct AdminMiddleware: RouterMiddleware {
    typealias Context = StrataRequestContext
    let admin: AdminEndpoint

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            if let reply = try await answer(request, context: context) { return reply }
            throw error
        }
    }

    /// The admin endpoints' reply, or nil when the path is not under the admin prefix.
    private func answer(_ request: Request, context: Context) async throws -> Response? {
        var request = request
        let body = try await request.collectBody(upTo: 2 << 20)
        let adminRequest = AdminRequest(
            method: request.method.rawValue, target: request.uri.description, authorization: request.headers[.authorization],
            contentType: request.headers[.contentType], body: Array(buffer: body),
            peer: context.channel.remoteAddress?.ipAddress ?? "")
        guard let reply = await admin.respond(adminRequest) else { return nil }
        var headers = HTTPFields()
        if let type = reply.contentType { headers[.contentType] = type }
        if let location = reply.location { headers[.location] = location }
        headers[.cacheControl] = "no-store"
        return Response(
            status: HTTPResponse.Status(code: reply.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
    }

    /// What the status page shows of the history store.
    static func storeFigures(_ store: any HistoryStore, config: StrataConfig) -> @Sendable () -> [(String, StoreFigure)] {
        let engine = StoreFigure.text(config.engine.type)
        if let lmdb = store as? LMDBHistoryStore {
            let path = config.engine.lmdb.path
            return {
                var out: [(String, StoreFigure)] = [("engine", engine), ("path", .text(path))]
                if let s = try? lmdb.stats() {
                    out += [
                        ("channels", .number(s.channels)), ("publications", .number(s.entries)), ("map_size_bytes", .number(s.mapSize)),
                        ("map_used_bytes", .number(s.usedBytes)), ("file_bytes", .number(s.fileBytes)),
                    ]
                }
                return out
            }
        }
        let shards: [(String, StoreFigure)] = config.engine.type == "redis" ? [("redis_shards", .number(config.engine.redis.endpoints.count))] : []
        return { [("engine", engine)] + shards }
    }
}
