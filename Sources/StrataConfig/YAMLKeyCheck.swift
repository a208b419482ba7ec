internal import CYaml

/// Refuses a YAML mapping key that is a list or a mapping (`? [a]`, `[a]: 1`, `? - x`, or an
/// alias of a collection), reading libyaml's event stream before Yams composes the document.
///
/// Why before, not after: Yams's composer checks each mapping for duplicate keys by hashing and
/// sorting the key nodes, and its ordering of nested mappings recurses through their pairs: a
/// 2 KB document of nested explicit keys kept it busy for longer than the fuzzer's 20-minute
/// timeout (`Tests/Fuzz/findings/config-timeout-nested-complex-keys.bin`), and a key that is an
/// alias of an alias-expanded collection is hashed in full. No setting has such a key, so it is
/// refused at the event where it starts, in time linear in the document. With only plain keys
/// left, the duplicate check compares strings.
enum YAMLKeyCheck {
    static func check(_ text: String) throws(ConfigError) {
        var bytes = Array(text.utf8)
        if bytes.isEmpty { return }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw ConfigError(path: "", message: "cannot parse yaml: out of memory")
        }
        defer { yaml_parser_delete(&parser) }
        let count = bytes.count
        // One buffer for the whole walk: libyaml reads it while events are parsed.
        try bytes.withUnsafeMutableBufferPointer { (buffer) throws(ConfigError) in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            try walk(&parser)
        }
    }

    /// Where the walk is inside one collection: a mapping alternates key, value, key, …
    private struct Level {
        let isMapping: Bool
        var atKey: Bool
    }

    private static func walk(_ parser: inout yaml_parser_t) throws(ConfigError) {
        var levels: [Level] = []
        // Anchor name → whether it names a list or a mapping; a later anchor of the same name wins.
        var collectionAnchors: [String: Bool] = [:]
        while true {
            var event = yaml_event_t()
            // A parse error is left for Yams to report with its message; every key before it
            // has been checked.
            guard yaml_parser_parse(&parser, &event) == 1 else { return }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            let atKey = levels.last.map { $0.isMapping && $0.atKey } ?? false
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return
            case YAML_SCALAR_EVENT:
                remember(event.data.scalar.anchor, isCollection: false, in: &collectionAnchors)
                completed(&levels)
            case YAML_ALIAS_EVENT:
                if atKey, let name = string(event.data.alias.anchor), collectionAnchors[name] == true {
                    throw refused(line: line, what: "an alias of a list or a mapping (*\(name))")
                }
                completed(&levels)
            case YAML_SEQUENCE_START_EVENT:
                if atKey { throw refused(line: line, what: "a list") }
                remember(event.data.sequence_start.anchor, isCollection: true, in: &collectionAnchors)
                levels.append(Level(isMapping: false, atKey: false))
            case YAML_MAPPING_START_EVENT:
                if atKey { throw refused(line: line, what: "a mapping") }
                remember(event.data.mapping_start.anchor, isCollection: true, in: &collectionAnchors)
                levels.append(Level(isMapping: true, atKey: true))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                _ = levels.popLast()
                completed(&levels)
            default:
                // Stream and document starts, document ends: no node.
                break
            }
        }
    }

    /// A node ended inside the innermost collection: a mapping's next node is the other half.
    private static func completed(_ levels: inout [Level]) {
        guard let last = levels.indices.last, levels[last].isMapping else { return }
        levels[last].atKey.toggle()
    }

    private static func remember(_ anchor: UnsafeMutablePointer<yaml_char_t>?, isCollection: Bool,
                                 in anchors: inout [String: Bool]) {
        if let name = string(anchor) { anchors[name] = isCollection }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    private static func refused(line: Int, what: String) -> ConfigError {
        ConfigError(path: "", message: "line \(line): a mapping key must be a plain value, not \(what)")
    }
}
