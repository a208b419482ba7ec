/// Why `DeltaApplier` refused a delta. Every malformed or hostile input ends here, never in a
/// trap or an out-of-bounds access.
package struct DeltaError: Error, Hashable, Sendable, CustomStringConvertible {
    package enum Reason: String, Hashable, Sendable {
        /// An integer was expected (header, count, offset or checksum) but no digit was there.
        case missingInteger = "expected a base-64 integer"
        /// An integer does not fit in 32 bits (the format's limit).
        case integerOverflow = "integer does not fit in 32 bits"
        /// The target size is not followed by a newline.
        case headerNotTerminated = "size integer not terminated by newline"
        /// The declared target size is above the caller's bound.
        case targetTooLarge = "declared target size exceeds the limit"
        /// A copy command is not followed by `,`.
        case copyNotTerminated = "copy command not terminated by ','"
        /// A copy command reads past the end of the source.
        case copyOutOfRange = "copy extends past end of source"
        /// A command would produce more bytes than the header declared.
        case outputOverflow = "output would exceed the declared size"
        /// An insert command announces more bytes than the delta has left.
        case insertPastEnd = "insert count exceeds the remaining delta"
        /// A byte after an integer is not `@`, `:` or `;`.
        case unknownOperator = "unknown delta operator"
        /// The delta ended before the `;` trailer.
        case unterminated = "unterminated delta"
        /// The commands produced fewer bytes than the header declared.
        case sizeMismatch = "output size does not match the declared size"
        /// The trailer checksum differs from the checksum of the output.
        case checksumMismatch = "checksum mismatch"
        /// Bytes follow the `;` trailer.
        case trailingBytes = "bytes after the trailer"
    }

    package let reason: Reason
    /// Byte position in the delta where the problem was found.
    package let offset: Int

    package init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    package var description: String { "fossil delta: \(reason.rawValue) (at byte \(offset))" }
}
