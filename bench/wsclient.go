package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// A minimal graphql-transport-ws client: connection_init with the token, subscribe,
// then one reader goroutine per connection that timestamps every event on arrival.

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// newWSHTTPClient is the HTTP client for WebSocket handshakes: loopback-only, and
// without a client timeout (coder/websocket refuses one; the dial context bounds it).
func newWSHTTPClient() *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, Control: loopbackControl}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("redirects are not followed")
		},
	}
}

// wsURL turns an http(s) URL into a ws(s) URL.
func wsURL(u string) string {
	if rest, ok := strings.CutPrefix(u, "http"); ok {
		return "ws" + rest
	}
	return u
}

// dialSubscriber opens a connection, authenticates and waits for connection_ack.
func dialSubscriber(ctx context.Context, hc *http.Client, url, token string) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(url), &websocket.DialOptions{HTTPClient: hc,
		Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	init, _ := json.Marshal(wsMessage{Type: "connection_init", Payload: json.RawMessage(
		fmt.Sprintf(`{"Authorization":%q}`, "Bearer "+token))})
	if err := c.Write(ctx, websocket.MessageText, init); err != nil {
		c.CloseNow()
		return nil, err
	}
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			c.CloseNow()
			return nil, fmt.Errorf("waiting for connection_ack: %w", err)
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			c.CloseNow()
			return nil, err
		}
		switch m.Type {
		case "connection_ack":
			return c, nil
		case "ping":
			_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`))
		default:
			c.CloseNow()
			return nil, fmt.Errorf("want connection_ack, got %s %s", m.Type, m.Payload)
		}
	}
}

const eventSubscription = `subscription BenchEvents($id: ID!) {
  resolutionEventAdded(resolutionId: $id) { cursor node { id action createdAt } }
}`

// subscribe starts a resolutionEventAdded subscription with the given id.
func subscribe(ctx context.Context, c *websocket.Conn, id, caseID string) error {
	p, _ := json.Marshal(map[string]any{"query": eventSubscription, "variables": map[string]any{"id": caseID}})
	m, _ := json.Marshal(wsMessage{ID: id, Type: "subscribe", Payload: p})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return c.Write(ctx, websocket.MessageText, m)
}

// deliveries is what the readers observed.
type deliveries struct {
	recording atomic.Bool  // count and time deliveries only while the actions run
	count     atomic.Int64 // deliveries while recording
	total     atomic.Int64 // all deliveries
	errors    atomic.Int64
	lag       Samples
	elog      errorLog
	closing   atomic.Bool
	seen      []atomic.Bool // per subscription: received an event
	seenCount atomic.Int64  // subscriptions that received an event
}

type eventPayload struct {
	Data *struct {
		ResolutionEventAdded struct {
			Node struct{ CreatedAt time.Time }
		}
	}
	Errors []gqlError
}

// read consumes a connection until it fails or ctx ends, timing each event from its
// commit (createdAt, millisecond precision, same clock) to its arrival.
func (d *deliveries) read(ctx context.Context, c *websocket.Conn) {
	for {
		_, b, err := c.Read(ctx)
		at := time.Now()
		if err != nil {
			if ctx.Err() == nil && !d.closing.Load() {
				d.errors.Add(1)
				d.elog.add(fmt.Errorf("subscription connection ended: %w", err))
			}
			return
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			d.errors.Add(1)
			d.elog.add(err)
			continue
		}
		switch m.Type {
		case "next":
			var p eventPayload
			if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 || p.Data == nil {
				d.errors.Add(1)
				d.elog.add(fmt.Errorf("bad next payload: %s", truncate(string(m.Payload), 200)))
				continue
			}
			d.total.Add(1)
			if k, err := strconv.Atoi(m.ID); err == nil && k >= 0 && k < len(d.seen) && !d.seen[k].Swap(true) {
				d.seenCount.Add(1)
			}
			if d.recording.Load() {
				d.count.Add(1)
				d.lag.Add(at.Sub(p.Data.ResolutionEventAdded.Node.CreatedAt))
			}
		case "ping":
			_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`))
		case "pong":
		default: // error or complete: the subscription ended
			d.errors.Add(1)
			d.elog.add(fmt.Errorf("subscription %s: %s %s", m.ID, m.Type, truncate(string(m.Payload), 200)))
		}
	}
}
