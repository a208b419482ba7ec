import ArgumentParser
import Foundation
import StrataConfig
import StrataCore
import StrataHistory
import StrataHub
import StrataLMDB
import StrataProtocol
import StrataRecovery
import StrataServer

/// `strata history …`: look into and move the embedded store (it may be in use by a running server:
/// LMDB serialises writers across processes and readers never block).
struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect, dump, export and import the embedded LMDB history store.",
        discussion: """
            Run them beside a running server (LMDB readers do not block it), or on a copy.

            Examples:
              strata history stats -c config.json
              strata history dump -c config.json --channel news --since 40
              strata history why -c config.json news --offset 40 --epoch AbCd
              strata history export -c config.json backup.zst && strata history import -c new.json backup.zst
            """,
        subcommands: [Stats.self, Dump.self, Why.self, Export.self, Import.self])

    static func openStore(_ options: ConfigOptions) throws -> LMDBHistoryStore {
        try LMDBHistoryStore(options: StrataServer.lmdbOptions(try options.load()))
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sizes of the store and its largest channels.",
            discussion: """
            Examples:
              strata history stats -c config.json
              strata history stats -c config.json --channels 100
            """)
        @OptionGroup var options: ConfigOptions
        @Option(help: "List this many channels (0: none).") var channels = 20

        func run() async throws {
            let store = try History.openStore(options)
            defer { store.close() }
            let s = try store.stats()
            print("path:        \(store.path)")
            print("channels:    \(s.channels)")
            print("entries:     \(s.entries)")
            print("map size:    \(s.mapSize) bytes")
            print("used:        \(s.usedBytes) bytes")
            print("file:        \(s.fileBytes) bytes")
            guard channels > 0 else { return }
            let list = try store.channels().sorted { $0.retained > $1.retained }.prefix(channels)
            if !list.isEmpty { print("\nretained  top  epoch     channel") }
            for c in list { print("\(c.retained)  \(c.top)  \(c.epoch)  \(c.channel)") }
        }
    }

    struct Dump: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a channel's retained publications as JSON lines.",
            discussion: """
            Examples:
              strata history dump -c config.json --channel news
              strata history dump -c config.json --channel news --since 40 --limit 10 | jq .data
            """)
        @OptionGroup var options: ConfigOptions
        @Option(help: "Channel name.") var channel: String
        @Option(help: "Only publications after this offset.") var since: UInt64 = 0
        @Option(help: "At most this many (-1: all).") var limit = -1

        func run() async throws {
            let store = try History.openStore(options)
            defer { store.close() }
            guard let summary = try store.summary(of: channel) else {
                throw ValidationError("no stream for channel \(channel)")
            }
            FileHandle.standardError.write(Data("epoch \(summary.epoch), top \(summary.top), retained \(summary.retained)\n".utf8))
            // The same JSON lines as `GET /api/history/{channel}` (`HistoryPage`): the protocol's
            // publication encoding (data, info, offset, tags), binary payloads as strings.
            let publications = try store.dump(channel: channel, since: since, limit: limit)
            var request = HistoryPage.Request(channel: channel)
            request.since = since
            let page = HistoryPage(request: request, publications: publications, top: StreamPosition(offset: summary.top, epoch: summary.epoch))
            FileHandle.standardOutput.write(Data(page.jsonLines()))
        }
    }

    /// The recovery decision a subscribe would get now, offline: the same store read and the same
    /// decision as the server's (`SubscribeDecision`), so an operator can answer "why did my
    /// clients not recover" from the position a client reported.
    struct Why: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Would a client at this position recover now? If not, why (exit status 1).",
            discussion: """
            Examples:
              strata history why -c config.json news --offset 40 --epoch AbCd
            """)
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Channel name.") var channel: String
        @Option(help: "The client's offset (the last publication it received).") var offset: UInt64
        @Option(help: "The client's epoch.") var epoch: String

        func run() async throws {
            let config = try options.load()
            let channelOptions: ChannelOptions
            do {
                channelOptions = try ChannelResolver(config: config.channel).options(for: channel)
            } catch {
                throw ValidationError("channel \(channel): \(error.message)")
            }
            let store = try LMDBHistoryStore(options: StrataServer.lmdbOptions(config))
            defer { store.close() }
            let since = StreamPosition(offset: offset, epoch: epoch)
            let cache = channelOptions.forceRecoveryMode == .cache
            let keyed = cache && !channelOptions.cacheKeyTag.isEmpty
            let limit = config.client.recoveryMaxPublicationLimit
            let filter = cache ? HistoryFilter(limit: 1, reverse: true) : HistoryFilter(since: since, limit: limit > 0 ? limit : -1)
            let retention = ChannelResolver(config: config.channel).retention(channelOptions)
            var read = try await store.history(channel: channel, filter: filter, metaTTLSeconds: retention.metaTTLSeconds)
            var mode: SubscribeDecision.Mode = cache ? .cache(latestOnly: true) : .stream
            var floor: UInt64 = 0
            if keyed {
                // The keyed table, as a subscribe reads it (docs/keyed-cache.md).
                let table = try await store.keyedCache(
                    channel: channel, since: offset > 0 ? offset : nil, metaTTLSeconds: retention.metaTTLSeconds)
                read = HistoryResult(publications: table.entries.map(\.publication), top: table.top)
                floor = table.floor
                mode = .keyedCache(floor: floor)
            }
            let summary = try store.summary(of: channel)
            print("stream:  epoch \(read.top.epoch), newest offset \(read.top.offset), \(summary?.retained ?? 0) retained"
                + (keyed ? " (keyed cache, floor \(floor))" : cache ? " (cache mode)" : ""))
            print("client:  epoch \(epoch), offset \(offset)")
            let input = SubscribeDecision.Input(
                mode: mode, recovering: true, since: since, rejectUnrecovered: false, read: read,
                buffered: [], replyLimit: limit)
            guard case .positioned(let outcome) = SubscribeDecision.decide(input) else {
                throw ValidationError("the decision needs live publications to be made; try again")
            }
            if outcome.recovery == .recovered {
                print("recovered: \(outcome.publications.count) publication(s) would be sent")
                return
            }
            let failure = outcome.failure ?? .olderThanHistory
            print("not recovered: \(failure.rawValue): \(failure.explanation)")
            throw ExitCode(1)
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every stream to a zstd-compressed file.",
            discussion: """
                Shows a progress bar with rate and time left on a terminal (a line every 5 s otherwise).

                Examples:
                  strata history export -c config.json backup.zst
                """)
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Export file to write.") var file: String

        func run() async throws {
            let store = try History.openStore(options)
            defer { store.close() }
            let started = Date()
            let total = max(1, try store.stats().channels)
            let bar = ProgressBar(label: "export", unit: "publications")
            let (channels, entries) = try store.export(to: file) { c, e in bar.update(count: e, done: Double(c) / Double(total)) }
            bar.finish()
            print("exported \(channels) channels, \(entries) publications to \(file) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load an export into the store.",
            discussion: """
                Streams keep their epochs and offsets. Shows a progress bar with rate and time left on
                a terminal (a line every 5 s otherwise).

                Examples:
                  strata history import -c config.json backup.zst
                """)
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Export file to read.") var file: String

        func run() async throws {
            let store = try History.openStore(options)
            defer { store.close() }
            let started = Date()
            let bar = ProgressBar(label: "import", unit: "publications")
            let (channels, entries) = try await store.importExport(from: file) { _, e, done in bar.update(count: e, done: done) }
            bar.finish()
            print("imported \(channels) channels, \(entries) publications from \(file) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        }
    }
}
