import ArgumentParser

/// The serve command's flags: Strata's short ones and every flag of Centrifugo's `centrifugo`
/// command whose key Strata knows, so a systemd unit or container command written for Centrifugo
/// starts Strata unchanged. Each sets the configuration key it names, above the environment and
/// the file, and is checked like them (a flag for something Strata refuses stops the start with
/// the same error as the key would).
struct ServeFlags: ParsableArguments {
    @Option(name: [.short, .long, .customLong("http_server.port")], help: "Port to listen on (http_server.port).")
    var port: String?
    @Option(name: [.short, .long, .customLong("http_server.address")], help: "Address to bind (http_server.address).")
    var address: String?
    @Option(name: [.customLong("log-level"), .customLong("log.level")], help: "none, trace, debug, info, warn or error (log.level).")
    var logLevel: String?
    @Option(name: .customLong("engine.type"), help: "lmdb, memory or redis (engine.type).")
    var engineType: String?
    @Option(name: .customLong("broker.type"), help: "memory or redis (broker.type).")
    var brokerType: String?
    @Option(name: .customLong("presence_manager.type"), help: "memory or redis (presence_manager.type).")
    var presenceManagerType: String?
    @Option(name: .customLong("grpc_api.port"), help: "Port of the gRPC API (grpc_api.port).")
    var grpcAPIPort: String?
    @Option(name: .customLong("uni_grpc.port"), help: "Port of uni_grpc (uni_grpc.port).")
    var uniGRPCPort: String?
    @Option(name: .customLong("pid_file"), help: "Where to write the process id (pid_file).")
    var pidFile: String?
    @Option(name: .customLong("log.file"), help: "Refused: Strata logs to standard error (log.file).")
    var logFile: String?
    @Option(name: .customLong("http_server.internal_address"), help: "Refused: one port (http_server.internal_address).")
    var internalAddress: String?
    @Option(name: .customLong("http_server.internal_port"), help: "Refused: one port (http_server.internal_port).")
    var internalPort: String?

    // Centrifugo's switches; each sets `<key>` to true.
    @Flag(name: .customLong("sse.enabled")) var sse = false
    @Flag(name: .customLong("http_stream.enabled")) var httpStream = false
    @Flag(name: .customLong("uni_websocket.enabled")) var uniWebSocket = false
    @Flag(name: .customLong("uni_sse.enabled")) var uniSSE = false
    @Flag(name: .customLong("uni_http_stream.enabled")) var uniHTTPStream = false
    @Flag(name: .customLong("uni_grpc.enabled")) var uniGRPC = false
    @Flag(name: .customLong("admin.enabled")) var admin = false
    @Flag(name: .customLong("admin.external")) var adminExternal = false
    @Flag(name: .customLong("admin.insecure")) var adminInsecure = false
    @Flag(name: .customLong("client.insecure")) var clientInsecure = false
    @Flag(name: .customLong("http_api.insecure")) var apiInsecure = false
    @Flag(name: .customLong("http_api.external")) var apiExternal = false
    @Flag(name: .customLong("health.enabled")) var health = false
    @Flag(name: .customLong("prometheus.enabled")) var prometheus = false
    @Flag(name: .customLong("grpc_api.enabled")) var grpcAPI = false
    @Flag(name: .customLong("broker.enabled")) var broker = false
    @Flag(name: .customLong("presence_manager.enabled")) var presenceManager = false
    @Flag(name: .customLong("debug.enabled")) var debug = false
    @Flag(name: .customLong("init.enabled")) var initEndpoint = false
    @Flag(name: .customLong("swagger.enabled")) var swagger = false

    /// Key path → value for the flags given.
    var overrides: [String: String] {
        var o: [String: String] = [:]
        let values: [(String, String?)] = [
            ("http_server.port", port), ("http_server.address", address), ("log.level", logLevel), ("engine.type", engineType),
            ("broker.type", brokerType), ("presence_manager.type", presenceManagerType), ("grpc_api.port", grpcAPIPort),
            ("uni_grpc.port", uniGRPCPort),
            ("pid_file", pidFile), ("log.file", logFile), ("http_server.internal_address", internalAddress),
            ("http_server.internal_port", internalPort),
        ]
        for case (let key, let value?) in values { o[key] = value }
        let switches: [(String, Bool)] = [
            ("sse.enabled", sse), ("http_stream.enabled", httpStream), ("uni_websocket.enabled", uniWebSocket),
            ("uni_sse.enabled", uniSSE), ("uni_http_stream.enabled", uniHTTPStream), ("uni_grpc.enabled", uniGRPC),
            ("admin.enabled", admin), ("admin.external", adminExternal), ("admin.insecure", adminInsecure),
            ("client.insecure", clientInsecure), ("http_api.insecure", apiInsecure), ("http_api.external", apiExternal),
            ("health.enabled", health), ("prometheus.enabled", prometheus), ("grpc_api.enabled", grpcAPI),
            ("broker.enabled", broker), ("presence_manager.enabled", presenceManager), ("debug.enabled", debug),
            ("init.enabled", initEndpoint), ("swagger.enabled", swagger),
        ]
        for (key, on) in switches where on { o[key] = "true" }
        return o
    }
}
