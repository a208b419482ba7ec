// libFuzzer entry point for the JSON decoders that read network bytes (built by run.sh with
// Sources/StrataProtocol, StrataCore and SwiftProtobuf, plus the server API's request schema, not
// by SwiftPM). One input is read three ways:
// - as a client protocol frame (newline-separated JSON commands): commands or an error, never a
//   trap; every subscribe's tags filter is compiled and, when valid, matched against a few tags;
// - as a server API request body: the schema check of every method and of a batch;
// - as a JSON document: parse, then write compact and parse again to the same value.
// ASan and LSan reports are findings too.

import StrataCore

/// The schema's tables are lazy globals made of indirect enums, whose boxes Swift stores with tag
/// bits in the pointer: LeakSanitizer cannot see them as referenced and calls the one-time
/// allocation a leak. Made here, before the runs; `lsan.supp` names them for the exit check.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    _ = APIRequestSchema.methods.count
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    let output = JSONCommandDecoder.decodeFrame(bytes)
    for command in output.commands {
        guard case .subscribe(let request) = command.request, let node = request.tagsFilter else { continue }
        if let filter = try? TagsFilter(node) {
            _ = filter.matches(["ticker": "AAPL", "price": "101.5", "": "", "é": "e\u{301}"])
            _ = filter.matches([:])
        }
    }

    if let body = try? JSONParser.parse(bytes) {
        for method in APIRequestSchema.methods.keys { _ = try? APIRequestSchema.check(method, body) }
        _ = try? APIRequestSchema.checkBatch(body)
        let compact = JSONParser.compact(bytes[...])
        guard let again = try? JSONParser.parse(compact) else { preconditionFailure("compacted JSON does not parse") }
        precondition(same(again, body), "compacting changed the value")
        precondition(JSONParser.compact(compact) == compact, "compacting is not idempotent")
    }
    return 0
}

/// Equal values, whatever the whitespace (a member's `raw` bytes keep it).
func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
    case (.object(let x), .object(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && same($0.value, $1.value) }
    default: return a == b
    }
}
