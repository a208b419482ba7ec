import Foundation
import StrataProtocol
import Testing

@testable import StrataGRPCAPI

/// The detour through the HTTP API's JSON: bytes fields, names, nesting.
@Suite struct GRPCJSONTests {
    func text(_ v: JSONValue) -> String {
        var w = JSONWriter()
        GRPCJSON.write(v, &w) { _, _, _ in false }
        return String(decoding: w.bytes, as: UTF8.self)
    }

    @Test func requestBytesBecomeTheHTTPAPIsBase64Fields() throws {
        let proto = #"{"channel":"news:1","data":"eyJ4IjoxfQ==","tags":{"k":"v"},"version":"5"}"#
        #expect(text(try GRPCJSON.request(Array(proto.utf8))) == #"{"channel":"news:1","b64data":"eyJ4IjoxfQ==","tags":{"k":"v"},"version":"5"}"#)
        // An explicit b64data wins; info too; nested in a batch.
        let both = #"{"data":"AA==","b64data":"AQ=="}"#
        #expect(text(try GRPCJSON.request(Array(both.utf8))) == #"{"b64data":"AQ=="}"#)
        let batch = #"{"commands":[{"publish":{"channel":"a","data":"e30="}},{"subscribe":{"user":"u","channel":"b","info":"e30="}}]}"#
        #expect(
            text(try GRPCJSON.request(Array(batch.utf8)))
                == #"{"commands":[{"publish":{"channel":"a","b64data":"e30="}},{"subscribe":{"user":"u","channel":"b","b64info":"e30="}}]}"#)
    }

    @Test func resultPayloadsBecomeBase64() throws {
        let result = #"{"publications":[{"data":{ "x" : 1 },"info":{"user":"u","client":"c","conn_info":{"n":"R"},"chan_info":[1]},"offset":3}],"epoch":"e","offset":3}"#
        let body = String(decoding: try GRPCJSON.response(result: Array(result.utf8), wrapped: true), as: UTF8.self)
        let x = Data(#"{"x":1}"#.utf8).base64EncodedString()
        let n = Data(#"{"n":"R"}"#.utf8).base64EncodedString()
        let one = Data("[1]".utf8).base64EncodedString()
        #expect(
            body
                == #"{"result":{"publications":[{"data":"\#(x)","info":{"user":"u","client":"c","conn_info":"\#(n)","chan_info":"\#(one)"},"offset":3}],"epoch":"e","offset":3}}"#
        )
        let replies = #"{"replies":[{"publish":{"offset":1}},{"error":{"code":102,"message":"unknown channel"}}]}"#
        #expect(String(decoding: try GRPCJSON.response(result: Array(replies.utf8), wrapped: false), as: UTF8.self) == replies)
    }
}
