import StrataBroker
import StrataHistory
import StrataTesting
import Testing

@Suite("LocalBroker against the broker contract")
struct LocalBrokerContractTests {
    @Test(arguments: BrokerContract.Check.allCases)
    func contract(_ check: BrokerContract.Check) async throws {
        try await BrokerContract { (LocalBroker(store: MemoryHistoryStore()), {}) }.run(check)
    }
}

@Suite("MemoryPresenceManager against the presence contract")
struct MemoryPresenceContractTests {
    @Test(arguments: PresenceContract.Check.allCases)
    func contract(_ check: PresenceContract.Check) async throws {
        try await PresenceContract { (MemoryPresenceManager(), {}) }.run(check)
    }
}
