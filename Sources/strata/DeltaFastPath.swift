#if canImport(Glibc)
    import Glibc
#endif
import StrataDelta

/// `strata delta create|apply` without ArgumentParser or Foundation: users pipe large files
/// through these in scripts, and parsing the full command tree (reflection over every
/// subcommand) cost more than encoding a megabyte. Only the plain forms are handled here:
///
///     strata delta create SOURCE TARGET [-o|--output FILE] [--fossil-c]
///     strata delta apply SOURCE DELTA [-o|--output FILE]
///
/// Anything else (help, unknown options, a missing argument) returns nil and goes through
/// ArgumentParser, which owns the messages and the help text.
enum DeltaFastPath {
    /// The process exit status, or nil when the arguments are not a plain delta command.
    static func run(_ arguments: [String]) -> Int32? {
        var args = arguments.dropFirst()
        guard args.first == "delta", args.count >= 4 else { return nil }
        args = args.dropFirst()
        let verb = args.removeFirst()
        guard verb == "create" || verb == "apply" else { return nil }
        var positional: [String] = []
        var output: String?
        var fossilC = false
        while let arg = args.first {
            args = args.dropFirst()
            switch arg {
            case "-o", "--output":
                guard let value = args.first else { return nil }
                output = value
                args = args.dropFirst()
            case "--fossil-c" where verb == "create":
                fossilC = true
            default:
                if arg.hasPrefix("-") { return nil }
                positional.append(arg)
            }
        }
        guard positional.count == 2 else { return nil }
        guard let first = readFile(positional[0]) else { return fail("cannot read \(positional[0])") }
        guard let second = readFile(positional[1]) else { return fail("cannot read \(positional[1])") }
        let result: [UInt8]
        if verb == "create" {
            result = DeltaEncoder.create(source: first, target: second, mode: fossilC ? .fossilC : .goPort)
        } else {
            do {
                result = try DeltaApplier.apply(source: first, delta: second)
            } catch {
                return fail("invalid delta: \(error)")
            }
        }
        return writeFile(result, to: output) ? 0 : fail("cannot write \(output ?? "standard output")")
    }

    private static func fail(_ message: String) -> Int32 {
        let line = Array("Error: \(message)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        return 1
    }

    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        // Pipes and process substitutions (`<(…)`) have no size: read them to the end.
        guard info.st_mode & S_IFMT == S_IFREG else { return readToEnd(fd) }
        let size = Int(info.st_size)
        var complete = true
        // Read straight into uninitialised storage: zero-filling first would write every page of
        // a large input once more before `read` writes it again.
        let out = [UInt8](unsafeUninitializedCapacity: size) { buffer, initializedCount in
            var filled = 0
            while filled < size, let base = buffer.baseAddress {
                let n = read(fd, base + filled, size - filled)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                filled += n
            }
            complete = filled == size
            initializedCount = filled
        }
        return complete ? out : nil
    }

    private static func readToEnd(_ fd: Int32) -> [UInt8]? {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { buf in buf.baseAddress.map { read(fd, $0, buf.count) } ?? -1 }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { return out }
            out.append(contentsOf: chunk[..<n])
        }
    }

    static func writeFile(_ bytes: [UInt8], to path: String?) -> Bool {
        let fd = path.map { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) } ?? 1
        guard fd >= 0 else { return false }
        defer { if path != nil { close(fd) } }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { buf in buf.baseAddress.map { write(fd, $0 + done, buf.count - done) } ?? -1 }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }
}
