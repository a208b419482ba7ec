/// `consumers[]` (docs/outbox.md): every entry's name is checked, used or not, as Centrifugo
/// does; an enabled entry must be a PostgreSQL outbox with a DSN and a table name.
extension ConfigLoader {
    static let consumerTypes = ["postgresql", "kafka", "nats_jetstream", "redis_stream", "google_pub_sub", "aws_sqs", "azure_service_bus"]

    static func readConsumers(_ r: ConfigReader) -> [StrataConfig.Consumer] {
        var names: Set<String> = []
        var enabled: [StrataConfig.Consumer] = []
        for (path, name, item) in r.namedObjects("consumers") {
            let scope = ConfigReader.Scope(pathPrefix: path + ".", envPrefix: "CONSUMERS_\(ConfigReader.envKey(name))_", base: item)
            if !ConfigReader.isName(name, allowing: "_") {
                r.fail(path + ".name", "invalid consumer name: \(name), must match ^[a-zA-Z0-9_]{2,}$")
            } else if !names.insert(name).inserted {
                r.fail(path + ".name", "invalid consumer name: \(name), must be unique")
            }
            let type = r.string("type", "", scope: scope)
            let on = r.bool("enabled", false, scope: scope)
            // The other types' sections are accepted (a Centrifugo config keeps them) and not read.
            for other in consumerTypes where other != "postgresql" { _ = r.raw(other, scope: scope) }
            var consumer = StrataConfig.Consumer()
            consumer.name = name
            consumer.postgresql = readPostgresOutbox(r, scope: scope, path: path)
            if !consumerTypes.contains(type) {
                r.fail(path + ".type", "unknown consumer type: \(type)")
            } else if on && type != "postgresql" {
                r.fail(path + ".type", "\(type) consumers are not implemented: Strata consumes PostgreSQL outbox tables (docs/outbox.md)")
            } else if on {
                let pg = consumer.postgresql
                if pg.dsn.isEmpty { r.fail(path + ".postgresql.dsn", "no Postgres DSN provided") }
                if pg.outboxTableName.isEmpty { r.fail(path + ".postgresql.outbox_table_name", "no Postgres outbox table name provided") }
                enabled.append(consumer)
            }
        }
        return enabled
    }

    private static func readPostgresOutbox(_ r: ConfigReader, scope: ConfigReader.Scope, path: String) -> StrataConfig.PostgresOutbox {
        let pgScope = ConfigReader.Scope(
            pathPrefix: scope.pathPrefix + "postgresql.", envPrefix: scope.envPrefix + "POSTGRESQL_",
            base: { if case .object(let f)? = scope.base, let v = f["postgresql"] { return v } else { return .object([:]) } }())
        var pg = StrataConfig.PostgresOutbox()
        pg.dsn = r.string("dsn", "", scope: pgScope)
        pg.outboxTableName = r.string("outbox_table_name", "", scope: pgScope)
        // Zero takes the default, as in Centrifugo.
        pg.numPartitions = r.int("num_partitions", 1, scope: pgScope)
        if pg.numPartitions == 0 { pg.numPartitions = 1 }
        pg.partitionSelectLimit = r.int("partition_select_limit", 100, scope: pgScope)
        if pg.partitionSelectLimit == 0 { pg.partitionSelectLimit = 100 }
        pg.partitionPollIntervalMillis = r.duration("partition_poll_interval", 300, scope: pgScope)
        if pg.partitionPollIntervalMillis == 0 { pg.partitionPollIntervalMillis = 300 }
        pg.partitionNotificationChannel = r.string("partition_notification_channel", "", scope: pgScope)
        pg.partitionNotificationDSN = r.string("partition_notification_dsn", "", scope: pgScope)
        pg.useTryLock = r.bool("use_try_lock", false, scope: pgScope)
        if pg.numPartitions < 0 || pg.numPartitions > 1024 { r.fail(path + ".postgresql.num_partitions", "must be between 1 and 1024") }
        if pg.partitionSelectLimit < 0 { r.fail(path + ".postgresql.partition_select_limit", "must be positive") }
        if pg.partitionPollIntervalMillis < 0 { r.fail(path + ".postgresql.partition_poll_interval", "must be positive") }
        // The table name goes into SQL text: a plain or schema-qualified identifier only.
        let identifier = pg.outboxTableName.split(separator: ".", omittingEmptySubsequences: false)
        if !pg.outboxTableName.isEmpty,
            identifier.count > 2 || identifier.contains(where: { part in
                part.first?.isNumber ?? true || !part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            })
        {
            r.fail(path + ".postgresql.outbox_table_name", "expected a table name (letters, digits, _; optionally schema.table)")
        }
        return pg
    }
}
