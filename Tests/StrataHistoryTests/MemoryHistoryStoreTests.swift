import StrataCore
import StrataHistory
import StrataTesting
import Testing

@Suite("MemoryHistoryStore")
struct MemoryHistoryStoreTests {
    let suite = HistoryStoreContract { clock in MemoryHistoryStore(clock: clock) }

    @Test(arguments: HistoryStoreContract.Check.allCases)
    func contract(_ check: HistoryStoreContract.Check) async throws { try await suite.run(check) }
}
