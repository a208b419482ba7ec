import Synchronization
import Testing

@testable import StrataTransport

@Suite("CommandInbox: one task per burst, in order, reading paused while it is behind")
struct CommandInboxTests {
    func bytes(_ n: Int) -> [UInt8] { [UInt8(n)] }

    func drain(_ inbox: CommandInbox) -> [String] {
        var seen: [String] = []
        while let (item, _) = inbox.next() {
            switch item {
            case .message(let m): seen.append("m\(m[0])")
            case .emulated(let m, let done):
                seen.append("e\(m[0])")
                done()
            case .closed: seen.append("closed")
            }
        }
        return seen
    }

    /// Only the push that finds the inbox idle starts a task; once the task found it empty, the
    /// next push starts one again.
    @Test func firstPushOfABurstStartsTheTask() {
        let inbox = CommandInbox()
        #expect(inbox.push(bytes(1)).startTask)
        #expect(!inbox.push(bytes(2)).startTask)
        #expect(drain(inbox) == ["m1", "m2"])
        #expect(inbox.push(bytes(3)).startTask)
        #expect(drain(inbox) == ["m3"])
    }

    /// The end comes after the messages being handled, never before; what was still waiting is
    /// dropped (the connection is gone), and nothing is accepted afterwards.
    @Test func closeDropsWaitingMessagesAndComesLast() {
        let inbox = CommandInbox()
        #expect(inbox.push(bytes(1)).startTask)
        #expect(!inbox.close(), "a task is running: it takes the end too")
        #expect(inbox.push(bytes(2)) == (false, false))
        #expect(drain(inbox) == ["closed"])
        #expect(!inbox.close(), "once")

        let idle = CommandInbox()
        #expect(idle.close(), "nothing running: the end starts a task")
        #expect(drain(idle) == ["closed"])
    }

    @Test func readingPausesWhenBehindAndResumesWhenCaughtUp() {
        let inbox = CommandInbox()
        var paused = false
        for i in 0..<CommandInbox.pauseDepth { paused = inbox.push(bytes(i)).pauseReading }
        #expect(paused)
        #expect(inbox.isPaused)
        var resumedAfter: Int?
        var taken = 0
        while let (_, resume) = inbox.next() {
            taken += 1
            if resume { resumedAfter = taken }
        }
        #expect(resumedAfter == CommandInbox.pauseDepth - CommandInbox.resumeDepth)
        #expect(!inbox.isPaused)
    }

    /// An emulation request's frame runs in line with the others, and one still waiting when the
    /// connection closes is answered (its `done` runs) without being handled.
    @Test func emulatedFramesAreOrderedAndAnsweredAtClose() {
        let inbox = CommandInbox()
        let answered = Counter()
        #expect(inbox.push(bytes(1)).startTask)
        #expect(!inbox.pushEmulated(bytes(2)) { answered.add() })
        #expect(drain(inbox) == ["m1", "e2"])
        #expect(answered.value == 1)
        #expect(inbox.pushEmulated(bytes(3)) { answered.add() })
        #expect(!inbox.close())  // the task started by the push is still to run
        #expect(answered.value == 2)
        #expect(drain(inbox) == ["closed"])
        #expect(!inbox.pushEmulated(bytes(4)) { answered.add() })
        #expect(answered.value == 3)
    }
}

final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
