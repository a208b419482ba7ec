package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type config struct {
	wsURL, pubURL, apiKey string
	server                server
	n, m, size            int
	rate                  float64 // publications per second; 0 = as fast as the server answers
	stormK                int
	dialParallel          int
	channel               string
	hold                  time.Duration // fanout: connections held this long before the first publication
	warmup                int           // idle-conns: connections opened and closed before measuring
}

type result map[string]any

// connectMany connects n clients (at most dialParallel dials at once) subscribed to channels
// named by channelOf(i).
func connectMany(cfg config, n int, channelOf func(int) string, onPush func(int) func([]byte)) ([]*client, []subscribeResult, int, error) {
	clients := make([]*client, n)
	subs := make([]subscribeResult, n)
	var failed int64
	var firstErr atomic.Value
	sem := make(chan struct{}, cfg.dialParallel)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			var handler func([]byte)
			if onPush != nil {
				handler = onPush(i)
			}
			c, sub, err := connectAndSubscribe(cfg.wsURL, channelOf(i), nil, handler)
			if err != nil {
				atomic.AddInt64(&failed, 1)
				firstErr.CompareAndSwap(nil, err)
				return
			}
			clients[i], subs[i] = c, sub
		}(i)
	}
	wg.Wait()
	if failed > 0 {
		return clients, subs, int(failed), fmt.Errorf("%d of %d connects failed, first: %v", failed, n, firstErr.Load())
	}
	return clients, subs, 0, nil
}

func closeAll(clients []*client) {
	var wg sync.WaitGroup
	for _, c := range clients {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func(c *client) { defer wg.Done(); c.close() }(c)
	}
	wg.Wait()
}

// payload is a publication of `size` bytes carrying its sequence number and send time.
func payload(seq int, size int) []byte {
	head := fmt.Sprintf(`{"i":%d,"t":%d,"p":"`, seq, time.Now().UnixNano())
	pad := size - len(head) - 2
	if pad < 0 {
		pad = 0
	}
	return []byte(head + strings.Repeat("x", pad) + `"}`)
}

// number after `key` in a push's raw JSON (the payload's "i" and "t"), or -1.
func number(line []byte, key []byte) int64 {
	at := bytes.Index(line, key)
	if at < 0 {
		return -1
	}
	var n int64
	digits := 0
	for _, b := range line[at+len(key):] {
		if b < '0' || b > '9' {
			break
		}
		n = n*10 + int64(b-'0')
		digits++
	}
	if digits == 0 {
		return -1
	}
	return n
}

var keyI, keyT = []byte(`{"i":`), []byte(`,"t":`)

// fanout: n subscribers of one channel, m publications through the API (paced at rate, or back
// to back); every subscriber must get every publication once.
func fanout(cfg config) result {
	type receiver struct {
		mu        sync.Mutex
		seen      []bool
		dups      int
		latencies []time.Duration
	}
	recv := make([]*receiver, cfg.n)
	for i := range recv {
		recv[i] = &receiver{seen: make([]bool, cfg.m), latencies: make([]time.Duration, 0, cfg.m)}
	}
	var delivered int64
	onPush := func(i int) func([]byte) {
		r := recv[i]
		return func(line []byte) {
			now := time.Now().UnixNano()
			seq, sent := number(line, keyI), number(line, keyT)
			if seq < 0 || seq >= int64(cfg.m) || sent < 0 {
				return
			}
			r.mu.Lock()
			if r.seen[seq] {
				r.dups++
			} else {
				r.seen[seq] = true
				r.latencies = append(r.latencies, time.Duration(now-sent))
				atomic.AddInt64(&delivered, 1)
			}
			r.mu.Unlock()
		}
	}
	rssIdle := cfg.server.rssKB()
	start := time.Now()
	clients, _, failed, err := connectMany(cfg, cfg.n, func(int) string { return cfg.channel }, onPush)
	connectTime := time.Since(start)
	res := result{"n": cfg.n, "m": cfg.m, "size": cfg.size, "rate": cfg.rate, "connect_s": connectTime.Seconds(),
		"connect_errors": failed, "rss_idle_kb": rssIdle, "rss_connected_kb": cfg.server.rssKB()}
	if err != nil {
		res["error"] = err.Error()
		closeAll(clients)
		return res
	}
	res["connects_per_s"] = float64(cfg.n) / connectTime.Seconds()
	if cfg.hold > 0 {
		// Held idle (the server pings them), then one publication must reach every one.
		cpuHold := cfg.server.cpu()
		time.Sleep(cfg.hold)
		res["hold_s"] = cfg.hold.Seconds()
		res["hold_server_cpu_s"] = (cfg.server.cpu() - cpuHold).Seconds()
		held := cfg.server.rssKB()
		res["rss_held_kb"] = held
		res["rss_per_conn_kb"] = float64(held-rssIdle) / float64(cfg.n)
		res["socket_mem_kb"] = socketMemKB()
		res["connections_lost"] = closedCount(clients)
	}
	time.Sleep(300 * time.Millisecond)
	pub := newPublisher(cfg.pubURL, cfg.apiKey)
	cpu0 := cfg.server.cpu()
	t0 := time.Now()
	var publishErrors int
	var interval time.Duration
	if cfg.rate > 0 {
		interval = time.Duration(float64(time.Second) / cfg.rate)
	}
	for i := 0; i < cfg.m; i++ {
		if interval > 0 {
			if d := time.Until(t0.Add(time.Duration(i) * interval)); d > 0 {
				time.Sleep(d)
			}
		}
		if err := pub.publish(cfg.channel, payload(i, cfg.size)); err != nil {
			publishErrors++
		}
	}
	publishTime := time.Since(t0)
	expected := int64(cfg.n) * int64(cfg.m-publishErrors)
	deadline := time.Now().Add(10 * time.Second)
	var peak int64
	for atomic.LoadInt64(&delivered) < expected && time.Now().Before(deadline) {
		if r := cfg.server.rssKB(); r > peak {
			peak = r
		}
		time.Sleep(5 * time.Millisecond)
	}
	span := time.Since(t0)
	cpu := cfg.server.cpu() - cpu0
	var lat []time.Duration
	dups := 0
	var frames, wire int64
	for i, r := range recv {
		r.mu.Lock()
		lat = append(lat, r.latencies...)
		dups += r.dups
		r.mu.Unlock()
		frames += clients[i].frames.Load()
		wire += clients[i].bytes.Load()
	}
	sortDurations(lat)
	got := atomic.LoadInt64(&delivered)
	res["publish_s"] = publishTime.Seconds()
	res["publish_errors"] = publishErrors
	res["achieved_pub_rate"] = float64(cfg.m) / publishTime.Seconds()
	res["expected"] = expected
	res["delivered"] = got
	res["missing"] = expected - got
	res["duplicates"] = dups
	res["delivery_span_s"] = span.Seconds()
	res["deliveries_per_s"] = float64(got) / span.Seconds()
	res["server_cpu_s"] = cpu.Seconds()
	if got > 0 {
		res["server_cpu_us_per_delivery"] = float64(cpu.Microseconds()) / float64(got)
		res["frames_per_delivery"] = float64(frames) / float64(got)
		res["wire_bytes_per_delivery"] = float64(wire) / float64(got)
	}
	res["lat_p50_ms"] = percentileMS(lat, 0.50)
	res["lat_p99_ms"] = percentileMS(lat, 0.99)
	res["lat_max_ms"] = percentileMS(lat, 1)
	if r := cfg.server.rssKB(); r > peak {
		peak = r
	}
	res["rss_peak_kb"] = peak
	closeAll(clients)
	return res
}

// recoveryStorm: n clients on one channel with recovery go away, k publications are made, and all
// n come back at once recovering from their position; each must get exactly the k it missed.
func recoveryStorm(cfg config) result {
	clients, subs, failed, err := connectMany(cfg, cfg.n, func(int) string { return cfg.channel }, nil)
	res := result{"n": cfg.n, "k": cfg.stormK, "connect_errors": failed}
	if err != nil {
		res["error"] = err.Error()
		closeAll(clients)
		return res
	}
	closeAll(clients)
	pub := newPublisher(cfg.pubURL, cfg.apiKey)
	for i := 0; i < cfg.stormK; i++ {
		if err := pub.publish(cfg.channel, payload(i, cfg.size)); err != nil {
			res["error"] = err.Error()
			return res
		}
	}
	time.Sleep(200 * time.Millisecond)
	cpu0 := cfg.server.cpu()
	start := time.Now()
	var missing, dups, reconnectErrors, notRecovered int64
	latencies := make([]time.Duration, cfg.n)
	back := make([]*client, cfg.n)
	var wg sync.WaitGroup
	for i := 0; i < cfg.n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			t := time.Now()
			c, sub, err := connectAndSubscribe(cfg.wsURL, cfg.channel, &subs[i], nil)
			if err != nil {
				atomic.AddInt64(&reconnectErrors, 1)
				return
			}
			back[i] = c
			latencies[i] = time.Since(t)
			if !sub.Recovered {
				atomic.AddInt64(&notRecovered, 1)
			}
			want := subs[i].Offset + 1
			seen := map[uint64]bool{}
			for _, p := range sub.Publications {
				if seen[p.Offset] {
					atomic.AddInt64(&dups, 1)
				}
				seen[p.Offset] = true
			}
			for o := want; o < want+uint64(cfg.stormK); o++ {
				if !seen[o] {
					atomic.AddInt64(&missing, 1)
				}
			}
		}(i)
	}
	wg.Wait()
	all := time.Since(start)
	cpu := cfg.server.cpu() - cpu0
	sortDurations(latencies)
	res["all_recovered_s"] = all.Seconds()
	res["client_p50_ms"] = percentileMS(latencies, 0.5)
	res["client_p99_ms"] = percentileMS(latencies, 0.99)
	res["missing"] = missing
	res["duplicates"] = dups
	res["not_recovered"] = notRecovered
	res["reconnect_errors"] = reconnectErrors
	res["server_cpu_s"] = cpu.Seconds()
	res["rss_peak_kb"] = cfg.server.rssKB()
	closeAll(back)
	return res
}

// idleConns: n connections, each subscribed to a channel of its own, held idle; the server's
// memory before, with them, and after they closed.
func idleConns(cfg config) result {
	cold := cfg.server.rssKB()
	if cfg.warmup > 0 {
		// A server's first connections page in code and fill its runtime's caches once; a short
		// round of them first makes "before" what the process holds when it has no connections.
		warm, _, _, _ := connectMany(cfg, cfg.warmup, func(i int) string { return fmt.Sprintf("%s-warmup-%d", cfg.channel, i) }, nil)
		closeAll(warm)
		time.Sleep(2 * time.Second)
	}
	before := cfg.server.rssKB()
	anonBefore, fileBefore := cfg.server.rssSplitKB()
	sockBefore := socketMemKB()
	start := time.Now()
	clients, _, failed, err := connectMany(cfg, cfg.n, func(i int) string { return fmt.Sprintf("%s-%d", cfg.channel, i) }, nil)
	res := result{"n": cfg.n, "connect_errors": failed, "rss_cold_kb": cold, "warmup": cfg.warmup, "rss_before_kb": before,
		"rss_anon_before_kb": anonBefore, "rss_file_before_kb": fileBefore}
	if err != nil {
		res["error"] = err.Error()
	}
	res["connect_s"] = time.Since(start).Seconds()
	res["connects_per_s"] = float64(cfg.n-failed) / time.Since(start).Seconds()
	time.Sleep(2 * time.Second)
	held := cfg.server.rssKB()
	res["rss_connected_kb"] = held
	res["rss_per_conn_kb"] = float64(held-before) / float64(cfg.n-failed)
	res["socket_mem_kb"] = socketMemKB() - sockBefore
	anonHeld, fileHeld := cfg.server.rssSplitKB()
	res["rss_anon_connected_kb"], res["rss_file_connected_kb"] = anonHeld, fileHeld
	closeAll(clients)
	time.Sleep(3 * time.Second)
	after := cfg.server.rssKB()
	res["rss_after_close_kb"] = after
	if before > 0 {
		res["rss_after_close_ratio"] = float64(after) / float64(before)
	}
	anonAfter, fileAfter := cfg.server.rssSplitKB()
	res["rss_anon_after_close_kb"], res["rss_file_after_close_kb"] = anonAfter, fileAfter
	return res
}
