package main

import (
	"encoding/json"
	"fmt"
)

// The Protobuf client protocol (-proto protobuf): subprotocol centrifuge-protobuf, binary
// messages of varint-delimited Command / Reply messages (client.proto). Written by hand for the
// few messages the tests use (connect, subscribe, the pong), since Debian packages no
// protocol-v2 Go types; a push is handed on as its raw Reply bytes, in which the published JSON
// payload sits verbatim, so the tests find their "i" and "t" in it as in a JSON push.
var useProtobuf bool

func pbVarint(out []byte, v uint64) []byte {
	for v >= 0x80 {
		out = append(out, byte(v)|0x80)
		v >>= 7
	}
	return append(out, byte(v))
}

func pbBytes(out []byte, field int, b []byte) []byte {
	out = pbVarint(out, uint64(field<<3|2))
	out = pbVarint(out, uint64(len(b)))
	return append(out, b...)
}

func pbUint(out []byte, field int, v uint64) []byte {
	if v == 0 {
		return out
	}
	return pbVarint(pbVarint(out, uint64(field<<3)), v)
}

// pbCommand encodes Command{id, <method>: params} for connect (4) and subscribe (5).
func pbCommand(id uint32, method string, params map[string]any) ([]byte, error) {
	var body []byte
	field := 0
	switch method {
	case "connect":
		field = 4
		if name, ok := params["name"].(string); ok {
			body = pbBytes(body, 4, []byte(name))
		}
	case "subscribe":
		field = 5
		body = pbBytes(body, 1, []byte(params["channel"].(string)))
		if r, _ := params["recover"].(bool); r {
			body = pbUint(body, 3, 1)
			if e, _ := params["epoch"].(string); e != "" {
				body = pbBytes(body, 6, []byte(e))
			}
			if o, ok := params["offset"].(uint64); ok {
				body = pbUint(body, 7, o)
			}
		}
	default:
		return nil, fmt.Errorf("protobuf: no encoder for %s", method)
	}
	cmd := pbUint(nil, 1, uint64(id))
	return pbBytes(cmd, field, body), nil
}

// pbDelimited frames messages as one binary WebSocket message.
func pbDelimited(messages ...[]byte) []byte {
	var out []byte
	for _, m := range messages {
		out = pbVarint(out, uint64(len(m)))
		out = append(out, m...)
	}
	return out
}

// pbFields calls fn for every field of a message; false when the message is malformed.
func pbFields(msg []byte, fn func(num int, v uint64, b []byte)) bool {
	for len(msg) > 0 {
		key, n := pbReadVarint(msg)
		if n == 0 {
			return false
		}
		msg = msg[n:]
		num, wt := int(key>>3), key&7
		switch wt {
		case 0:
			v, n := pbReadVarint(msg)
			if n == 0 {
				return false
			}
			msg = msg[n:]
			fn(num, v, nil)
		case 2:
			l, n := pbReadVarint(msg)
			if n == 0 || uint64(len(msg)-n) < l {
				return false
			}
			fn(num, 0, msg[n:n+int(l)])
			msg = msg[n+int(l):]
		case 1:
			if len(msg) < 8 {
				return false
			}
			msg = msg[8:]
		case 5:
			if len(msg) < 4 {
				return false
			}
			msg = msg[4:]
		default:
			return false
		}
	}
	return true
}

func pbReadVarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * uint(i))
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// pbSplit gives the messages of one binary WebSocket message.
func pbSplit(frame []byte) [][]byte {
	var out [][]byte
	for len(frame) > 0 {
		l, n := pbReadVarint(frame)
		if n == 0 || uint64(len(frame)-n) < l {
			return out
		}
		out = append(out, frame[n:n+int(l)])
		frame = frame[n+int(l):]
	}
	return out
}

// pbReply turns a Reply into what the JSON path hands to a waiting call: {"error": …} or
// {"connect": {}} / {"subscribe": {epoch, offset, recovered, publications}} as JSON.
func pbReply(msg []byte) (id uint32, isPush bool, reply map[string]json.RawMessage) {
	reply = map[string]json.RawMessage{}
	pbFields(msg, func(num int, v uint64, b []byte) {
		switch num {
		case 1:
			id = uint32(v)
		case 2:
			reply["error"] = json.RawMessage(fmt.Sprintf("%q", fmt.Sprintf("protobuf error %x", b)))
		case 4:
			isPush = true
		case 5:
			reply["connect"] = json.RawMessage(`{}`)
		case 6:
			var res subscribeResult
			pbFields(b, func(num int, v uint64, b []byte) {
				switch num {
				case 6:
					res.Epoch = string(b)
				case 7:
					var p publication
					pbFields(b, func(num int, v uint64, _ []byte) {
						if num == 6 {
							p.Offset = v
						}
					})
					res.Publications = append(res.Publications, p)
				case 8:
					res.Recovered = v != 0
				case 9:
					res.Offset = v
				}
			})
			raw, _ := json.Marshal(res)
			reply["subscribe"] = raw
		}
	})
	return
}
