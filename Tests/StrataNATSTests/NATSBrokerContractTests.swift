import Logging
import StrataBroker
import StrataCore
import StrataHistory
import StrataTesting
import Testing

@testable import StrataNATS

/// The NATS broker against the broker contract every other broker passes: delivery over a real
/// nats-server, history in the store beside it (the engine's: Redis in production, the memory
/// store here, since the contract is about the broker; Redis history behind NATS is checked end
/// to end in `test_nats_broker.py` and `test_engine_matrix.py`).
@Suite("NATSBroker contract", .enabled(if: NATSServer.isAvailable, "nats-server is not installed"))
struct NATSBrokerContractTests {
    @Test(arguments: BrokerContract.Check.allCases)
    func contract(_ check: BrokerContract.Check) async throws {
        try await BrokerContract {
            let server = try await NATSServer.start()
            let broker = NATSBroker(
                configuration: NATSConfiguration(servers: [NATSAddress(host: "127.0.0.1", port: server.port)]), prefix: "contract",
                store: MemoryHistoryStore(), logger: Logger(label: "test.nats.contract"))
            return (broker, { await broker.close(); server.kill() })
        }.run(check)
    }
}
