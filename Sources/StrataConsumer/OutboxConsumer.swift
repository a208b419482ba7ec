import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import StrataConfig
import StrataCore

/// Centrifugo's PostgreSQL outbox consumer (docs/outbox.md): the backend inserts server API
/// commands into a table in its own transaction; every node runs one worker per partition,
/// which in a transaction takes the partition's advisory lock, reads up to
/// `partition_select_limit` rows in `id` order, applies them, deletes them and commits.
///
/// The advisory lock (named as Centrifugo names it, so Strata and Centrifugo nodes can share a
/// table) lets one node at a time work a partition: rows of a partition are applied in order
/// and never twice. A command that must be retried (an internal error) stops the batch there;
/// the rows before it are deleted, and the worker backs off before trying it again. A command
/// that cannot succeed (unknown method, invalid payload) is logged, counted and deleted: it never
/// blocks the rows behind it.
package final class OutboxConsumer: Service, Sendable {
    package typealias Dispatch = @Sendable (_ method: String, _ payload: [UInt8]) async -> ConsumedCommandOutcome

    private let name: String
    private let config: StrataConfig.PostgresOutbox
    private let client: PostgresClient
    /// The client whose connection LISTENs (the main one unless `partition_notification_dsn`).
    private let notifyClient: PostgresClient?
    private let dispatch: Dispatch
    private let logger: Logger
    private let wakes: [WakeSignal]
    private let processed: Counter
    private let errors: Counter
    private let skipped: Counter

    package init(_ consumer: StrataConfig.Consumer, logger: Logger, dispatch: @escaping Dispatch) throws {
        name = consumer.name
        config = consumer.postgresql
        var configuration = try PostgresDSN(config.dsn).configuration()
        configuration.options.maximumConnections = max(2, config.numPartitions + 1)
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        if !config.partitionNotificationChannel.isEmpty, !config.partitionNotificationDSN.isEmpty {
            var notify = try PostgresDSN(config.partitionNotificationDSN).configuration()
            notify.options.maximumConnections = 1
            notifyClient = PostgresClient(configuration: notify, backgroundLogger: logger)
        } else {
            notifyClient = nil
        }
        self.dispatch = dispatch
        var logger = logger
        logger[metadataKey: "consumer"] = .string(consumer.name)
        self.logger = logger
        wakes = (0..<config.numPartitions).map { _ in WakeSignal() }
        processed = Counter(label: "centrifugo_consumers_messages_processed_total", dimensions: [("consumer_name", consumer.name)])
        errors = Counter(label: "centrifugo_consumers_errors_total", dimensions: [("consumer_name", consumer.name)])
        skipped = Counter(label: "strata_consumers_skipped_total", dimensions: [("consumer_name", consumer.name)])
    }

    /// Runs the clients and the workers until the server shuts down.
    package func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.client.run() }
            if let notifyClient { group.addTask { await notifyClient.run() } }
            await cancelWhenGracefulShutdown {
                await withDiscardingTaskGroup { workers in
                    if !self.config.partitionNotificationChannel.isEmpty {
                        workers.addTask { await self.listen() }
                    }
                    for partition in 0..<self.config.numPartitions {
                        workers.addTask { await self.work(partition) }
                    }
                }
            }
            group.cancelAll()
        }
    }

    enum Failure: Error, CustomStringConvertible {
        /// `use_try_lock`: another node works the partition now.
        case lockTaken
        /// A command to retry stopped the batch.
        case retry(String)

        var description: String {
            switch self {
            case .lockTaken: "the partition's lock is taken"
            case .retry(let reason): "a command to retry: \(reason)"
            }
        }
    }

    /// One partition's loop: a batch, then (unless the batch was full) a wait for a
    /// notification or the poll interval; failures back off 50 ms, 100 ms, … up to 10 s.
    private func work(_ partition: Int) async {
        let poll = Duration.milliseconds(config.partitionPollIntervalMillis)
        var failures = 0
        while !Task.isCancelled {
            do {
                let count = try await processOnce(partition)
                failures = 0
                if count < config.partitionSelectLimit { await wakes[partition].wait(timeout: poll) }
            } catch Failure.lockTaken {
                await wakes[partition].wait(timeout: poll)
            } catch {
                if Task.isCancelled { return }
                failures += 1
                errors.increment()
                logger.error("error processing postgresql outbox", metadata: ["partition": "\(partition)", "error": "\(error)"])
                let backoff = min(10_000, 50 << min(failures - 1, 8))
                try? await Task.sleep(for: .milliseconds(backoff))
            }
        }
    }

    /// One batch of one partition in one transaction; returns how many rows it took.
    func processOnce(_ partition: Int) async throws -> Int {
        let table = config.outboxTableName
        let lockName = "centrifugo_partition_lock_\(name)\(partition)"
        let limit = config.partitionSelectLimit
        let useTryLock = config.useTryLock
        let dispatch = self.dispatch
        let logger = self.logger
        let skipped = self.skipped
        let (count, stop) = try await client.withTransaction(logger: logger) { connection -> (Int, String?) in
            if useTryLock {
                let rows = try await connection.query("SELECT pg_try_advisory_xact_lock(hashtext(\(lockName)))", logger: logger)
                var acquired = false
                for try await (got) in rows.decode(Bool.self) { acquired = got }
                guard acquired else { throw Failure.lockTaken }
            } else {
                try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(lockName)))", logger: logger)
            }
            // The table name was checked to be an identifier at start (ConsumerConfigLoader).
            let select = PostgresQuery(
                unsafeSQL: "SELECT id, method, payload::text FROM \(table) WHERE partition=$1 ORDER BY id ASC LIMIT $2",
                binds: try Self.binds(Int64(partition), Int64(limit)))
            var events: [(id: Int64, method: String, payload: String)] = []
            for try await (id, method, payload) in try await connection.query(select, logger: logger).decode((Int64, String, String).self) {
                events.append((id, method, payload))
            }
            var done: [Int64] = []
            var stop: String?
            for event in events {
                switch await dispatch(event.method, Array(event.payload.utf8)) {
                case .applied:
                    done.append(event.id)
                case .skipped(let reason):
                    logger.error(
                        "non retryable error during consuming, skip message",
                        metadata: ["method": "\(event.method)", "id": "\(event.id)", "error": "\(reason)"])
                    skipped.increment()
                    done.append(event.id)
                case .retry(let reason):
                    stop = reason
                }
                if stop != nil { break }
            }
            if !done.isEmpty {
                let delete = PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE id = ANY($1)", binds: try Self.binds(done))
                try await connection.query(delete, logger: logger)
            }
            return (done.count, stop)
        }
        processed.increment(by: count)
        if let stop { throw Failure.retry(stop) }
        return count
    }

    private static func binds(_ values: any PostgresEncodable & Sendable...) throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values { try bindings.append(value) }
        return bindings
    }

    /// LISTENs on `partition_notification_channel`: a notification's payload is a partition
    /// number, which wakes that partition's worker. The connection is opened again a second
    /// after it fails.
    private func listen() async {
        let channel = config.partitionNotificationChannel
        let listener = notifyClient ?? client
        while !Task.isCancelled {
            do {
                try await listener.withConnection { connection in
                    for try await notification in try await connection.listen(channel) {
                        guard let partition = Int(notification.payload), wakes.indices.contains(partition) else {
                            logger.error("outbox partition is out of range", metadata: ["payload": "\(notification.payload)"])
                            continue
                        }
                        wakes[partition].signal()
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.error("error listening outbox notifications", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
