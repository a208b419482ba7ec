// libFuzzer entry point for the config loaders (built by run.sh with Sources/StrataConfig, and
// Yams with its libyaml, all instrumented; not by SwiftPM). The first byte picks the format
// (JSON, YAML, TOML), the rest is the document: it parses to a value tree or is refused with a
// `ConfigError`; when the first byte's top bit is set, a tree is then read as Strata's whole
// config, which validates it or names the bad keys. Never a trap. ASan and LSan reports are findings too.
//
// A config file comes from the operator, not the network, but `strata checkconfig` exists to
// be pointed at files that may be broken, and a crash there is still a crash.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let formats: [ConfigFormats.Format] = [.json, .yaml, .toml]
    let format = formats[Int(data[0] & 0x7F) % formats.count]
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    guard let root = try? ConfigFormats.parse(text, format: format) else { return 0 }
    // Reading the whole config costs twenty parses; the first byte's top bit asks for it, so
    // the fuzzer spends most of its time on the parsers and still reaches the config reader.
    guard data[0] & 0x80 != 0 else { return 0 }
    // The environment as well: the same keys as CENTRIFUGO_ variables, from the document's strings.
    var environment: [String: String] = [:]
    if case .object(let object) = root {
        for (key, value) in object.prefix(8) {
            if case .string(let s) = value { environment["CENTRIFUGO_" + key.uppercased()] = s }
        }
    }
    _ = try? ConfigLoader.decode(root, environment: environment)
    return 0
}
