extension StrataConfig {
    /// `consumers[]`: asynchronous consumers of server API commands (docs/outbox.md). Strata
    /// has Centrifugo's PostgreSQL outbox consumer; the other types are refused when enabled.
    package struct Consumer: Sendable, Equatable {
        /// `^[a-zA-Z0-9_]{2,}$`, unique; part of the advisory lock names (shared with Centrifugo).
        package var name = ""
        package var postgresql = PostgresOutbox()

        package init() {}
    }

    /// `consumers[].postgresql`, with Centrifugo v6.9.1's defaults.
    package struct PostgresOutbox: Sendable, Equatable {
        /// `postgres://user:password@host:port/database?sslmode=disable`, or `key=value` pairs.
        package var dsn = ""
        package var outboxTableName = ""
        package var numPartitions = 1
        package var partitionSelectLimit = 100
        package var partitionPollIntervalMillis: Int64 = 300
        /// `LISTEN` channel whose notifications (a partition number) wake that partition at once.
        package var partitionNotificationChannel = ""
        /// A separate connection string for `LISTEN` (a direct server behind a PgBouncer DSN).
        package var partitionNotificationDSN = ""
        /// `pg_try_advisory_xact_lock` instead of waiting for a partition's lock.
        package var useTryLock = false

        package init() {}
    }
}
