import Foundation
import Glibc
import StrataCore

/// Progress of a long command, on standard error: on a terminal one line redrawn at most ten
/// times a second — bar, share done, count, rate and time left; in a log or a pipe a plain line
/// every five seconds (no carriage returns to garble the file).
final class ProgressBar: Sendable {
    let label: String
    let unit: String
    private let isTerminal: Bool
    private let state: Locked<State>

    struct State {
        var started = Date()
        var lastDraw = Date.distantPast
        var drewOnTerminal = false
    }

    init(label: String, unit: String, isTerminal: Bool = isatty(STDERR_FILENO) != 0) {
        self.label = label
        self.unit = unit
        self.isTerminal = isTerminal
        state = Locked(State())
    }

    /// `count` units done, `done` the share of the whole (nil when unknown).
    func update(count: Int, done: Double?) {
        let now = Date()
        let line: String? = state.withLock { s in
            guard now.timeIntervalSince(s.lastDraw) >= (isTerminal ? 0.1 : 5) else { return nil }
            s.lastDraw = now
            if isTerminal { s.drewOnTerminal = true }
            return Self.render(label: label, unit: unit, count: count, done: done, elapsed: now.timeIntervalSince(s.started), bar: isTerminal)
        }
        guard let line else { return }
        FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    /// Ends the bar's line (the command then prints its summary).
    func finish() {
        if state.withLock({ $0.drewOnTerminal }) { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    /// `export [#########···········]  45%  12,345 publications  3,210/s  ETA 0:04`
    static func render(label: String, unit: String, count: Int, done: Double?, elapsed: Double, bar: Bool) -> String {
        var parts = [label]
        if let done {
            let share = max(0, min(1, done))
            if bar {
                let filled = Int((share * 24).rounded(.down))
                parts.append("[" + String(repeating: "#", count: filled) + String(repeating: "·", count: 24 - filled) + "]")
            }
            parts.append(String(format: "%3d%%", Int(share * 100)))
        }
        parts.append("\(grouped(count)) \(unit)")
        let rate = elapsed > 0 ? Double(count) / elapsed : 0
        parts.append("\(grouped(Int(rate)))/s")
        if let done, done > 0.001, done < 1 {
            let left = Int((elapsed / done - elapsed).rounded())
            parts.append(String(format: "ETA %d:%02d", left / 60, left % 60))
        }
        return parts.joined(separator: "  ")
    }

    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }
}
