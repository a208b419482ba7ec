import Foundation

/// The ACME (RFC 8555) resources Strata reads, as the server sends them (only the fields used).
enum ACME {
    /// §7.1.1: where each kind of request goes.
    struct Directory: Decodable, Sendable {
        var newNonce: String
        var newAccount: String
        var newOrder: String
    }

    /// §7.1.3. `status`: pending, ready, processing, valid or invalid.
    struct Order: Decodable, Sendable {
        var status: String
        var authorizations: [String]
        var finalize: String
        var certificate: String?
        var error: Problem?
    }

    /// §7.1.4: one name to prove control of, and the ways to prove it.
    struct Authorization: Decodable, Sendable {
        struct Identifier: Decodable, Sendable {
            var type: String
            var value: String
        }
        var status: String
        var identifier: Identifier
        var challenges: [Challenge]
    }

    /// §8: `http-01` is the one Strata answers.
    struct Challenge: Decodable, Sendable {
        var type: String
        var url: String
        var status: String
        var token: String?
        var error: Problem?
    }

    /// RFC 7807 problem document (§6.7), e.g. `urn:ietf:params:acme:error:badNonce`.
    struct Problem: Decodable, Sendable, CustomStringConvertible {
        var type: String?
        var detail: String?

        var isBadNonce: Bool { type == "urn:ietf:params:acme:error:badNonce" }

        var description: String {
            let kind = type.map { $0.replacingOccurrences(of: "urn:ietf:params:acme:error:", with: "") } ?? "error"
            return detail.map { "\(kind): \($0)" } ?? kind
        }
    }
}

/// Why a certificate could not be had from the ACME server.
package struct ACMEError: Error, CustomStringConvertible {
    package let description: String

    package init(_ description: String) {
        self.description = description
    }
}
