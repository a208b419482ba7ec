import Foundation

/// A PEM setting as Centrifugo takes it (`http_server.tls.cert_pem`, `key_pem`, `client_ca_pem`):
/// the PEM text itself, a path to a file holding it, or the PEM text base64-encoded (handy in
/// an environment variable).
package enum PEMSource {
    /// The PEM text of `value`, or why there is none.
    package static func resolve(_ value: String) -> Result<String, PEMError> {
        if value.contains("-----BEGIN ") { return .success(value) }
        if FileManager.default.fileExists(atPath: value) {
            guard let data = FileManager.default.contents(atPath: value) else { return .failure(.unreadable(value)) }
            let text = String(decoding: data, as: UTF8.self)
            return text.contains("-----BEGIN ") ? .success(text) : .failure(.notPEM("the file \(value) holds no PEM block"))
        }
        let compact = value.filter { !$0.isWhitespace }
        if let data = Data(base64Encoded: compact), let text = String(data: data, encoding: .utf8), text.contains("-----BEGIN ") {
            return .success(text)
        }
        if value.hasPrefix("/") || value.hasPrefix(".") || value.hasSuffix(".pem") || value.hasSuffix(".crt") || value.hasSuffix(".key") {
            return .failure(.notPEM("no file \(value)"))
        }
        return .failure(.notPEM("neither PEM text, a file, nor base64-encoded PEM"))
    }

    package enum PEMError: Error, Equatable {
        case unreadable(String)
        case notPEM(String)

        package var message: String {
            switch self {
            case .unreadable(let path): "the file \(path) cannot be read"
            case .notPEM(let why): why
            }
        }
    }
}
