// publish-load: concurrent publishes with history through a server's HTTP API, the same request
// to every server (POST {"channel":..,"data":..}), to compare the cost of a publish when many
// are in flight (the server can pipeline them into Redis). The peers' load generator has one
// sequential publisher only. Go standard library only: builds offline with Debian's golang-go.
//
//	go run ./Benchmarks/publish-load -url http://127.0.0.1:18100/api/publish -key bench-key \
//	    -conc 16 -duration 5s -server-pid 1234,5678 -target strata-redis
//
// Prints one JSON line: publishes/s, errors, latency percentiles, and the server processes' CPU
// per publish (utime+stime from /proc, summed over -server-pid).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func cpuTicks(pids []int) int64 {
	var ticks int64
	for _, p := range pids {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + st
	}
	return ticks
}

func main() {
	url := flag.String("url", "", "publish URL (/api/publish)")
	key := flag.String("key", "", "X-API-Key (empty: none)")
	conc := flag.Int("conc", 16, "concurrent publishers, one keep-alive connection each")
	dur := flag.Duration("duration", 5*time.Second, "how long to publish")
	size := flag.Int("size", 256, "payload size (a JSON string)")
	channel := flag.String("channel", "", "channel (default: a new one per run, without namespace)")
	pidList := flag.String("server-pid", "", "server PIDs whose CPU is summed, comma-separated")
	target := flag.String("target", "", "label for the report")
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "-url is required")
		os.Exit(2)
	}
	var pids []int
	for _, s := range strings.Split(*pidList, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			pids = append(pids, n)
		}
	}
	if *channel == "" {
		*channel = fmt.Sprintf("publish-load-%d", time.Now().UnixNano())
	}
	payload := `"` + strings.Repeat("x", *size) + `"`
	body := []byte(`{"channel":"` + *channel + `","data":` + payload + `}`)
	transport := &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}

	var count, errs int64
	lat := make([][]time.Duration, *conc)
	var wg sync.WaitGroup
	cpu0 := cpuTicks(pids)
	start := time.Now()
	deadline := start.Add(*dur)
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				t0 := time.Now()
				req, _ := http.NewRequest("POST", *url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if *key != "" {
					req.Header.Set("X-API-Key", *key)
				}
				resp, err := client.Do(req)
				if err != nil {
					atomic.AddInt64(&errs, 1)
					continue
				}
				reply, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !bytes.Contains(reply, []byte(`"result"`)) {
					atomic.AddInt64(&errs, 1)
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
				atomic.AddInt64(&count, 1)
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	cpu := float64(cpuTicks(pids)-cpu0) / 100.0
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000.0
	}
	out := map[string]interface{}{
		"test": "publish-load", "target": *target, "conc": *conc, "size": *size,
		"publishes": count, "errors": errs, "seconds": elapsed,
		"publishes_per_s": float64(count) / elapsed,
		"lat_p50_ms":      pct(0.50), "lat_p99_ms": pct(0.99),
		"server_cpu_s":    cpu,
		"ts":              time.Now().UTC().Format(time.RFC3339),
	}
	if count > 0 {
		out["server_cpu_us_per_publish"] = cpu * 1e6 / float64(count)
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
}
