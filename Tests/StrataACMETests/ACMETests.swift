import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SwiftASN1
import Testing
import X509

@testable import StrataACME
@testable import StrataCore
import StrataHTTPClient

/// A self-signed certificate for `names`, valid from `from` to `until`, with its key's PEM.
func selfSigned(_ names: [String], from: Date = Date().addingTimeInterval(-3600), until: Date, key: P256.Signing.PrivateKey = .init())
    throws -> (certificate: String, key: String)
{
    let subject = try DistinguishedName { CommonName(names[0]) }
    let certificate = try Certificate(
        version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: from, notValidAfter: until,
        issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
        extensions: try Certificate.Extensions { SubjectAlternativeNames(names.map { GeneralName.dnsName($0) }) },
        issuerPrivateKey: .init(key))
    return (try certificate.serializeAsPEM().pemString + "\n", key.pemRepresentation + "\n")
}

@Suite struct AccountKeyTests {
    @Test func theJWKIsCanonicalAndTheThumbprintItsHash() throws {
        let key = AccountKey()
        let jwk = key.jwk
        #expect(jwk.hasPrefix(#"{"crv":"P-256","kty":"EC","x":""#))
        #expect(!jwk.contains(" "))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(jwk.utf8)) as? [String: String])
        #expect(Base64URL.decode(object["x"] ?? "")?.count == 32)
        #expect(Base64URL.decode(object["y"] ?? "")?.count == 32)
        #expect(key.thumbprint == Base64URL.encode(SHA256.hash(data: Array(jwk.utf8))))
        #expect(key.keyAuthorization(token: "tok") == "tok." + key.thumbprint)
    }

    @Test func aSignedRequestVerifiesAndCarriesNonceURLAndKey() throws {
        let key = AccountKey()
        for (payload, kid) in [(Array(#"{"a":1}"#.utf8), nil), (nil, "https://ca.test/acct/1")] as [([UInt8]?, String?)] {
            let body = try key.sign(payload: payload, url: "https://ca.test/new-order", nonce: "n\"once", kid: kid)
            let jws = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: String])
            let protected64 = try #require(jws["protected"])
            let headerBytes = try #require(Base64URL.decode(protected64))
            let header = try #require(try JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any])
            #expect(header["alg"] as? String == "ES256")
            #expect(header["nonce"] as? String == "n\"once")
            #expect(header["url"] as? String == "https://ca.test/new-order")
            if let kid {
                #expect(header["kid"] as? String == kid)
                #expect(header["jwk"] == nil)
                #expect(jws["payload"] == "")  // POST-as-GET
            } else {
                #expect(header["jwk"] is [String: Any])
                #expect(Base64URL.decode(jws["payload"] ?? "") == payload)
            }
            let signature = try P256.Signing.ECDSASignature(rawRepresentation: try #require(Base64URL.decode(jws["signature"] ?? "")))
            let input = Array("\(protected64).\(jws["payload"] ?? "")".utf8)
            #expect(key.privateKey.publicKey.isValidSignature(signature, for: input))
            #expect(!AccountKey().privateKey.publicKey.isValidSignature(signature, for: input))
        }
    }
}

@Suite struct CertificateRequestTests {
    @Test func theRequestNamesEveryHostAndIsSignedByTheKey() throws {
        let key = P256.Signing.PrivateKey()
        let der = try CertificateRequest.der(names: ["a.test", "b.test"], key: key)
        let request = try CertificateSigningRequest(derEncoded: der)
        #expect(request.publicKey == Certificate.PublicKey(key.publicKey))
        #expect(request.publicKey.isValidSignature(request.signature, for: request))
        let extensions = try #require(try request.attributes.extensionRequest).extensions
        let names = try #require(try extensions.subjectAlternativeNames)
        #expect(Array(names) == [.dnsName("a.test"), .dnsName("b.test")])
        #expect(request.subject.description.contains("a.test"))
        #expect(throws: ACMEError.self) { try CertificateRequest.der(names: [], key: key) }
    }
}

@Suite struct HostCertificateTests {
    @Test func aKeyAndChainAreReadBackWithTheirFigures() throws {
        let until = Date().addingTimeInterval(86_400).rounded
        let (chain, key) = try selfSigned(["a.test", "www.a.test"], until: until)
        let certificate = try HostCertificate(pem: key + chain)
        #expect(certificate.names == ["a.test", "www.a.test"])
        #expect(certificate.notValidAfter == until)
        #expect(certificate.covers("A.test") && certificate.covers("www.a.test") && !certificate.covers("b.test"))
        // What is cached reads back as the same.
        let again = try HostCertificate(pem: certificate.pem)
        #expect(again.chainPEM == certificate.chainPEM && again.keyPEM == certificate.keyPEM)
    }

    /// Go's autocert writes SEC1 keys (`EC PRIVATE KEY`): a Centrifugo cache reads as well.
    @Test func goAutocertsKeyFormatIsRead() throws {
        // A throwaway key made by `openssl ecparam -name prime256v1 -genkey -noout` for this test.
        let sec1 = """
            -----BEGIN EC PRIVATE KEY-----
            MHcCAQEEIPM3jbLV2Ln91+Xz8cf38e7gdffcvrYKTt5mNGt74FtRoAoGCCqGSM49
            AwEHoUQDQgAErHPp6hPDsKON0SBAUbOKasb2Tc10mIq+NvBNuSHnI5B7xshLMJ/j
            n/5kXrFPMQCfMj/v5UTFCdq/ISocz+c3Vg==
            -----END EC PRIVATE KEY-----

            """
        let key = try P256.Signing.PrivateKey(pemRepresentation: sec1)
        let (chain, _) = try selfSigned(["a.test"], until: Date().addingTimeInterval(86_400), key: key)
        let certificate = try HostCertificate(pem: sec1 + chain)
        #expect(certificate.names == ["a.test"])
        #expect(certificate.keyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))  // rewritten as PKCS #8
    }

    @Test func unusableTextIsRefusedWithTheReason() throws {
        let (chain, key) = try selfSigned(["a.test"], until: Date().addingTimeInterval(86_400))
        let (_, otherKey) = try selfSigned(["a.test"], until: Date().addingTimeInterval(86_400))
        func reason(_ text: String) -> String {
            do {
                _ = try HostCertificate(pem: text)
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(reason(chain).contains("no private key"))
        #expect(reason(key).contains("no certificate"))
        #expect(reason(otherKey + chain).contains("not for the key"))
        #expect(reason("garbage").contains("no private key") || reason("garbage").contains("not PEM"))
    }
}

@Suite struct CertificateCacheTests {
    @Test func filesAreWrittenWholeAndPrivate() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("acme-cache-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = CertificateCache(directory: directory + "/nested")
        #expect(cache.read("a.test") == nil)
        try cache.write("a.test", "one")
        try cache.write("a.test", "two")
        #expect(cache.read("a.test") == "two")
        let attributes = try FileManager.default.attributesOfItem(atPath: cache.path("a.test"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let directoryAttributes = try FileManager.default.attributesOfItem(atPath: directory + "/nested")
        #expect((directoryAttributes[.posixPermissions] as? Int) == 0o700)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/nested") == ["a.test"])  // no temporary left
    }

    @Test func withoutADirectoryNothingIsKept() throws {
        let cache = CertificateCache(directory: "")
        try cache.write("a.test", "x")
        #expect(cache.read("a.test") == nil)
    }
}

@Suite struct CertificateManagerTests {
    func manager(hosts: [String], cache: String = "", renewBefore: Duration = .seconds(30 * 86_400)) -> CertificateManager {
        CertificateManager(
            options: .init(
                hosts: hosts, defaultHost: hosts[0], directoryURL: "https://127.0.0.1:1/dir", directoryTrustRoots: "", email: "",
                cacheDirectory: cache, renewBefore: renewBefore),
            logger: Logger(label: "test"))
    }

    @Test func renewalIsDueRenewBeforeExpiryOrTwoThirdsIntoAShortLife() throws {
        let m = manager(hosts: ["a.test"])
        let now = Date().rounded
        let long = try HostCertificate(pem: { let p = try selfSigned(["a.test"], from: now, until: now.addingTimeInterval(90 * 86_400)); return p.key + p.certificate }())
        #expect(m.renewalTime(long) == now.addingTimeInterval(60 * 86_400))
        let short = try HostCertificate(pem: { let p = try selfSigned(["a.test"], from: now, until: now.addingTimeInterval(3 * 86_400)); return p.key + p.certificate }())
        #expect(m.renewalTime(short) == now.addingTimeInterval(2 * 86_400))
    }

    @Test func theCacheIsUsedOnlyForAValidCertificateOfTheHost() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("acme-manager-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let m = manager(hosts: ["a.test", "b.test"], cache: directory)
        let cache = CertificateCache(directory: directory)
        let valid = try selfSigned(["a.test"], until: Date().addingTimeInterval(86_400))
        try cache.write("a.test", valid.key + valid.certificate)
        #expect(m.cachedCertificate("a.test")?.names == ["a.test"])
        try cache.write("b.test", valid.key + valid.certificate)  // another host's
        #expect(m.cachedCertificate("b.test") == nil)
        let expired = try selfSigned(["b.test"], from: Date().addingTimeInterval(-7200), until: Date().addingTimeInterval(-60))
        try cache.write("b.test", expired.key + expired.certificate)
        #expect(m.cachedCertificate("b.test") == nil)
    }

    @Test func aHandshakeGetsItsHostsCertificateOrTheDefault() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("acme-sni-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = CertificateCache(directory: directory)
        for host in ["a.test", "b.test"] {
            let pair = try selfSigned([host], until: Date().addingTimeInterval(86_400))
            try cache.write(host, pair.key + pair.certificate)
        }
        let m = manager(hosts: ["a.test", "b.test"], cache: directory)
        try await m.prepare()  // both cached: the CA (unreachable here) is not asked
        func leafName(_ serverName: String?) throws -> String? {
            let chain = m.override(serverName: serverName).certificateChain ?? []
            guard case .certificate(let leaf) = chain.first else { return nil }
            let names = try Certificate(derEncoded: try leaf.toDERBytes()).extensions.subjectAlternativeNames
            guard case .dnsName(let name) = names?.first else { return nil }
            return name
        }
        #expect(try leafName("b.test") == "b.test")
        #expect(try leafName("B.TEST") == "b.test")
        #expect(try leafName(nil) == "a.test")
        #expect(try leafName("other.test") == "a.test")
    }

    @Test func withoutACertificateAndWithoutTheCATheStartFailsNamingBoth() async throws {
        let m = manager(hosts: ["a.test"])
        await #expect {
            try await m.prepare()
        } throws: { error in
            let text = "\(error)"
            return text.contains("a.test") && text.contains("https://127.0.0.1:1/dir") && text.contains("no cache_dir")
        }
    }
}

@Suite struct ChallengeListenerTests {
    @Test func tokensAreAnsweredAndEverythingElseSentToHTTPS() async throws {
        // Loops of its own: tests running beside this one may keep the shared loops busy.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let tokens = ChallengeTokens()
        let listener = ChallengeListener(host: "127.0.0.1", port: 0, tokens: tokens, httpsPort: 8443, logger: Logger(label: "test"))
        try await listener.bind(group: group)
        let port = try #require(listener.boundPort)
        let http = try OutboundHTTPClient(timeout: .seconds(20), group: group)
        defer {
            Task {
                await listener.close()
                try? await group.shutdownGracefully()
            }
        }
        let base = "http://127.0.0.1:\(port)"
        tokens.add(token: "tok123", keyAuthorization: "tok123.thumb")

        let answer = try await http.get(base + "/.well-known/acme-challenge/tok123")
        #expect(answer.status == 200)
        #expect(String(decoding: answer.body, as: UTF8.self) == "tok123.thumb")
        #expect(try await http.get(base + "/.well-known/acme-challenge/other").status == 404)
        tokens.remove(token: "tok123")
        #expect(try await http.get(base + "/.well-known/acme-challenge/tok123").status == 404)

        let redirect = try await http.get(base + "/connection/websocket?x=1")
        #expect(redirect.status == 302)
        #expect(redirect.headers.first(name: "Location") == "https://127.0.0.1:8443/connection/websocket?x=1")
        #expect(try await http.post(base + "/api/publish", body: Array("{}".utf8), contentType: "application/json").status == 400)
    }

    @Test func anUnreachableServerIsAnErrorNamingTheURL() async throws {
        let http = try OutboundHTTPClient(timeout: .seconds(5))
        await #expect {
            _ = try await http.get("https://127.0.0.1:1/dir")
        } throws: { "\($0)".contains("https://127.0.0.1:1/dir") }
        await #expect(throws: OutboundHTTPClient.Failure.self) { _ = try await http.get("ftp://x/") }
    }
}

extension Date {
    /// Whole seconds, as a certificate stores its dates.
    var rounded: Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.down)) }
}
