package graph_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/graph/wsproto"
)

// TestWSConnectionsPerToken: a token holds at most MAX_SUBSCRIPTIONS open WebSocket
// connections, on both protocols together, and clients without a token as many per
// address; one more is closed with 4429 at connection_init, and a connection that
// ends gives its place back (a legacy graphql-ws connection gets a connection_error
// with code LIMIT_REACHED first). Before, connections were not counted at all: one token
// (or anyone, without a token) could open them without end, each an idle goroutine
// with its buffers, whether or not it ran anything; only subscriptions were limited.
func TestWSConnectionsPerToken(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		const limit = 3
		s := apptest.New(t, d, apptest.Options{Env: map[string]string{"MAX_SUBSCRIPTIONS": "3"}})
		f := newWSFixture(t, d)
		const reason = "Too many connections: at most 3 per token"

		var open []*wsClient
		for i := range limit {
			proto := wsproto.Subprotocol
			if i == 1 {
				proto = wsproto.LegacySubprotocol // both protocols count alike
			}
			c := dialRaw(t, s.URL, wsOpts{protocols: []string{proto}})
			c.sendJSON(map[string]any{"type": "connection_init", "payload": bearer(f.customer)})
			c.expect("connection_ack", "")
			open = append(open, c)
		}
		over := dialRaw(t, s.URL, wsOpts{})
		over.sendJSON(map[string]any{"type": "connection_init", "payload": bearer(f.customer)})
		over.expectClose(wsproto.CloseTooManyInit, reason)
		legacy := dialRaw(t, s.URL, wsOpts{protocols: []string{wsproto.LegacySubprotocol}})
		legacy.sendJSON(map[string]any{"type": "connection_init", "payload": bearer(f.customer)})
		expectRefusedLegacy(t, legacy, wsproto.CloseTooManyInit, reason, "LIMIT_REACHED")

		// The token given in the upgrade request's header counts the same.
		hdr := dialRaw(t, s.URL, wsOpts{header: map[string][]string{"Authorization": {"Bearer " + f.customer}}})
		hdr.sendJSON(map[string]any{"type": "connection_init", "payload": map[string]any{}})
		hdr.expectClose(wsproto.CloseTooManyInit, reason)

		// Another token has its own connections.
		other := dialRaw(t, s.URL, wsOpts{})
		other.init(bearer(f.merchant))

		// A connection that ends gives its place back, on either protocol. waitPlace
		// returns the connection that took it (closing it at once would leave the place
		// taken until the server notices, and the next connection could be refused).
		waitPlace := func(after string) *wsClient {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for {
				c, _, err := tryDial(s.URL, wsOpts{})
				if err != nil {
					t.Fatal(err)
				}
				w := newWSClient(t, c)
				w.sendJSON(map[string]any{"type": "connection_init", "payload": bearer(f.customer)})
				m, err := w.next(10 * time.Second)
				if err == nil && m.Type == "connection_ack" {
					return w
				}
				_ = c.CloseNow()
				var ce websocket.CloseError
				if !errors.As(err, &ce) || int(ce.Code) != wsproto.CloseTooManyInit || time.Now().After(deadline) {
					t.Fatalf("after %s closed: %+v %v, want connection_ack", after, m, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		_ = open[0].c.Close(websocket.StatusNormalClosure, "")
		waitPlace("a graphql-transport-ws connection") // the three places are taken again
		over = dialRaw(t, s.URL, wsOpts{})
		over.sendJSON(map[string]any{"type": "connection_init", "payload": bearer(f.customer)})
		over.expectClose(wsproto.CloseTooManyInit, reason)
		_ = open[1].c.Close(websocket.StatusNormalClosure, "")
		waitPlace("a legacy graphql-ws connection")

		// Without a token, connections are counted per client address.
		for range limit {
			c := dialRaw(t, s.URL, wsOpts{})
			c.init(map[string]any{})
		}
		anon := dialRaw(t, s.URL, wsOpts{})
		anon.sendJSON(map[string]any{"type": "connection_init", "payload": map[string]any{}})
		anon.expectClose(wsproto.CloseTooManyInit, "Too many connections: at most 3 per client address")

		// The connections that are open still work.
		open[2].subscribe("1", `query { viewer { role } }`, nil)
		open[2].expect("next", "1")
	})
}

// expectRefusedLegacy reads a legacy graphql-ws connection's refusal of
// connection_init: a connection_error with the reason and the error code
// (extensions.code), then the close with closeCode.
func expectRefusedLegacy(t *testing.T, c *wsClient, closeCode int, reason, code string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sawError := false
	for ctx.Err() == nil {
		m, err := c.next(10 * time.Second)
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) || int(ce.Code) != closeCode || !sawError {
				t.Fatalf("legacy refusal: %v (connection_error seen: %v), want close %d after connection_error", err, sawError, closeCode)
			}
			return
		}
		switch m.Type {
		case "ka":
		case "connection_error":
			sawError = true
			want := `{"message":"` + reason + `","extensions":{"code":"` + code + `"}}`
			if got := string(m.Payload); got != want {
				t.Errorf("legacy connection_error payload %s, want %s", got, want)
			}
		default:
			t.Fatalf("legacy refusal: got %s %s", m.Type, m.Payload)
		}
	}
}

// TestWSConnectionsPer48: without a token, WebSocket connections are counted per
// client address, an IPv6 client by its /64, and the /64s of one /48 share 16 times
// that: with MAX_SUBSCRIPTIONS 1, 16 /64s of a /48 hold one connection each and a
// 17th /64 is refused (4429, as over its own limit), while a /64 of another /48 is
// not; one /64 alone gets its limit, and IPv4 addresses have no aggregate. Before,
// the 65,536 /64s of a /48 held 65,536 times the limit.
func TestWSConnectionsPer48(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d, apptest.Options{Env: map[string]string{"MAX_SUBSCRIPTIONS": "1", "TRUSTED_PROXIES": "127.0.0.0/8"}})
	const reason = "Too many connections: at most 1 per client address"
	from := func(addr string) wsOpts { return wsOpts{header: http.Header{"X-Forwarded-For": {addr}}} }
	refused := func(addr string) {
		t.Helper()
		c := dialRaw(t, s.URL, from(addr))
		c.sendJSON(map[string]any{"type": "connection_init", "payload": map[string]any{}})
		c.expectClose(wsproto.CloseTooManyInit, reason)
	}
	for i := range 16 {
		dialRaw(t, s.URL, from(fmt.Sprintf("2001:db8:1:%x::1", i))).init(map[string]any{})
	}
	refused("2001:db8:1:10::1")                                     // a 17th /64 of the /48
	refused("2001:db8:1:0::2")                                      // a /64 over its own limit
	dialRaw(t, s.URL, from("2001:db8:2::1")).init(map[string]any{}) // another /48
	refused("2001:db8:2::2")
	for i := range 17 { // IPv4: one per address, however many of one block
		dialRaw(t, s.URL, from(fmt.Sprintf("192.0.2.%d", i+1))).init(map[string]any{})
	}
}
