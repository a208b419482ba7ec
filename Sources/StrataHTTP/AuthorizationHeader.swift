/// `Authorization: <scheme> <credential>` as the server API (`apikey`) and the admin UI
/// (`token`) read it: exactly two parts separated by blanks, the scheme in any case.
package enum AuthorizationHeader {
    /// The credential of `header` when its scheme is `scheme`, else nil.
    package static func credential(_ header: String, scheme: String) -> String? {
        let parts = header.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 2, parts[0].lowercased() == scheme else { return nil }
        return String(parts[1])
    }
}
