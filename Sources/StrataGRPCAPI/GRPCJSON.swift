import Foundation
import StrataProtocol

/// Between the gRPC API's messages and the server API's JSON (the HTTP API's request and result
/// objects, which `ServerAPI` runs). swift-protobuf writes a request as proto3 JSON with the
/// proto's field names; the differences are the `bytes` fields, which proto3 JSON writes as
/// base64 and the HTTP API takes as raw JSON. So:
/// - in a request, `data` and `info` (base64) become `b64data` and `b64info`, which the HTTP API
///   already takes for binary payloads (`params` of `rpc` is not read);
/// - in a result, `data`, `conn_info` and `chan_info` (raw JSON) become base64 of that JSON.
enum GRPCJSON {
    static let requestRenames = ["data": "b64data", "info": "b64info"]
    static let resultBytesFields: Set<String> = ["data", "conn_info", "chan_info"]

    /// The request as the server API's JSON object.
    static func request(_ json: [UInt8]) throws -> JSONValue {
        let value = try JSONParser.parse(json)
        var w = JSONWriter()
        write(value, &w) { member, siblings, w in
            guard let renamed = requestRenames[member.key], case .string = member.value else { return false }
            // A non-empty b64data (the proto has both) wins, as in Centrifugo.
            if siblings.contains(where: { $0.key == renamed }) { return true }
            w.key(renamed)
            write(member.value, &w) { _, _, _ in false }
            return true
        }
        return try JSONParser.parse(w.bytes)
    }

    /// The response message's JSON: `{"result": …}` (the batch's replies object as it is), with
    /// the result's payloads as base64.
    static func response(result: [UInt8], wrapped: Bool) throws -> [UInt8] {
        let value = try JSONParser.parse(result)
        var w = JSONWriter()
        if wrapped {
            w.beginObject()
            w.key("result")
        }
        write(value, &w) { member, _, w in
            guard resultBytesFields.contains(member.key) else { return false }
            w.key(member.key)
            w.string(Data(JSONParser.compact(member.raw)).base64EncodedString())
            return true
        }
        if wrapped { w.endObject() }
        return w.bytes
    }

    /// Writes `value`, letting `custom` write any object member itself, seeing its siblings
    /// (true: handled).
    static func write(_ value: JSONValue, _ w: inout JSONWriter, member custom: (JSONMember, [JSONMember], inout JSONWriter) -> Bool) {
        switch value {
        case .null: w.null()
        case .bool(let b): w.bool(b)
        case .number(let text): w.raw(Array(text.utf8))
        case .string(let s): w.string(s)
        case .array(let items):
            w.beginArray()
            for item in items {
                w.element()
                write(item, &w, member: custom)
            }
            w.endArray()
        case .object(let members):
            w.beginObject()
            for m in members where !custom(m, members, &w) {
                w.key(m.key)
                write(m.value, &w, member: custom)
            }
            w.endObject()
        }
    }
}
