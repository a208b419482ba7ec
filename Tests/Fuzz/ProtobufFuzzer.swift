// libFuzzer entry point for the Protobuf client protocol's decoder (built by run.sh together with
// Sources/StrataProtocol, StrataCore and SwiftProtobuf, not by SwiftPM). Input: one transport
// message as a client would send it (varint-delimited Commands). Any input must end in commands
// or an error, never a trap; a decoded command must re-encode (through the generated types) and
// decode again to the same command count; ASan and LSan reports are findings too.
import SwiftProtobuf

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let frame = Array(UnsafeBufferPointer(start: data, count: size))
    let batch = ProtobufCommandDecoder.decodeFrame(frame)
    precondition(batch.error != nil || !batch.commands.isEmpty, "a frame without commands was accepted")
    // The whole frame's messages, decoded as generated types, survive a re-encode: the decoder
    // and the encoder of the same schema agree on every input the decoder accepts.
    if batch.error == nil {
        var offset = 0
        var messages: [[UInt8]] = []
        while let range = try? VarintFraming.next(in: frame, at: &offset) {
            guard let command = try? PB.Command(serializedBytes: Array(frame[range])),
                let again: [UInt8] = try? command.serializedBytes()
            else { preconditionFailure("an accepted message does not decode or re-encode") }
            messages.append(again)
        }
        let again = ProtobufCommandDecoder.decodeFrame(VarintFraming.join(messages))
        precondition(again.error == nil && again.commands.count == batch.commands.count, "re-encoded frame differs")
    }
    return 0
}
