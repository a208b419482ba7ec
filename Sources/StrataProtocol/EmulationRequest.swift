import StrataCore
import SwiftProtobuf

/// The body of a `POST /emulation` request (transports.md §4.4): which node and session the
/// frame is for, and the frame. Protobuf `EmulationRequest` when the request says
/// `application/octet-stream`, else JSON whose `data` is a string holding the JSON commands.
package struct EmulationRequest: Sendable {
    package var node: String
    package var session: String
    /// The command frame; nil when a JSON body's `data` is not a string (no session takes it).
    package var data: [UInt8]?

    /// nil for a body that is not an emulation request (answered 400).
    package init?(_ body: [UInt8], protobuf: Bool) {
        if protobuf {
            guard let r = try? PB.EmulationRequest(serializedBytes: body) else { return nil }
            node = r.node
            session = r.session
            data = Array(r.data)
            return
        }
        guard let root = try? JSONParser.parse(body), case .object = root,
            let node = try? root.string("node"), let session = try? root.string("session")
        else { return nil }
        self.node = node
        self.session = session
        if case .string(let text)? = root["data"] { data = Array(text.utf8) }
    }
}
