import Foundation
import StrataProtocol

/// The JSON of proxy requests as Centrifugo's Go encoder writes it: compact, keys in the proto's
/// field order (the writer follows the caller), embedded payloads compacted, and `<`, `>`, `&`,
/// U+2028 and U+2029 escaped (Go's HTML-safe default). Those characters can only stand inside
/// strings in valid JSON, so escaping them over the finished body is exact.
enum ProxyJSON {
    static func htmlSafe(_ json: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(json.count + 16)
        var i = 0
        while i < json.count {
            let b = json[i]
            switch b {
            case UInt8(ascii: "<"): out += Array(#"\u003c"#.utf8)
            case UInt8(ascii: ">"): out += Array(#"\u003e"#.utf8)
            case UInt8(ascii: "&"): out += Array(#"\u0026"#.utf8)
            case 0xE2 where i + 2 < json.count && json[i + 1] == 0x80 && (json[i + 2] == 0xA8 || json[i + 2] == 0xA9):
                out += Array((json[i + 2] == 0xA8 ? #"\u2028"# : #"\u2029"#).utf8)
                i += 2
            default: out.append(b)
            }
            i += 1
        }
        return out
    }

    /// The fields every request starts with: the connection and how it speaks.
    static func common(_ w: inout JSONWriter, client: String, transport: String, protocolName: String, binary: Bool) {
        w.key("client")
        w.string(client)
        w.key("transport")
        w.string(transport)
        w.key("protocol")
        w.string(protocolName)
        w.key("encoding")
        w.string(binary ? "binary" : "json")
    }

    /// The fields every request but connect's starts with, `user` always.
    static func connection(_ w: inout JSONWriter, _ c: ProxyConnection, binary: Bool) {
        common(&w, client: c.client, transport: c.transport, protocolName: c.protocolName, binary: binary)
        w.key("user")
        w.string(c.user)
    }

    /// The connection's `meta` (raw JSON, compacted), when the proxy includes it and there is one.
    static func meta(_ w: inout JSONWriter, _ c: ProxyConnection, include: Bool) {
        guard include, let meta = c.meta, !meta.isEmpty, let json = embedded(meta) else { return }
        w.key("meta")
        w.raw(json)
    }

    static func channel(_ w: inout JSONWriter, _ channel: String) {
        guard !channel.isEmpty else { return }
        w.key("channel")
        w.string(channel)
    }

    /// `data` embedded as JSON, or with `binary` `b64data` (standard base64); nothing when
    /// empty. False when it must be JSON and is not.
    static func payload(_ w: inout JSONWriter, _ data: [UInt8]?, binary: Bool) -> Bool {
        guard let data, !data.isEmpty else { return true }
        if binary {
            w.key("b64data")
            w.string(Data(data).base64EncodedString())
            return true
        }
        guard let json = embedded(data) else { return false }
        w.key("data")
        w.raw(json)
        return true
    }

    /// An embedded payload as Go re-emits it: compact; nil when it is not JSON (the call then
    /// fails, as Centrifugo's does).
    static func embedded(_ raw: [UInt8]) -> [UInt8]? {
        JSONParser.isValid(raw) ? JSONParser.compact(raw) : nil
    }
}
