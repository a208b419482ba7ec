/// Secret comparisons (API keys, the admin password) that do not stop at the first difference,
/// so the time taken says nothing of where a guess went wrong; only the length can show.
package enum ConstantTime {
    package static func equals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }
}
