import ArgumentParser
import Foundation
import Logging
import StrataAuth
import StrataConfig
import StrataHub
import StrataServer

/// The entry point: the plain delta commands take a fast path (`DeltaFastPath`), everything
/// else goes through ArgumentParser.
@main
enum StrataMain {
    static func main() async {
        if let status = DeltaFastPath.run(CommandLine.arguments) { exit(status) }
        await Strata.main()
    }
}

struct Strata: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "Real-time messaging server with durable channel history (Centrifugo v6 compatible).",
        discussion: """
            Examples:
              strata genconfig && strata -c config.json      # a configuration, then the server on it
              strata checkconfig -c config.json             # is it valid?
              strata gentoken -c config.json -u alice       # a connection token to try a client with
              strata help history                           # the history store's tools
            """,
        subcommands: [Serve.self, CheckConfig.self, ConfigDoc.self, GenConfig.self, GenToken.self, History.self, Delta.self, Version.self],
        defaultSubcommand: Serve.self
    )
}

/// Options shared by commands that read the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Configuration file (JSON, YAML or TOML).")
    var config: String = "config.json"

    /// `overrides`: key paths set on the command line, which win over the environment and the
    /// file and are checked like them.
    func load(requireFile: Bool = false, overrides: [String: String] = [:]) throws -> StrataConfig {
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in overrides { environment[ConfigLoader.environmentName(key)] = value }
        do {
            return try ConfigLoader.load(path: config, environment: environment, requireFile: requireFile)
        } catch {
            throw ValidationError("invalid configuration:\n\(error.description)")
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server (the default command).",
        discussion: """
            Examples:
              strata -c config.json                          # serve on http_server.port (8000)
              strata -c config.json -p 9000 --log-level debug
              strata -c config.json --http_server.port 9000 --engine.type memory   # Centrifugo's flags
              STRATA_ENGINE_TYPE=memory strata -c config.json  # any key from the environment
              strata -c config.json --sse.enabled --http_stream.enabled   # SSE, HTTP-streaming too
            """)

    @OptionGroup var options: ConfigOptions
    @OptionGroup var flags: ServeFlags

    func run() async throws {
        let eventLoops = StrataServer.sizeEventLoopsToCPUAffinity(environment: ProcessInfo.processInfo.environment)
        let config = try options.load(overrides: flags.overrides)
        let level = LogLevelName.parse(config.log.level)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "strata")
        logger.info("event loops", metadata: ["count": "\(eventLoops)"])
        let registry = StrataServer.bootstrapMetrics(environment: ProcessInfo.processInfo.environment)
        let pidFile = try PIDFile(path: config.pidFile)
        defer { pidFile?.remove() }
        try await StrataServer.run(config: config, logger: logger, metrics: registry)
    }
}

/// `pid_file`: the process id, written at start and removed at a clean exit (a stale one after
/// `kill -9` is overwritten by the next start).
struct PIDFile {
    let path: String

    init?(path: String) throws {
        guard !path.isEmpty else { return nil }
        self.path = path
        do {
            try "\(getpid())\n".write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw ValidationError("pid_file: cannot write \(path): \(error.localizedDescription)")
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

enum LogLevelName {
    static func parse(_ s: String) -> Logger.Level {
        switch s {
        case "trace": .trace
        case "debug": .debug
        case "warn", "warning": .warning
        case "error": .error
        case "none": .critical
        default: .info
        }
    }
}

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkconfig", abstract: "Validate a configuration file.",
        discussion: """
            Examples:
              strata checkconfig -c config.json             # exit status 1 and the key's name if not
              strata checkconfig -c config.yaml --strict    # unknown keys fail too
            """)

    @OptionGroup var options: ConfigOptions
    @Flag(name: [.short, .long], help: "Fail on unknown keys too.")
    var strict = false

    func run() async throws {
        let config = try options.load(requireFile: true)
        for key in config.unknownKeys { print("unknown key: \(key)") }
        if strict && !config.unknownKeys.isEmpty { throw ExitCode(1) }
        print("configuration OK")
    }
}

/// Prints `docs/configuration-keys.md`: every key and what Strata does with it (`ConfigKeys`).
struct ConfigDoc: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "configdoc", abstract: "Print every configuration key and what Strata does with it (Markdown).",
        discussion: """
            Examples:
              strata configdoc > keys.md
              strata configdoc | grep admin
            """)

    func run() throws { print(ConfigKeys.markdown(), terminator: "") }
}

struct GenConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genconfig", abstract: "Write a minimal configuration with fresh secrets.",
        discussion: """
            The format follows the file's extension: .json (the default), .yaml / .yml or .toml.

            Examples:
              strata genconfig                       # config.json
              strata genconfig -c /etc/strata.yaml   # the same settings in YAML
            """)

    @Option(name: [.short, .long], help: "Where to write it (.json, .yaml, .yml or .toml).")
    var config: String = "config.json"

    func run() async throws {
        guard !FileManager.default.fileExists(atPath: config) else {
            throw ValidationError("\(config) already exists")
        }
        let format = ConfigFormats.Format(path: config) ?? .json
        let text = Self.text(format, tokenSecret: Secret.make(), apiKey: Secret.make())
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        print("wrote \(config)")
    }

    /// The same minimal configuration in each format the loader reads.
    static func text(_ format: ConfigFormats.Format, tokenSecret: String, apiKey: String) -> String {
        switch format {
        case .json:
            return """
                {
                  "client": {
                    "token": { "hmac_secret_key": "\(tokenSecret)" },
                    "allowed_origins": []
                  },
                  "http_api": { "key": "\(apiKey)" },
                  "health": { "enabled": true },
                  "channel": {
                    "without_namespace": {
                      "allow_subscribe_for_client": true,
                      "history_size": 100,
                      "history_ttl": "300s",
                      "force_recovery": true
                    }
                  }
                }

                """
        case .yaml:
            return """
                client:
                  token:
                    hmac_secret_key: "\(tokenSecret)"
                  allowed_origins: []
                http_api:
                  key: "\(apiKey)"
                health:
                  enabled: true
                channel:
                  without_namespace:
                    allow_subscribe_for_client: true
                    history_size: 100
                    history_ttl: 300s
                    force_recovery: true

                """
        case .toml:
            return """
                [client]
                allowed_origins = []

                [client.token]
                hmac_secret_key = "\(tokenSecret)"

                [http_api]
                key = "\(apiKey)"

                [health]
                enabled = true

                [channel.without_namespace]
                allow_subscribe_for_client = true
                history_size = 100
                history_ttl = "300s"
                force_recovery = true

                """
        }
    }
}

enum Secret {
    static func make() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
    }
}

struct GenToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gentoken", abstract: "Print an HS256 connection token signed with client.token.hmac_secret_key.",
        discussion: """
            Examples:
              strata gentoken -c config.json -u alice            # valid for a week
              strata gentoken -c config.json -u bob --ttl 3600 -s news   # a subscription token
            """)

    @OptionGroup var options: ConfigOptions
    @Option(name: [.short, .long], help: "User id (sub claim).")
    var user: String = ""
    @Option(name: [.short, .long], help: "Lifetime in seconds (0: no expiry).")
    var ttl: Int64 = 604_800
    @Option(name: [.customShort("s"), .long], help: "Make a subscription token for this channel instead.")
    var channel: String?

    func run() async throws {
        let config = try options.load()
        let secret = config.client.token.hmacSecretKey
        guard !secret.isEmpty else { throw ValidationError("client.token.hmac_secret_key is not set in \(options.config)") }
        let now = Int64(Date().timeIntervalSince1970)
        print(TokenIssuer.hs256(secret: secret, user: user, now: now, ttlSeconds: ttl, channel: channel))
    }
}

struct Version: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.", discussion: """
            Examples:
              strata version
            """)

    func run() async throws {
        print("strata \(Node.version)")
    }
}
