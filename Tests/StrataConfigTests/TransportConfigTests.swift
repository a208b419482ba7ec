import StrataConfig
import Testing

/// The transports' keys (docs/transports.md): defaults, the endpoints, the connect-code transforms.
@Suite("Transport configuration")
struct TransportConfigTests {
    @Test func defaultsAreOff() throws {
        let c = try decodeJSON("{}")
        #expect(!c.httpStream.enabled && !c.sse.enabled && !c.uniSSE.enabled && !c.uniHTTPStream.enabled && !c.uniWebSocket.enabled)
        #expect(c.httpStream.handlerPrefix == "/connection/http_stream" && c.sse.handlerPrefix == "/connection/sse")
        #expect(c.emulation.handlerPrefix == "/emulation" && c.emulation.maxRequestBodySize == 65536)
        #expect(!c.websocket.compression && c.websocket.compressionLevel == 1 && c.websocket.compressionMinSize == 0)
        #expect(c.client.connectCodeToUnidirectionalDisconnect == nil && c.uniSSE.connectCodeToHTTPResponse == nil)
    }

    @Test func endpointsAndCompressionAreRead() throws {
        let c = try decodeJSON(
            #"{"http_stream":{"enabled":true,"max_request_body_size":100},"sse":{"enabled":true,"handler_prefix":"/s"},"#
                + #""uni_websocket":{"enabled":true,"join_push_messages":true},"websocket":{"compression":true,"compression_min_size":128,"compression_level":5}}"#)
        #expect(c.httpStream.enabled && c.httpStream.maxRequestBodySize == 100 && c.sse.handlerPrefix == "/s")
        #expect(c.uniWebSocket.enabled && c.uniWebSocket.joinPushMessages)
        #expect(c.websocket.compression && c.websocket.compressionMinSize == 128 && c.websocket.compressionLevel == 5)
        #expect(c.unknownKeys.isEmpty)
    }

    @Test func environmentEnablesATransport() throws {
        let c = try decodeJSON("{}", env: ["CENTRIFUGO_UNI_SSE_ENABLED": "true"])
        #expect(c.uniSSE.enabled)
    }

    @Test func transformsAreReadWhenEnabled() throws {
        let c = try decodeJSON(
            #"{"uni_http_stream":{"enabled":true,"connect_code_to_http_response":{"enabled":true,"transforms":[{"code":3500,"to":{"status_code":401}}]}},"#
                + #""client":{"connect_code_to_unidirectional_disconnect":{"enabled":true,"transforms":[{"code":109,"to":{"code":4109,"reason":"renew"}}]}}}"#)
        let http = try #require(c.uniHTTPStream.connectCodeToHTTPResponse)
        #expect(http.count == 1 && http[0].code == 3500 && http[0].statusCode == 401 && http[0].body.isEmpty)
        let uni = try #require(c.client.connectCodeToUnidirectionalDisconnect)
        #expect(uni.count == 1 && uni[0].code == 109 && uni[0].toCode == 4109 && uni[0].reason == "renew")
        #expect(c.unknownKeys.isEmpty)
    }

    @Test func transformsWithoutCodesAreRefused() {
        let errors = configErrors(
            #"{"uni_sse":{"connect_code_to_http_response":{"enabled":true,"transforms":[{"code":0,"to":{"status_code":0}}]}}}"#)
        #expect(errors.at("uni_sse.connect_code_to_http_response.transforms[0].code") != nil)
        #expect(errors.at("uni_sse.connect_code_to_http_response.transforms[0].to.status_code") != nil)
    }

    @Test func disabledTransformsAreIgnored() throws {
        let c = try decodeJSON(#"{"uni_sse":{"connect_code_to_http_response":{"enabled":false,"transforms":[{"code":0}]}}}"#)
        #expect(c.uniSSE.connectCodeToHTTPResponse == nil)
    }

    @Test func uniGRPCIsReadAndNeedsItsOwnPort() throws {
        let c = try decodeJSON(#"{"uni_grpc":{"enabled":true,"address":"127.0.0.1","port":12000,"max_receive_message_size":1024}}"#)
        #expect(c.uniGRPC.enabled && c.uniGRPC.address == "127.0.0.1" && c.uniGRPC.port == 12000 && c.uniGRPC.maxReceiveMessageSize == 1024)
        #expect(c.unknownKeys.isEmpty)
        let d = try decodeJSON("{}")
        #expect(!d.uniGRPC.enabled && d.uniGRPC.port == 11000 && d.uniGRPC.maxReceiveMessageSize == 4 * 1024 * 1024)
        #expect(configErrors(#"{"http_server":{"port":9000},"uni_grpc":{"enabled":true,"port":9000}}"#).at("uni_grpc.port") != nil)
        #expect(configErrors(#"{"grpc_api":{"enabled":true,"port":9001},"uni_grpc":{"enabled":true,"port":9001}}"#).at("uni_grpc.port") != nil)
        #expect(configErrors(#"{"uni_grpc":{"enabled":true,"tls":{"enabled":true}}}"#).at("uni_grpc.tls.enabled") != nil)
        // Off, its TLS is never read (a Centrifugo config with TLS set up for later starts).
        #expect(configErrors(#"{"uni_grpc":{"enabled":false,"tls":{"enabled":true}}}"#).isEmpty)
        #expect(configErrors(#"{"grpc_api":{"tls":{"enabled":true}}}"#).isEmpty)
    }
}
