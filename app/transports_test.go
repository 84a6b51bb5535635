package app_test

// The same limits and metrics on every transport (issue 11, items 3 and 12): the legacy
// graphql-ws protocol gets the per-connection operation limit, the write timeout and
// its place in rc_stream_connections; a bad WebSocket handshake is answered in the
// API's JSON error shape.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"resolutioncenter/app/apptest"
)

// metricValue returns the value of the gauge or counter name with the given labels
// from the server's registry (0 when absent), read in process, not over /metrics.
func metricValue(t *testing.T, s *apptest.Server, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := s.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue metrics
				}
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// legacyWS is a client of the legacy graphql-ws protocol (subscriptions-transport-ws).
type legacyWS struct {
	t    *testing.T
	conn *websocket.Conn
}

type legacyMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialLegacy opens a legacy connection as token and waits for connection_ack.
func dialLegacy(t *testing.T, url, token string) *legacyWS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-ws"}})
	if err != nil {
		t.Fatalf("dial graphql-ws: %v", err)
	}
	c.SetReadLimit(-1)
	w := &legacyWS{t: t, conn: c}
	t.Cleanup(func() { _ = c.CloseNow() })
	w.send(legacyMsg{Type: "connection_init", Payload: json.RawMessage(`{"Authorization":"Bearer ` + token + `"}`)})
	if m := w.read(10 * time.Second); m.Type != "connection_ack" {
		t.Fatalf("graphql-ws: want connection_ack, got %s %s", m.Type, m.Payload)
	}
	return w
}

func (w *legacyWS) send(m legacyMsg) {
	w.t.Helper()
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.conn.Write(ctx, websocket.MessageText, b); err != nil {
		w.t.Fatalf("graphql-ws send: %v", err)
	}
}

func (w *legacyWS) start(id, query string, vars map[string]any) {
	w.t.Helper()
	p, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	w.send(legacyMsg{ID: id, Type: "start", Payload: p})
}

// read returns the next message that is not a keep-alive.
func (w *legacyWS) read(timeout time.Duration) legacyMsg {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		_, b, err := w.conn.Read(ctx)
		if err != nil {
			w.t.Fatalf("graphql-ws read: %v", err)
		}
		var m legacyMsg
		if err := json.Unmarshal(b, &m); err != nil {
			w.t.Fatalf("graphql-ws: bad message %s", b)
		}
		if m.Type != "ka" {
			return m
		}
	}
}

// TestLegacyGraphQLWSLimits: a legacy graphql-ws connection runs at most 100
// operations at once, like a graphql-transport-ws one (the 101st start gets an error
// message with LIMIT_REACHED and the connection goes on; a completed operation frees
// its place), and is counted in rc_stream_connections{transport="graphql-ws"} while
// open. Issue 11: one connection held 1,000 subscriptions, and none was counted.
func TestLegacyGraphQLWSLimits(t *testing.T) {
	dbURL, fx := sqliteWithFixture(t, 1)
	s := apptest.Start(t, apptest.Options{Env: map[string]string{"DATABASE_URL": dbURL}})
	conns := func() float64 {
		return metricValue(t, s, "rc_stream_connections", map[string]string{"transport": "graphql-ws"})
	}
	w := dialLegacy(t, s.URL, fx.CustomerToken)
	if n := conns(); n != 1 {
		t.Errorf(`rc_stream_connections{transport="graphql-ws"} = %v with one connection open, want 1`, n)
	}
	const limit = 100
	for i := range limit {
		w.start(fmt.Sprint(i), eventSub, map[string]any{"id": fx.Cases[0]})
	}
	eventually(t, 10*time.Second, func() bool { return s.Hub.Stats().EventSubscribers == limit }, "100 subscriptions")
	w.start("over", eventSub, map[string]any{"id": fx.Cases[0]})
	m := w.read(10 * time.Second)
	if m.Type != "error" || m.ID != "over" || !strings.Contains(string(m.Payload), `"LIMIT_REACHED"`) {
		t.Fatalf("subscription %d: %s %s %s, want an error with LIMIT_REACHED", limit+1, m.Type, m.ID, m.Payload)
	}
	time.Sleep(100 * time.Millisecond)
	if n := s.Hub.Stats().EventSubscribers; n != limit {
		t.Errorf("%d subscriptions running, want %d", n, limit)
	}
	// A stopped operation frees its place; the connection is still usable.
	w.send(legacyMsg{ID: "0", Type: "stop"})
	if m := w.read(10 * time.Second); m.Type != "complete" || m.ID != "0" {
		t.Fatalf("after stop: %s %s %s, want complete", m.Type, m.ID, m.Payload)
	}
	w.start("again", `query { viewer { role } }`, nil)
	if m := w.read(10 * time.Second); m.Type != "data" || m.ID != "again" {
		t.Fatalf("an operation in the freed place: %s %s %s", m.Type, m.ID, m.Payload)
	}
	_ = w.conn.Close(websocket.StatusNormalClosure, "")
	eventually(t, 10*time.Second, func() bool { return conns() == 0 }, "the legacy connection uncounted")
	eventually(t, 10*time.Second, func() bool { return s.Hub.Stats().EventSubscribers == 0 }, "its subscriptions ended")
}

// TestWebSocketHandshakeErrorsAreJSON: a request that asks for a WebSocket upgrade but
// is not a valid handshake (issue 11: a POST) is answered in the API's JSON error
// shape with the fitting status, not in plain text.
func TestWebSocketHandshakeErrorsAreJSON(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	for _, tc := range []struct {
		name   string
		method string
		header map[string]string
		status int
	}{
		{"POST with Upgrade", http.MethodPost, map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Content-Type": "application/json"}, http.StatusMethodNotAllowed},
		{"POST with Upgrade, graphql-transport-ws", http.MethodPost, map[string]string{"Connection": "Upgrade", "Upgrade": "websocket",
			"Sec-WebSocket-Protocol": "graphql-transport-ws", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}, http.StatusMethodNotAllowed},
		{"no Sec-WebSocket-Key", http.MethodGet, map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13"}, http.StatusBadRequest},
		{"version 8", http.MethodGet, map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "8",
			"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}, http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(tc.method, s.URL, strings.NewReader(`{"query":"{ __typename }"}`))
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var body apptest.Response
		if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			json.Unmarshal(b, &body) != nil || body.FirstCode() != "INVALID_ARGUMENT" || len(body.Errors) != 1 {
			t.Errorf("%s: %d %s %q, want %d JSON with INVALID_ARGUMENT", tc.name, resp.StatusCode, resp.Header.Get("Content-Type"), b, tc.status)
		}
	}
}

// TestLegacyGraphQLWSShutdown: legacy graphql-ws connections open at shutdown are
// ended with the server (their subscriptions complete or the socket closes), within
// the grace period, and do not count as requests cut off: Serve returns nil.
func TestLegacyGraphQLWSShutdown(t *testing.T) {
	dbURL, fx := sqliteWithFixture(t, 1)
	s := apptest.Start(t, apptest.Options{Env: map[string]string{"DATABASE_URL": dbURL}})
	var ws []*legacyWS
	for range 3 {
		w := dialLegacy(t, s.URL, fx.CustomerToken)
		w.start("1", eventSub, map[string]any{"id": fx.Cases[0]})
		ws = append(ws, w)
	}
	eventually(t, 10*time.Second, func() bool { return s.Hub.Stats().EventSubscribers == 3 }, "three subscriptions")
	start := time.Now()
	if err := s.Stop(10 * time.Second); err != nil {
		t.Fatalf("Serve returned %v with legacy connections open, want nil", err)
	}
	for i, w := range ws {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		for {
			if _, _, err := w.conn.Read(ctx); err != nil {
				if ctx.Err() != nil {
					t.Errorf("legacy connection %d still open 5 s after the server stopped", i)
				}
				break
			}
		}
		cancel()
	}
	t.Logf("stopped in %s with 3 legacy connections open", time.Since(start).Round(time.Millisecond))
}
