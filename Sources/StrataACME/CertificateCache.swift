import Foundation
import Glibc

/// `tls_autocert.cache_dir`: the ACME account key and each host's key and chain, one file each,
/// named as Go's autocert names them (`acme_account+key`, the host name), so that a directory
/// Centrifugo filled can be taken over and the other way round. An empty directory path keeps
/// nothing (a new account and new certificates at every start, as Centrifugo without a cache).
package struct CertificateCache: Sendable {
    package static let accountKeyName = "acme_account+key"

    package let directory: String

    package init(directory: String) {
        self.directory = directory
    }

    package var isEnabled: Bool { !directory.isEmpty }

    package func path(_ name: String) -> String {
        (directory as NSString).appendingPathComponent(name)
    }

    /// The file's text; nil when there is no cache or no such file.
    package func read(_ name: String) -> String? {
        guard isEnabled else { return nil }
        return try? String(contentsOfFile: path(name), encoding: .utf8)
    }

    /// Writes through a temporary file and a rename (a crash leaves the old file or the new one,
    /// never half of one), readable by the server's user only: the files hold private keys.
    package func write(_ name: String, _ text: String) throws {
        guard isEnabled else { return }
        let manager = FileManager.default
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temporary = path(".\(name).\(ProcessInfo.processInfo.processIdentifier).tmp")
        guard manager.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ACMEError("cannot write \(temporary)")
        }
        guard rename(temporary, path(name)) == 0 else {
            let reason = String(cString: strerror(errno))
            try? manager.removeItem(atPath: temporary)
            throw ACMEError("cannot write \(path(name)): \(reason)")
        }
    }
}
