import StrataHTTP

/// The `password` field of a login: from a URL-encoded or multipart body (the UI sends
/// multipart), or the query string, as Go's `FormValue` reads it.
enum AdminForm {
    static let maxBody = 1 << 20

    static func password(body: [UInt8], contentType: String?, query: Substring?) -> String? {
        let type = (contentType ?? "").lowercased()
        if body.count <= maxBody {
            if type.hasPrefix("application/x-www-form-urlencoded"),
                let v = QueryString.value(of: "password", in: Substring(String(decoding: body, as: UTF8.self)))
            {
                return v
            }
            if type.hasPrefix("multipart/form-data"), let boundary = boundary(contentType ?? ""),
                let v = multipartField("password", body: body, boundary: boundary)
            {
                return v
            }
        }
        return query.flatMap { QueryString.value(of: "password", in: $0) }
    }

    static func boundary(_ contentType: String) -> String? {
        for part in contentType.split(separator: ";") {
            let p = part.trimmingPrefix(" ")
            if p.lowercased().hasPrefix("boundary=") {
                var b = String(p.dropFirst("boundary=".count))
                if b.hasPrefix("\""), b.hasSuffix("\""), b.count >= 2 { b = String(b.dropFirst().dropLast()) }
                return b.isEmpty ? nil : b
            }
        }
        return nil
    }

    /// The value of the part named `name` (its headers end at the first blank line, its value at
    /// the CRLF before the next delimiter).
    static func multipartField(_ name: String, body: [UInt8], boundary: String) -> String? {
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [ArraySlice<UInt8>] = []
        var start: Int?
        var i = 0
        while i + delimiter.count <= body.count {
            if body[i..<(i + delimiter.count)].elementsEqual(delimiter) {
                if let s = start { parts.append(body[s..<i]) }
                i += delimiter.count
                start = i
            } else {
                i += 1
            }
        }
        let blank: [UInt8] = [13, 10, 13, 10]
        for part in parts {
            guard let headerEnd = firstIndex(of: blank, in: part) else { continue }
            let headers = String(decoding: part[part.startIndex..<headerEnd], as: UTF8.self).lowercased()
            guard headers.contains("name=\"\(name.lowercased())\"") else { continue }
            var value = part[(headerEnd + 4)...]
            if value.suffix(2).elementsEqual([13, 10]) { value = value.dropLast(2) }
            return String(decoding: value, as: UTF8.self)
        }
        return nil
    }

    private static func firstIndex(of needle: [UInt8], in hay: ArraySlice<UInt8>) -> Int? {
        guard hay.count >= needle.count else { return nil }
        var i = hay.startIndex
        while i + needle.count <= hay.endIndex {
            if hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
