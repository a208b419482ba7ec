import StrataProtocol

/// UTF-8 bytes of a string literal.
func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Text of encoder output, for readable comparisons.
func text(_ b: some Sequence<UInt8>) -> String { String(decoding: Array(b), as: UTF8.self) }

/// Parses or fails the test with the parser's error.
func parsed(_ s: String) throws -> JSONValue { try JSONParser.parse(s) }
