import Foundation

/// The UI's files: embedded in the binary (no CDN, nothing fetched at run time), or read from
/// `admin.web_path` when set (to work on the UI without rebuilding).
struct AdminAssets: Sendable {
    struct Asset: Sendable {
        let contentType: String
        let bytes: [UInt8]
    }

    let directory: String?

    static let embedded: [String: Asset] = [
        "index.html": Asset(contentType: "text/html; charset=utf-8", bytes: PackageResources.index_html),
        "assets/admin.css": Asset(contentType: "text/css; charset=utf-8", bytes: PackageResources.admin_css),
        "assets/admin.js": Asset(contentType: "text/javascript; charset=utf-8", bytes: PackageResources.admin_js),
    ]

    func file(_ path: String) -> Asset? {
        // Client-side routes (no extension) get the page; the script routes itself.
        let name = path.contains(".") ? path : "index.html"
        guard let directory else { return Self.embedded[name] }
        guard !name.split(separator: "/").contains(".."), let data = FileManager.default.contents(atPath: directory + "/" + name) else {
            return nil
        }
        return Asset(contentType: Self.contentType(name), bytes: Array(data))
    }

    static func contentType(_ name: String) -> String {
        if name.hasSuffix(".html") { return "text/html; charset=utf-8" }
        if name.hasSuffix(".css") { return "text/css; charset=utf-8" }
        if name.hasSuffix(".js") { return "text/javascript; charset=utf-8" }
        if name.hasSuffix(".svg") { return "image/svg+xml" }
        if name.hasSuffix(".png") { return "image/png" }
        return "application/octet-stream"
    }
}
