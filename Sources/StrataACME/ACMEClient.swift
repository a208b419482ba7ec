import Crypto
import Foundation
import Logging
import NIOHTTP1
import StrataCore
import StrataHTTPClient

/// An ACME v2 client (RFC 8555) that gets certificates with the HTTP-01 challenge: registers
/// (or finds) the account of its key, orders a certificate for some names, has the server
/// fetch each name's key authorization from `ChallengeTokens`, finalizes the order with a CSR
/// and downloads the chain.
///
/// An actor: the replay nonce and the account URL are state that successive requests share.
package actor ACMEClient {
    let directoryURL: String
    let http: OutboundHTTPClient
    let key: AccountKey
    let email: String
    let challenges: ChallengeTokens
    let logger: Logger
    /// How long one issuance may take, validation and finalization included.
    let deadline: Duration

    private var directory: ACME.Directory?
    private var nonce: String?
    private var accountURL: String?

    package init(
        directoryURL: String, http: OutboundHTTPClient, key: AccountKey, email: String, challenges: ChallengeTokens, logger: Logger,
        deadline: Duration = .seconds(180)
    ) {
        self.directoryURL = directoryURL
        self.http = http
        self.key = key
        self.email = email
        self.challenges = challenges
        self.logger = logger
        self.deadline = deadline
    }

    /// A certificate chain (PEM, leaf first) for `names`, whose key is `certificateKey`.
    package func issue(names: [String], certificateKey: P256.Signing.PrivateKey) async throws -> String {
        let until = ContinuousClock.now + deadline
        let account = try await account()
        let identifiers = names.map { ["type": "dns", "value": $0] }
        let (orderURL, created) = try await post(directory().newOrder, json: ["identifiers": identifiers], kid: account)
        guard let orderURL = orderURL ?? created.headers.first(name: "Location") else {
            throw ACMEError("the ACME server's new order has no Location")
        }
        var order = try decode(ACME.Order.self, created)
        for authorizationURL in order.authorizations {
            try await authorize(authorizationURL, account: account, until: until)
        }
        let csr = try CertificateRequest.der(names: names, key: certificateKey)
        order = try decode(ACME.Order.self, try await post(order.finalize, json: ["csr": Base64URL.encode(csr)], kid: account).1)
        while order.status != "valid" {
            guard order.status == "processing" || order.status == "ready" || order.status == "pending" else {
                throw ACMEError("order for \(names.joined(separator: ", ")) is \(order.status)\(order.error.map { ": \($0)" } ?? "")")
            }
            try await pause(until: until, what: "the order for \(names.joined(separator: ", "))")
            order = try decode(ACME.Order.self, try await post(orderURL, json: nil, kid: account).1)
        }
        guard let certificateURL = order.certificate else { throw ACMEError("a valid order without a certificate URL") }
        let chain = try await post(certificateURL, json: nil, kid: account).1
        return String(decoding: chain.body, as: UTF8.self)
    }

    /// Proves control of one name unless the server already holds a valid authorization.
    private func authorize(_ url: String, account: String, until: ContinuousClock.Instant) async throws {
        var authorization = try decode(ACME.Authorization.self, try await post(url, json: nil, kid: account).1)
        if authorization.status == "valid" { return }
        let name = authorization.identifier.value
        guard let challenge = authorization.challenges.first(where: { $0.type == "http-01" }), let token = challenge.token else {
            throw ACMEError("the ACME server offers no http-01 challenge for \(name) (Strata answers only that one)")
        }
        challenges.add(token: token, keyAuthorization: key.keyAuthorization(token: token))
        defer { challenges.remove(token: token) }
        logger.debug("answering the ACME http-01 challenge", metadata: ["name": "\(name)"])
        // An empty JSON object tells the server to go and fetch the key authorization.
        _ = try await post(challenge.url, json: [String: String](), kid: account)
        while true {
            authorization = try decode(ACME.Authorization.self, try await post(url, json: nil, kid: account).1)
            switch authorization.status {
            case "valid":
                return
            case "pending", "processing":
                try await pause(until: until, what: "the validation of \(name)")
            default:
                let reason = authorization.challenges.first(where: { $0.type == "http-01" })?.error.map { "\($0)" } ?? authorization.status
                throw ACMEError("the ACME server could not validate \(name): \(reason)")
            }
        }
    }

    /// The account URL of this key: `newAccount` creates it, or finds it when it exists.
    private func account() async throws -> String {
        if let accountURL { return accountURL }
        var payload: [String: Any] = ["termsOfServiceAgreed": true]
        if !email.isEmpty { payload["contact"] = ["mailto:" + email] }
        let (location, _) = try await post(try await directory().newAccount, json: payload, kid: nil)
        guard let location else { throw ACMEError("the ACME server's new account has no Location") }
        accountURL = location
        return location
    }

    private func directory() async throws -> ACME.Directory {
        if let directory { return directory }
        let response = try await http.get(directoryURL)
        guard response.status == 200 else { throw ACMEError("ACME directory \(directoryURL) answered \(response.status)") }
        let directory = try decode(ACME.Directory.self, response)
        self.directory = directory
        return directory
    }

    /// A signed POST (`json` nil: POST-as-GET). A `badNonce` refusal is retried with the nonce
    /// it came with, as RFC 8555 §6.5 says to; any other problem is thrown.
    private func post(_ url: String, json: Any?, kid: String?) async throws -> (location: String?, OutboundHTTPClient.Response) {
        let payload = try json.map { try Array(JSONSerialization.data(withJSONObject: $0, options: [.withoutEscapingSlashes])) }
        for _ in 0..<8 {
            let nonce = try await takeNonce()
            let body = try key.sign(payload: payload, url: url, nonce: nonce, kid: kid)
            let response = try await http.post(url, body: body, contentType: "application/jose+json")
            self.nonce = response.headers.first(name: "Replay-Nonce")
            if response.status < 400 { return (response.headers.first(name: "Location"), response) }
            let problem = try? JSONDecoder().decode(ACME.Problem.self, from: Data(response.body))
            if problem?.isBadNonce == true {
                logger.debug("the ACME server refused the replay nonce: retrying with a fresh one", metadata: ["url": "\(url)"])
                continue
            }
            throw ACMEError("\(url) answered \(response.status)\(problem.map { ": \($0)" } ?? "")")
        }
        throw ACMEError("\(url) refused the replay nonce eight times in a row")
    }

    private func takeNonce() async throws -> String {
        if let nonce {
            self.nonce = nil
            return nonce
        }
        let response = try await http.head(try await directory().newNonce)
        guard let nonce = response.headers.first(name: "Replay-Nonce") else {
            throw ACMEError("the ACME server's newNonce (\(response.status)) sent no Replay-Nonce")
        }
        return nonce
    }

    private func pause(until: ContinuousClock.Instant, what: String) async throws {
        guard ContinuousClock.now < until else { throw ACMEError("gave up waiting for \(what) after \(deadline)") }
        try await Task.sleep(for: .milliseconds(500))
    }

    private func decode<T: Decodable>(_ type: T.Type, _ response: OutboundHTTPClient.Response) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(response.body))
        } catch {
            throw ACMEError("the ACME server sent an unreadable \(T.self) (\(error))")
        }
    }
}
