// strata-bench-peer: a server on the Go centrifuge library (Debian's
// golang-github-centrifugal-centrifuge-dev, v0.15, client protocol v1), the peer our benchmarks
// compare Strata with besides the real Centrifugo. Anonymous connections may subscribe to any
// channel with recovery; publications go through POST /api/publish ({"channel","data"}) with
// history kept (HISTORY_SIZE, default 1000, for 300 s).
//
//	PORT=18000 ENGINE=memory|redis REDIS_ADDR=127.0.0.1:6379 strata-bench-peer
package main

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/centrifugal/centrifuge"
)

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func main() {
	cfg := centrifuge.DefaultConfig
	node, err := centrifuge.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	if env("ENGINE", "memory") == "redis" {
		shard, err := centrifuge.NewRedisShard(node, centrifuge.RedisShardConfig{Address: env("REDIS_ADDR", "127.0.0.1:6379")})
		if err != nil {
			log.Fatal(err)
		}
		broker, err := centrifuge.NewRedisBroker(node, centrifuge.RedisBrokerConfig{Shards: []*centrifuge.RedisShard{shard}})
		if err != nil {
			log.Fatal(err)
		}
		node.SetBroker(broker)
		presence, err := centrifuge.NewRedisPresenceManager(node, centrifuge.RedisPresenceManagerConfig{Shards: []*centrifuge.RedisShard{shard}})
		if err != nil {
			log.Fatal(err)
		}
		node.SetPresenceManager(presence)
	}
	node.OnConnecting(func(ctx context.Context, e centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
		return centrifuge.ConnectReply{Credentials: &centrifuge.Credentials{UserID: ""}}, nil
	})
	node.OnConnect(func(client *centrifuge.Client) {
		client.OnSubscribe(func(e centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
			cb(centrifuge.SubscribeReply{Options: centrifuge.SubscribeOptions{Recover: true}}, nil)
		})
	})
	if err := node.Run(); err != nil {
		log.Fatal(err)
	}

	historySize, _ := strconv.Atoi(env("HISTORY_SIZE", "1000"))
	mux := http.NewServeMux()
	mux.Handle("/connection/websocket", centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{}))
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("{}")) })
	mux.HandleFunc("/api/publish", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Channel string          `json:"channel"`
			Data    json.RawMessage `json:"data"`
		}
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&req) != nil || req.Channel == "" || len(req.Data) == 0 {
			http.Error(w, "Bad Request", http.StatusBadRequest)
			return
		}
		res, err := node.Publish(req.Channel, req.Data, centrifuge.WithHistory(historySize, 300*time.Second))
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			_, _ = w.Write([]byte(`{"error":{"code":100,"message":"internal server error"}}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"result": map[string]any{"offset": res.Offset, "epoch": res.Epoch}})
	})
	addr := "127.0.0.1:" + env("PORT", "18000")
	log.Printf("strata-bench-peer on %s (engine %s)", addr, env("ENGINE", "memory"))
	log.Fatal(http.ListenAndServe(addr, mux))
}
