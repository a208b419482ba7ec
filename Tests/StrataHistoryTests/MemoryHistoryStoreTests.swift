import StrataCore
import StrataHistory
import StrataTesting
import Testing

@Suite("MemoryHistoryStore")
struct MemoryHistoryStoreTests {
    let contract = HistoryStoreContract { clock in MemoryHistoryStore(clock: clock) }

    @Test func offsetsStartAtOne() async throws { try await contract.offsetsStartAtOneAndGrowByOne() }
    @Test func readCreatesEpoch() async throws { try await contract.readCreatesEpochThatPublishKeeps() }
    @Test func trimsExactly() async throws { try await contract.trimsExactlyToSize() }
    @Test func filters() async throws { try await contract.filtersSinceLimitReverse() }
    @Test func sinceBeforeWindow() async throws { try await contract.sinceBeforeRetainedWindowStartsAtOldest() }
    @Test func ttlKeepsMeta() async throws { try await contract.ttlExpiresEntriesButKeepsTopAndEpoch() }
    @Test func ttlRearms() async throws { try await contract.appendRearmsTTLOfWholeEntrySet() }
    @Test func metaTTL() async throws { try await contract.metaTTLGivesNewEpoch() }
    @Test func readsRefreshMeta() async throws { try await contract.readsRefreshMetaTTL() }
    @Test func remove() async throws { try await contract.removeKeepsOffsetsAndEpoch() }
    @Test func idempotency() async throws { try await contract.idempotentPublishReturnsFirstResult() }
    @Test func version() async throws { try await contract.versionSuppressesOlder() }
    @Test func deltaBase() async throws { try await contract.deltaBaseIsPreviousPublication() }
    @Test func commitOrder() async throws { try await contract.onCommitRunsInOffsetOrder() }
    @Test func noHistory() async throws { try await contract.noHistoryMeansNoOffset() }
}
