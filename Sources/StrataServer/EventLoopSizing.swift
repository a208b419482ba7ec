import Foundation
import NIOCore

extension StrataServer {
    /// Sizes the shared event loop group to the CPUs this process may run on, and returns the
    /// number of loops it will have.
    ///
    /// NIO counts the machine's CPUs, or a cgroup's cpuset or quota, but not the affinity mask that
    /// `taskset`, `numactl` or a CPU-pinning orchestrator sets. Loops beyond the CPUs the process
    /// can use only time-share those CPUs and add a context switch wherever work passes between
    /// loops (Go sizes `GOMAXPROCS` the same way). An operator's `NIO_SINGLETON_GROUP_LOOP_COUNT`
    /// wins. Call once, before anything uses the event loops.
    package static func sizeEventLoopsToCPUAffinity(environment: [String: String]) -> Int {
        if environment["NIO_SINGLETON_GROUP_LOOP_COUNT"] == nil, let allowed = allowedCPUCount(), allowed < System.coreCount {
            NIOSingletons.groupLoopCountSuggestion = allowed
        }
        return NIOSingletons.groupLoopCountSuggestion
    }

    /// CPUs in this process's affinity mask (the `Cpus_allowed` hex mask of /proc/self/status:
    /// glibc's `sched_getaffinity` is not visible to Swift); nil where the platform does not say.
    static func allowedCPUCount(status: String? = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) -> Int? {
        guard let line = status?.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else { return nil }
        var count = 0
        for character in line.dropFirst("Cpus_allowed:".count) where character != "," && character != " " && character != "\t" {
            guard let nibble = character.hexDigitValue else { return nil }
            count += nibble.nonzeroBitCount
        }
        return count > 0 ? count : nil
    }
}
