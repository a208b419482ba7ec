import GRPCCore
import GRPCProtobuf
import StrataServerAPI

/// Centrifugo's `CentrifugoApi` service (`api.proto`, generated code in `Generated/`): the
/// methods Centrifugo OSS has run through the server API (`GRPCAPIBridge`); its PRO methods and
/// the map and shared-poll methods answer UNIMPLEMENTED, `method <Name> not implemented`, as
/// Centrifugo OSS answers its PRO ones.
struct GRPCAPIService: Centrifugal_Centrifugo_Api_CentrifugoApi.ServiceProtocol {
    let bridge: GRPCAPIBridge

    func batch(request: ServerRequest<Centrifugal_Centrifugo_Api_BatchRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_BatchResponse> {
        try await bridge.call("batch", request)
    }

    func publish(request: ServerRequest<Centrifugal_Centrifugo_Api_PublishRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_PublishResponse> {
        try await bridge.call("publish", request)
    }

    func broadcast(request: ServerRequest<Centrifugal_Centrifugo_Api_BroadcastRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_BroadcastResponse> {
        try await bridge.call("broadcast", request)
    }

    func subscribe(request: ServerRequest<Centrifugal_Centrifugo_Api_SubscribeRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_SubscribeResponse> {
        try await bridge.call("subscribe", request)
    }

    func unsubscribe(request: ServerRequest<Centrifugal_Centrifugo_Api_UnsubscribeRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_UnsubscribeResponse> {
        try await bridge.call("unsubscribe", request)
    }

    func disconnect(request: ServerRequest<Centrifugal_Centrifugo_Api_DisconnectRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_DisconnectResponse> {
        try await bridge.call("disconnect", request)
    }

    func presence(request: ServerRequest<Centrifugal_Centrifugo_Api_PresenceRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_PresenceResponse> {
        try await bridge.call("presence", request)
    }

    func presenceStats(request: ServerRequest<Centrifugal_Centrifugo_Api_PresenceStatsRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_PresenceStatsResponse> {
        try await bridge.call("presence_stats", request)
    }

    func history(request: ServerRequest<Centrifugal_Centrifugo_Api_HistoryRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_HistoryResponse> {
        try await bridge.call("history", request)
    }

    func historyRemove(request: ServerRequest<Centrifugal_Centrifugo_Api_HistoryRemoveRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_HistoryRemoveResponse> {
        try await bridge.call("history_remove", request)
    }

    func info(request: ServerRequest<Centrifugal_Centrifugo_Api_InfoRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_InfoResponse> {
        try await bridge.call("info", request)
    }

    func rpc(request: ServerRequest<Centrifugal_Centrifugo_Api_RPCRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_RPCResponse> {
        try await bridge.call("rpc", request)
    }

    func refresh(request: ServerRequest<Centrifugal_Centrifugo_Api_RefreshRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_RefreshResponse> {
        try await bridge.call("refresh", request)
    }

    func channels(request: ServerRequest<Centrifugal_Centrifugo_Api_ChannelsRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_ChannelsResponse> {
        try await bridge.call("channels", request)
    }

    func connections(request: ServerRequest<Centrifugal_Centrifugo_Api_ConnectionsRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_ConnectionsResponse> {
        throw RPCError(code: .unimplemented, message: "method Connections not implemented")
    }

    func updateUserStatus(request: ServerRequest<Centrifugal_Centrifugo_Api_UpdateUserStatusRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_UpdateUserStatusResponse> {
        throw RPCError(code: .unimplemented, message: "method UpdateUserStatus not implemented")
    }

    func getUserStatus(request: ServerRequest<Centrifugal_Centrifugo_Api_GetUserStatusRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_GetUserStatusResponse> {
        throw RPCError(code: .unimplemented, message: "method GetUserStatus not implemented")
    }

    func deleteUserStatus(request: ServerRequest<Centrifugal_Centrifugo_Api_DeleteUserStatusRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_DeleteUserStatusResponse> {
        throw RPCError(code: .unimplemented, message: "method DeleteUserStatus not implemented")
    }

    func blockUser(request: ServerRequest<Centrifugal_Centrifugo_Api_BlockUserRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_BlockUserResponse> {
        throw RPCError(code: .unimplemented, message: "method BlockUser not implemented")
    }

    func unblockUser(request: ServerRequest<Centrifugal_Centrifugo_Api_UnblockUserRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_UnblockUserResponse> {
        throw RPCError(code: .unimplemented, message: "method UnblockUser not implemented")
    }

    func revokeToken(request: ServerRequest<Centrifugal_Centrifugo_Api_RevokeTokenRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_RevokeTokenResponse> {
        throw RPCError(code: .unimplemented, message: "method RevokeToken not implemented")
    }

    func invalidateUserTokens(request: ServerRequest<Centrifugal_Centrifugo_Api_InvalidateUserTokensRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_InvalidateUserTokensResponse> {
        throw RPCError(code: .unimplemented, message: "method InvalidateUserTokens not implemented")
    }

    func deviceRegister(request: ServerRequest<Centrifugal_Centrifugo_Api_DeviceRegisterRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_DeviceRegisterResponse> {
        throw RPCError(code: .unimplemented, message: "method DeviceRegister not implemented")
    }

    func deviceUpdate(request: ServerRequest<Centrifugal_Centrifugo_Api_DeviceUpdateRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_DeviceUpdateResponse> {
        throw RPCError(code: .unimplemented, message: "method DeviceUpdate not implemented")
    }

    func deviceRemove(request: ServerRequest<Centrifugal_Centrifugo_Api_DeviceRemoveRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_DeviceRemoveResponse> {
        throw RPCError(code: .unimplemented, message: "method DeviceRemove not implemented")
    }

    func deviceList(request: ServerRequest<Centrifugal_Centrifugo_Api_DeviceListRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_DeviceListResponse> {
        throw RPCError(code: .unimplemented, message: "method DeviceList not implemented")
    }

    func deviceTopicList(request: ServerRequest<Centrifugal_Centrifugo_Api_DeviceTopicListRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_DeviceTopicListResponse> {
        throw RPCError(code: .unimplemented, message: "method DeviceTopicList not implemented")
    }

    func deviceTopicUpdate(request: ServerRequest<Centrifugal_Centrifugo_Api_DeviceTopicUpdateRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_DeviceTopicUpdateResponse> {
        throw RPCError(code: .unimplemented, message: "method DeviceTopicUpdate not implemented")
    }

    func userTopicList(request: ServerRequest<Centrifugal_Centrifugo_Api_UserTopicListRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_UserTopicListResponse> {
        throw RPCError(code: .unimplemented, message: "method UserTopicList not implemented")
    }

    func userTopicUpdate(request: ServerRequest<Centrifugal_Centrifugo_Api_UserTopicUpdateRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_UserTopicUpdateResponse> {
        throw RPCError(code: .unimplemented, message: "method UserTopicUpdate not implemented")
    }

    func sendPushNotification(request: ServerRequest<Centrifugal_Centrifugo_Api_SendPushNotificationRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_SendPushNotificationResponse> {
        throw RPCError(code: .unimplemented, message: "method SendPushNotification not implemented")
    }

    func updatePushStatus(request: ServerRequest<Centrifugal_Centrifugo_Api_UpdatePushStatusRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_UpdatePushStatusResponse> {
        throw RPCError(code: .unimplemented, message: "method UpdatePushStatus not implemented")
    }

    func cancelPush(request: ServerRequest<Centrifugal_Centrifugo_Api_CancelPushRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_CancelPushResponse> {
        throw RPCError(code: .unimplemented, message: "method CancelPush not implemented")
    }

    func mapPublish(request: ServerRequest<Centrifugal_Centrifugo_Api_MapPublishRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_MapPublishResponse> {
        throw RPCError(code: .unimplemented, message: "method MapPublish not implemented")
    }

    func mapRemove(request: ServerRequest<Centrifugal_Centrifugo_Api_MapRemoveRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_MapRemoveResponse> {
        throw RPCError(code: .unimplemented, message: "method MapRemove not implemented")
    }

    func mapReadState(request: ServerRequest<Centrifugal_Centrifugo_Api_MapReadStateRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_MapReadStateResponse> {
        throw RPCError(code: .unimplemented, message: "method MapReadState not implemented")
    }

    func mapReadStream(request: ServerRequest<Centrifugal_Centrifugo_Api_MapReadStreamRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_MapReadStreamResponse> {
        throw RPCError(code: .unimplemented, message: "method MapReadStream not implemented")
    }

    func mapStats(request: ServerRequest<Centrifugal_Centrifugo_Api_MapStatsRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_MapStatsResponse> {
        throw RPCError(code: .unimplemented, message: "method MapStats not implemented")
    }

    func mapClear(request: ServerRequest<Centrifugal_Centrifugo_Api_MapClearRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_MapClearResponse> {
        throw RPCError(code: .unimplemented, message: "method MapClear not implemented")
    }

    func sharedPollPublish(request: ServerRequest<Centrifugal_Centrifugo_Api_SharedPollPublishRequest>, context: ServerContext) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_SharedPollPublishResponse> {
        throw RPCError(code: .unimplemented, message: "method SharedPollPublish not implemented")
    }
}
