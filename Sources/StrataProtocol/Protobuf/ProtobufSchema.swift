/// Short names for the types generated from `client.proto` (package
/// `centrifugal.centrifuge.protocol`, docs/protocol/proto/client.proto): `PB.Command` reads
/// better than `Centrifugal_Centrifuge_Protocol_Command` in the codec.
package enum PB {
    package typealias Command = Centrifugal_Centrifuge_Protocol_Command
    package typealias Reply = Centrifugal_Centrifuge_Protocol_Reply
    package typealias Push = Centrifugal_Centrifuge_Protocol_Push
    package typealias Error = Centrifugal_Centrifuge_Protocol_Error
    package typealias EmulationRequest = Centrifugal_Centrifuge_Protocol_EmulationRequest
    package typealias ClientInfo = Centrifugal_Centrifuge_Protocol_ClientInfo
    package typealias Publication = Centrifugal_Centrifuge_Protocol_Publication
    package typealias ConnectRequest = Centrifugal_Centrifuge_Protocol_ConnectRequest
    package typealias ConnectResult = Centrifugal_Centrifuge_Protocol_ConnectResult
    package typealias Connect = Centrifugal_Centrifuge_Protocol_Connect
    package typealias Disconnect = Centrifugal_Centrifuge_Protocol_Disconnect
    package typealias SubscribeRequest = Centrifugal_Centrifuge_Protocol_SubscribeRequest
    package typealias FilterNode = Centrifugal_Centrifuge_Protocol_FilterNode
    package typealias SubscribeResult = Centrifugal_Centrifuge_Protocol_SubscribeResult
    package typealias HistoryRequest = Centrifugal_Centrifuge_Protocol_HistoryRequest
    package typealias HistoryResult = Centrifugal_Centrifuge_Protocol_HistoryResult
    package typealias PresenceResult = Centrifugal_Centrifuge_Protocol_PresenceResult
    package typealias PresenceStatsResult = Centrifugal_Centrifuge_Protocol_PresenceStatsResult
    package typealias RPCResult = Centrifugal_Centrifuge_Protocol_RPCResult
    package typealias RefreshResult = Centrifugal_Centrifuge_Protocol_RefreshResult
    package typealias SubRefreshResult = Centrifugal_Centrifuge_Protocol_SubRefreshResult
    package typealias Refresh = Centrifugal_Centrifuge_Protocol_Refresh
    package typealias Subscribe = Centrifugal_Centrifuge_Protocol_Subscribe
    package typealias Unsubscribe = Centrifugal_Centrifuge_Protocol_Unsubscribe
    package typealias Join = Centrifugal_Centrifuge_Protocol_Join
    package typealias Leave = Centrifugal_Centrifuge_Protocol_Leave
}
