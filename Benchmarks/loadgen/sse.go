package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Server-sent events instead of WebSocket (-proto uni-sse, -proto nchan-sse): each subscriber is
// one long GET whose `data:` lines are the pushes. uni-sse is Strata's and Centrifugo's one-way
// SSE (the channel through the connect request's `subs`, the connect push first); nchan-sse is
// Nchan's EventSource (`?channel=`; published with `-pub-mode nchan`, the payload as the body).
var sseMode string

var sseHTTP = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true, Proxy: nil}}

// dialSSE opens the stream of one subscriber of `channel`; it returns once the subscription is
// live (uni-sse: its connect push arrived; nchan-sse: the response headers).
func dialSSE(base, channel string, onPush func([]byte)) (*client, error) {
	var target string
	if sseMode == "nchan-sse" {
		target = base + "?channel=" + url.QueryEscape(channel)
	} else {
		target = base + "?cf_connect=" + url.QueryEscape(fmt.Sprintf(`{"subs":{%q:{}}}`, channel))
	}
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := sseHTTP.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		return nil, fmt.Errorf("sse status %d", resp.StatusCode)
	}
	c := &client{body: resp.Body, onPush: onPush, done: make(chan struct{})}
	ready := make(chan struct{})
	go c.readSSE(resp.Body, ready)
	if sseMode == "nchan-sse" {
		return c, nil
	}
	select {
	case <-ready:
		return c, nil
	case <-c.done:
		return nil, fmt.Errorf("sse stream ended before the connect push (%v)", c.closeErr.Load())
	case <-time.After(10 * time.Second):
		c.body.Close()
		return nil, fmt.Errorf("no connect push within 10s")
	}
}

var connectPrefix, pubKey = []byte(`{"connect":`), []byte(`"pub":`)

func (c *client) readSSE(body io.Reader, ready chan struct{}) {
	defer close(c.done)
	br := bufio.NewReaderSize(body, 4096)
	connected := false
	for {
		line, err := br.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			c.closeErr.Store(err)
			return
		}
		c.bytes.Add(int64(len(line)))
		if !bytes.HasPrefix(line, []byte("data:")) {
			if len(bytes.TrimSpace(line)) == 0 {
				c.frames.Add(1)
			}
			continue
		}
		data := bytes.TrimSpace(line[5:])
		switch {
		case sseMode == "nchan-sse":
			if c.onPush != nil {
				c.onPush(data)
			}
		case !connected && bytes.HasPrefix(data, connectPrefix):
			connected = true
			close(ready)
		case bytes.Contains(data, pubKey):
			if c.onPush != nil {
				c.onPush(data)
			}
		}
	}
}
