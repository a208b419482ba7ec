import PostgresNIO
import Testing

@testable import StrataConsumer

@Suite struct PostgresDSNTests {
    @Test func urlsAsPgxTakesThem() throws {
        let d = try PostgresDSN("postgres://app:s%40cret@db.internal:6432/orders?sslmode=disable&application_name=x")
        #expect(d.host == "db.internal" && d.port == 6432 && d.user == "app" && d.password == "s@cret" && d.database == "orders")
        #expect(d.sslMode == "disable")
        let bare = try PostgresDSN("postgresql://app@localhost/app")
        #expect(bare.port == 5432 && bare.password == nil && bare.sslMode == "prefer")
    }

    @Test func keyValuePairs() throws {
        let d = try PostgresDSN("host=127.0.0.1 port=5433 user=strata dbname=postgres sslmode=require password='pw'")
        #expect(d.host == "127.0.0.1" && d.port == 5433 && d.user == "strata" && d.database == "postgres")
        #expect(d.sslMode == "require" && d.password == "pw")
    }

    @Test(arguments: ["host=x port=99999", "postgres://x/y?sslmode=sometimes", "host=x novalue"])
    func badStringsAreRefused(_ text: String) {
        #expect(throws: PostgresDSN.Invalid.self) { try PostgresDSN(text) }
    }

    @Test func configurationCarriesTheAddress() throws {
        let c = try PostgresDSN("postgres://u:p@h:7/d?sslmode=disable").configuration()
        #expect(c.host == "h" && c.port == 7 && c.username == "u" && c.password == "p" && c.database == "d")
        let socket = try PostgresDSN("host=/run/postgresql port=5432 user=u").configuration()
        #expect(socket.unixSocketPath == "/run/postgresql/.s.PGSQL.5432")
    }
}

@Suite struct WakeSignalTests {
    // The timeouts are far beyond any scheduling delay of a loaded test run: returning at all
    // before them means the signal woke the wait.
    @Test func aSignalWakesTheWaiterBeforeItsTimeout() async {
        let wake = WakeSignal()
        let started = ContinuousClock.now
        async let waited: Void = wake.wait(timeout: .seconds(600))
        try? await Task.sleep(for: .milliseconds(50))
        wake.signal()
        await waited
        #expect(ContinuousClock.now - started < .seconds(300))
    }

    @Test func aSignalWithNobodyWaitingIsKeptForTheNextWait() async {
        let wake = WakeSignal()
        wake.signal()
        let started = ContinuousClock.now
        await wake.wait(timeout: .seconds(600))
        #expect(ContinuousClock.now - started < .seconds(300))
    }

    @Test func withoutASignalTheTimeoutEndsTheWait() async {
        let wake = WakeSignal()
        let started = ContinuousClock.now
        await wake.wait(timeout: .milliseconds(100))
        #expect(ContinuousClock.now - started >= .milliseconds(100))
    }

    @Test func cancellationEndsTheWait() async {
        let wake = WakeSignal()
        let task = Task { await wake.wait(timeout: .seconds(30)) }
        try? await Task.sleep(for: .milliseconds(50))
        task.cancel()
        await task.value
    }
}
