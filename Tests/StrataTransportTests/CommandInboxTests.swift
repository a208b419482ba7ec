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
}
