// strata-loadgen drives a Centrifugo-compatible server (Strata, Centrifugo, a server on the Go
// centrifuge library) over the client protocol v2 (JSON, or Protobuf with -proto protobuf) and
// its HTTP publish API, and prints one
// JSON line per test with what it measured of the clients and of the server's processes.
//
//	strata-loadgen -test fanout -ws ws://127.0.0.1:18100/connection/websocket \
//	    -pub http://127.0.0.1:18100/api/publish -key bench-key -server-pid 1234 -target strata
//
// Tests (Benchmarks/README.md): fanout (n subscribers, m publications paced at -rate), fanout-max
// (the same, publications back to back), recovery-storm (n clients recover k missed publications
// at once), idle-conns (n idle subscribed connections: memory per connection, and how much of it
// the server gives back once they closed), hold (n connections on one channel held for -hold,
// then one publication that must reach all of them). Connections are
// anonymous: the server's config must allow anonymous connect and subscribe on -channel.
// Built offline from Debian's golang-go and golang-github-gorilla-websocket-dev
// (Benchmarks/scripts/build-tools.sh).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

func main() {
	var cfg config
	test := flag.String("test", "fanout", "fanout | fanout-max | recovery-storm | idle-conns | hold")
	target := flag.String("target", "server", "name written into the result")
	flag.StringVar(&cfg.wsURL, "ws", "ws://127.0.0.1:8000/connection/websocket", "WebSocket endpoint")
	flag.StringVar(&cfg.pubURL, "pub", "http://127.0.0.1:8000/api/publish", "server API publish URL")
	flag.StringVar(&cfg.apiKey, "key", "", "server API key (X-API-Key)")
	pids := flag.String("server-pid", "", "comma-separated PIDs whose CPU and memory are measured")
	flag.IntVar(&cfg.n, "n", 1000, "clients")
	flag.IntVar(&cfg.m, "m", 2000, "publications (fanout)")
	flag.IntVar(&cfg.size, "size", 256, "publication size in bytes")
	flag.Float64Var(&cfg.rate, "rate", 50, "publications per second (fanout; fanout-max ignores it)")
	flag.IntVar(&cfg.stormK, "k", 50, "publications missed per client (recovery-storm)")
	flag.IntVar(&cfg.dialParallel, "dial-parallel", 200, "connects in flight at once")
	flag.StringVar(&cfg.channel, "channel", "", "channel (default: a fresh one per run)")
	flag.DurationVar(&cfg.hold, "hold", 60*time.Second, "hold: how long the connections are held before the publication")
	flag.IntVar(&cfg.warmup, "warmup", 100, "idle-conns: connections opened and closed before memory is measured")
	proto := flag.String("proto", "v2", "client protocol: v2 (Centrifugo v4+, Strata; JSON), protobuf (v2 in Protobuf), v1 (Go centrifuge v0.15), uni-sse (one-way SSE: -ws is its http:// URL) or nchan-sse (Nchan's EventSource, -ws its /sub URL, -pub its /pub URL)")
	var extra multiFlag
	flag.Var(&extra, "extra", "key=value added to the result (repeatable)")
	flag.Parse()
	cfg.server = parsePIDs(*pids)
	useV1 = *proto == "v1"
	useProtobuf = *proto == "protobuf"
	if *proto == "uni-sse" || *proto == "nchan-sse" {
		sseMode = *proto
	}
	if cfg.channel == "" {
		cfg.channel = fmt.Sprintf("bench-%d", time.Now().UnixNano())
	}

	var res result
	switch *test {
	case "fanout":
		cfg.hold = 0
		res = fanout(cfg)
	case "fanout-max":
		cfg.rate = 0
		cfg.hold = 0
		res = fanout(cfg)
	case "recovery-storm":
		res = recoveryStorm(cfg)
	case "idle-conns":
		res = idleConns(cfg)
	case "hold":
		// n connections on one channel held for -hold, then one publication to all of them.
		cfg.m = 1
		res = fanout(cfg)
	default:
		fmt.Fprintf(os.Stderr, "unknown test %q\n", *test)
		os.Exit(2)
	}
	res["test"] = *test
	res["target"] = *target
	res["ts"] = time.Now().UTC().Format(time.RFC3339)
	res["server_pids"] = *pids
	for _, kv := range extra {
		if k, v, ok := strings.Cut(kv, "="); ok {
			res[k] = v
		}
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	if e, ok := res["error"]; ok {
		fmt.Fprintf(os.Stderr, "%s: %v\n", *test, e)
		os.Exit(1)
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
