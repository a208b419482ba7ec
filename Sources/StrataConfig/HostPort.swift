/// Listen addresses (`host:port`, `:port`, `[v6]:port`) and host names as config values.
enum HostPort {
    /// Host (empty: every interface; brackets taken off an IPv6 address) and port; nil when
    /// not of that form or the port is not 1…65535.
    static func parse(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            return nil
        }
        var host = Substring(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        return (String(host), port)
    }

    /// Why a name cannot be asked a certificate for with HTTP-01 (nil when it can): letters,
    /// digits and hyphens in dot-separated labels of at most 63, 253 in all; no wildcard (that
    /// takes DNS-01) and no address.
    static func dnsNameProblem(_ name: String) -> String? {
        if name.hasPrefix("*.") { return "is a wildcard, which needs the DNS-01 challenge (Strata answers HTTP-01)" }
        guard !name.isEmpty, name.utf8.count <= 253 else { return "is not a host name" }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-",
                label.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 })
            else { return "is not a host name" }
        }
        if labels.count == 4 && labels.allSatisfy({ $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }) {
            return "is an IP address: ACME certificates here are for host names"
        }
        return nil
    }
}
