package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// A minimal Centrifugo client over JSON WebSocket: connect, subscribe (with or without
// recovery), read pushes, answer pings. Enough to drive a server the way SDKs do. It speaks the
// client protocol v2 (Centrifugo v4+, Strata), or v1 (`useV1`: the Go centrifuge library
// Debian packages, v0.15, which our peer is built on).
var useV1 bool

// Protocol v1 names methods by number and wraps every result in "result".
var v1Methods = map[string]int{"connect": 0, "subscribe": 1}

type client struct {
	ws      *websocket.Conn
	body    io.ReadCloser // an SSE subscriber's stream (sse.go), instead of ws
	writeMu sync.Mutex
	nextID  uint32
	// Replies by command id, delivered to the waiting caller.
	replies sync.Map // uint32 -> chan map[string]json.RawMessage
	// Called with the raw JSON of every push (in the reader goroutine). Pushes are the hot path
	// of a fan-out to thousands of clients on the generator's one core, so they are not decoded
	// here: the test picks out what it needs.
	onPush func(line []byte)
	frames  atomic.Int64
	bytes   atomic.Int64
	done    chan struct{}
	closeErr atomic.Value
}

type publication struct {
	Offset uint64          `json:"offset"`
	Data   json.RawMessage `json:"data"`
}

var dialer = websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 1024}

func dial(url string, onPush func([]byte)) (*client, error) {
	header := http.Header{}
	if useProtobuf {
		header.Set("Sec-WebSocket-Protocol", "centrifuge-protobuf")
	}
	ws, _, err := dialer.Dial(url, header)
	if err != nil {
		return nil, err
	}
	c := &client{ws: ws, onPush: onPush, done: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *client) send(msg any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// call sends one command and waits for its reply (the result object, or an error).
func (c *client) call(method string, params any, timeout time.Duration) (json.RawMessage, error) {
	id := atomic.AddUint32(&c.nextID, 1)
	ch := make(chan map[string]json.RawMessage, 1)
	c.replies.Store(id, ch)
	defer c.replies.Delete(id)
	var cmd any = map[string]any{"id": id, method: params}
	if useV1 {
		cmd = map[string]any{"id": id, "method": v1Methods[method], "params": params}
	}
	if useProtobuf {
		encoded, err := pbCommand(id, method, params.(map[string]any))
		if err != nil {
			return nil, err
		}
		if err := c.sendBinary(pbDelimited(encoded)); err != nil {
			return nil, err
		}
	} else if err := c.send(cmd); err != nil {
		return nil, err
	}
	select {
	case reply := <-ch:
		if e, ok := reply["error"]; ok {
			return nil, fmt.Errorf("%s error: %s", method, e)
		}
		if useV1 {
			return reply["result"], nil
		}
		return reply[method], nil
	case <-c.done:
		return nil, fmt.Errorf("%s: connection closed (%v)", method, c.closeErr.Load())
	case <-time.After(timeout):
		return nil, fmt.Errorf("%s: no reply within %v", method, timeout)
	}
}

func (c *client) sendBinary(b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.ws.WriteMessage(websocket.BinaryMessage, b)
}

func (c *client) read() {
	defer close(c.done)
	for {
		_, frame, err := c.ws.ReadMessage()
		if err != nil {
			c.closeErr.Store(err)
			return
		}
		c.frames.Add(1)
		c.bytes.Add(int64(len(frame)))
		if useProtobuf {
			c.handleProtobuf(frame)
			continue
		}
		for _, line := range bytes.Split(frame, []byte{'\n'}) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			c.handle(line)
		}
	}
}

var pushPrefix, v1PushPrefix = []byte(`{"push":`), []byte(`{"result":`)

func (c *client) handle(line []byte) {
	if bytes.HasPrefix(line, pushPrefix) || (useV1 && bytes.HasPrefix(line, v1PushPrefix)) {
		if c.onPush != nil {
			c.onPush(line)
		}
		return
	}
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(line, &msg); err != nil {
		return
	}
	if len(msg) == 0 { // the server's ping: answer with an empty command
		_ = c.send(struct{}{})
		return
	}
	if raw, ok := msg["id"]; ok {
		var id uint32
		if json.Unmarshal(raw, &id) == nil && id > 0 {
			if ch, ok := c.replies.Load(id); ok {
				ch.(chan map[string]json.RawMessage) <- msg
			}
			return
		}
	}
}

func (c *client) handleProtobuf(frame []byte) {
	for _, msg := range pbSplit(frame) {
		if len(msg) == 0 { // the server's ping: answer with an empty command
			_ = c.sendBinary([]byte{0})
			continue
		}
		id, isPush, reply := pbReply(msg)
		if isPush {
			if c.onPush != nil {
				c.onPush(msg)
			}
			continue
		}
		if id > 0 {
			if ch, ok := c.replies.Load(id); ok {
				ch.(chan map[string]json.RawMessage) <- reply
			}
		}
	}
}

func (c *client) close() {
	if c.ws == nil {
		_ = c.body.Close()
		<-c.done
		return
	}
	c.writeMu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.writeMu.Unlock()
	_ = c.ws.Close()
	<-c.done
}

// subscribeResult is what the tests read of a subscribe reply.
type subscribeResult struct {
	Epoch        string        `json:"epoch"`
	Offset       uint64        `json:"offset"`
	Recovered    bool          `json:"recovered"`
	Publications []publication `json:"publications"`
}

// connectAndSubscribe connects anonymously and subscribes; `since` non-nil asks for recovery.
func connectAndSubscribe(url, channel string, since *subscribeResult, onPush func([]byte)) (*client, subscribeResult, error) {
	if sseMode != "" {
		c, err := dialSSE(url, channel, onPush)
		return c, subscribeResult{}, err
	}
	c, err := dial(url, onPush)
	if err != nil {
		return nil, subscribeResult{}, err
	}
	if _, err := c.call("connect", map[string]any{"name": "strata-loadgen"}, 10*time.Second); err != nil {
		c.close()
		return nil, subscribeResult{}, err
	}
	params := map[string]any{"channel": channel}
	if since != nil {
		params["recover"] = true
		params["offset"] = since.Offset
		params["epoch"] = since.Epoch
	}
	raw, err := c.call("subscribe", params, 10*time.Second)
	if err != nil {
		c.close()
		return nil, subscribeResult{}, err
	}
	var res subscribeResult
	_ = json.Unmarshal(raw, &res)
	return c, res, nil
}

// publisher posts to the server API's publish, one request at a time on a keep-alive connection.
type publisher struct {
	url, key string
	http     *http.Client
}

func newPublisher(url, key string) *publisher {
	return &publisher{url: url, key: key, http: &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true, Proxy: nil},
	}}
}

func (p *publisher) publish(channel string, data []byte) error {
	if sseMode == "nchan-sse" { // Nchan: POST /pub?channel=X, the payload as the body
		resp, err := p.http.Post(p.url+"?channel="+channel, "application/json", bytes.NewReader(data))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return fmt.Errorf("publish: HTTP %d", resp.StatusCode)
		}
		return nil
	}
	body, _ := json.Marshal(map[string]any{"channel": channel, "data": json.RawMessage(data)})
	req, _ := http.NewRequest(http.MethodPost, p.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if p.key != "" {
		req.Header.Set("X-API-Key", p.key)
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return err
	}
	var out struct {
		Error *struct{ Code int } `json:"error"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("publish: HTTP %d", resp.StatusCode)
	}
	if err == nil && out.Error != nil {
		return fmt.Errorf("publish: error %d", out.Error.Code)
	}
	return nil
}

// closedCount is how many of the clients' connections have ended (closed by the server).
func closedCount(clients []*client) int {
	n := 0
	for _, c := range clients {
		if c == nil {
			continue
		}
		select {
		case <-c.done:
			n++
		default:
		}
	}
	return n
}
