package graph_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/wsproto"
)

// Conformance of /graphql's streaming transports: graphql-transport-ws
// (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md) with its close
// codes, the legacy graphql-ws protocol, browser origins, and SSE.

const (
	eventsSub  = `subscription($id: ID!, $after: String) { resolutionEventAdded(resolutionId: $id, after: $after) { cursor node { position action } } }`
	updatesSub = `subscription { resolutionUpdated { id status } }`
	respondMut = `mutation($id: ID!, $msg: String!) { respondToResolution(input: {resolutionId: $id, message: $msg}) { userErrors { code } } }`
)

// wsFixture is a case opened by a customer on a merchant's payment, with tokens.
type wsFixture struct {
	caseID, customer, merchant string
}

func newWSFixture(t *testing.T, d *db.DB) wsFixture {
	t.Helper()
	biz, u := dbtest.MustCompany(t, d), dbtest.MustUser(t, d)
	pay := dbtest.MustPayment(t, d, u, biz, "")
	opened := dbtest.MustOpen(t, d, pay, dispute.IssueItemNotReceived, dbtest.Now())
	return wsFixture{
		caseID:   opened.Case.ID,
		customer: dbtest.MustToken(t, d, db.TokenUser, u.ID, true),
		merchant: dbtest.MustToken(t, d, db.TokenCompany, biz.ID, true),
	}
}

// wsClient is a raw graphql-transport-ws (or legacy) client: it sends any bytes and
// sees every message, ping and pong included, and the close frame. A goroutine reads
// into a channel, since a read that times out would close the connection.
type wsClient struct {
	t    *testing.T
	c    *websocket.Conn
	msgs chan wsRead
}

type wsRead struct {
	m   apptest.WSMessage
	err error
}

type wsOpts struct {
	protocols []string
	header    http.Header
}

func dialRaw(t *testing.T, url string, o wsOpts) *wsClient {
	t.Helper()
	c, resp, err := tryDial(url, o)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return newWSClient(t, c)
}

func newWSClient(t *testing.T, c *websocket.Conn) *wsClient {
	w := &wsClient{t: t, c: c, msgs: make(chan wsRead, 1024)}
	go func() {
		defer close(w.msgs)
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				w.msgs <- wsRead{err: err}
				return
			}
			var m apptest.WSMessage
			if err := json.Unmarshal(b, &m); err != nil {
				w.msgs <- wsRead{err: fmt.Errorf("decode %s: %w", b, err)}
				return
			}
			w.msgs <- wsRead{m: m}
		}
	}()
	return w
}

func tryDial(url string, o wsOpts) (*websocket.Conn, *http.Response, error) {
	if o.protocols == nil {
		o.protocols = []string{wsproto.Subprotocol}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, strings.Replace(url, "http", "ws", 1), &websocket.DialOptions{
		Subprotocols: o.protocols, HTTPHeader: o.header})
	if err == nil {
		c.SetReadLimit(16 << 20)
	}
	return c, resp, err
}

func (w *wsClient) send(s string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		w.t.Fatalf("write %s: %v", s, err)
	}
}

func (w *wsClient) sendJSON(v any) {
	w.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		w.t.Fatal(err)
	}
	w.send(string(b))
}

func (w *wsClient) subscribe(id, query string, vars map[string]any) {
	w.t.Helper()
	w.sendJSON(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
}

// next returns the next message (any type), the error that ended the connection,
// or context.DeadlineExceeded after timeout (the connection stays open).
func (w *wsClient) next(timeout time.Duration) (apptest.WSMessage, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r, ok := <-w.msgs:
		if !ok {
			return apptest.WSMessage{}, net.ErrClosed
		}
		return r.m, r.err
	case <-t.C:
		return apptest.WSMessage{}, context.DeadlineExceeded
	}
}

// expect reads the next message other than ka (legacy keep-alive) and checks its type and id.
func (w *wsClient) expect(typ, id string) apptest.WSMessage {
	w.t.Helper()
	for {
		m, err := w.next(10 * time.Second)
		if err != nil {
			w.t.Fatalf("want %s %q: %v", typ, id, err)
		}
		if m.Type == "ka" && typ != "ka" {
			continue
		}
		if m.Type != typ || m.ID != id {
			w.t.Fatalf("want %s %q, got %s %q %s", typ, id, m.Type, m.ID, m.Payload)
		}
		return m
	}
}

func (w *wsClient) init(payload map[string]any) {
	w.t.Helper()
	w.sendJSON(map[string]any{"type": "connection_init", "payload": payload})
	w.expect("connection_ack", "")
}

// expectClose reads until the server closes the connection, checking code and reason.
func (w *wsClient) expectClose(code int, reason string) {
	w.t.Helper()
	for {
		m, err := w.next(10 * time.Second)
		if err == nil {
			if m.Type == "ka" {
				continue
			}
			w.t.Fatalf("want close %d, got message %s %q %s", code, m.Type, m.ID, m.Payload)
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			w.t.Fatalf("want close %d %q, got %v", code, reason, err)
		}
		if int(ce.Code) != code || ce.Reason != reason {
			w.t.Fatalf("want close %d %q, got %d %q", code, reason, ce.Code, ce.Reason)
		}
		return
	}
}

// expectSilence checks that nothing but keep-alives arrives for d.
func (w *wsClient) expectSilence(d time.Duration) {
	w.t.Helper()
	deadline := time.Now().Add(d)
	for time.Until(deadline) > 0 {
		m, err := w.next(time.Until(deadline))
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return
			}
			w.t.Fatalf("read: %v", err)
		}
		if m.Type != "ka" {
			w.t.Fatalf("unexpected message %s %q %s", m.Type, m.ID, m.Payload)
		}
	}
}

func eventPosition(t *testing.T, m apptest.WSMessage) (int, string) {
	t.Helper()
	var p struct {
		Data struct {
			ResolutionEventAdded struct {
				Cursor string
				Node   struct{ Position int }
			}
		}
		Errors []apptest.Error
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
		t.Fatalf("event payload %s (%v)", m.Payload, err)
	}
	return p.Data.ResolutionEventAdded.Node.Position, p.Data.ResolutionEventAdded.Cursor
}

func act(t *testing.T, s *apptest.Server, token, caseID, msg string) {
	t.Helper()
	var out struct{ RespondToResolution struct{ UserErrors []any } }
	s.MustData(t, token, respondMut, map[string]any{"id": caseID, "msg": msg}, &out)
	if len(out.RespondToResolution.UserErrors) > 0 {
		t.Fatalf("respond refused: %v", out.RespondToResolution.UserErrors)
	}
}

func bearer(tok string) map[string]any { return map[string]any{"Authorization": "Bearer " + tok} }

func TestWSConformanceCloseCodes(t *testing.T) {
	s := apptest.New(t, dbtest.MustSQLite(t))
	platform := bearer(apptest.PlatformToken)
	for _, tc := range []struct {
		name   string
		init   map[string]any // nil: no connection_init first
		send   []string
		code   int
		reason string
	}{
		{"invalid JSON", nil, []string{`{"type":"connection_init"`}, 4400, "Invalid message received"},
		{"unknown type", platform, []string{`{"type":"subscribe_please","id":"1"}`}, 4400, "Invalid message received"},
		{"missing type", platform, []string{`{"id":"1"}`}, 4400, "Invalid message received"},
		{"subscribe without id", platform, []string{`{"type":"subscribe","payload":{"query":"{ __typename }"}}`}, 4400, "Invalid message received"},
		{"subscribe without payload", platform, []string{`{"type":"subscribe","id":"1"}`}, 4400, "Invalid message received"},
		{"subscribe with a string payload", platform, []string{`{"type":"subscribe","id":"1","payload":"{ __typename }"}`}, 4400, "Invalid message received"},
		{"complete without id", platform, []string{`{"type":"complete"}`}, 4400, "Invalid message received"},
		{"subscribe before connection_ack", nil, []string{`{"type":"subscribe","id":"1","payload":{"query":"{ __typename }"}}`}, 4401, "Unauthorized"},
		{"bad token in connection_init", nil, []string{`{"type":"connection_init","payload":{"Authorization":"Bearer nope"}}`}, 4403, "Forbidden"},
		{"malformed Authorization in connection_init", nil, []string{`{"type":"connection_init","payload":{"Authorization":"Basic abc"}}`}, 4403, "Forbidden"},
		{"second connection_init", platform, []string{`{"type":"connection_init","payload":{}}`}, 4429, "Too many initialisation requests"},
		{"duplicate operation id", platform, []string{
			`{"type":"subscribe","id":"dup","payload":{"query":"subscription { resolutionUpdated { id } }"}}`,
			`{"type":"subscribe","id":"dup","payload":{"query":"subscription { resolutionUpdated { id } }"}}`,
		}, 4409, "Subscriber for dup already exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, s.URL, wsOpts{})
			if tc.init != nil {
				c.init(tc.init)
			}
			for _, m := range tc.send {
				c.send(m)
			}
			c.expectClose(tc.code, tc.reason)
		})
	}

	t.Run("connection initialisation timeout", func(t *testing.T) {
		short := apptest.New(t, s.DB, apptest.Options{Env: map[string]string{"WS_INIT_TIMEOUT": "200ms"}})
		c := dialRaw(t, short.URL, wsOpts{})
		start := time.Now()
		c.expectClose(4408, "Connection initialisation timeout")
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("closed after %v", d)
		}
	})
	t.Run("default initialisation timeout is 3s", func(t *testing.T) {
		c := dialRaw(t, s.URL, wsOpts{})
		start := time.Now()
		c.send(`{"type":"ping"}`) // ping does not count as initialisation
		c.expect("pong", "")
		c.expectClose(4408, "Connection initialisation timeout")
		if d := time.Since(start); d < 2500*time.Millisecond || d > 5*time.Second {
			t.Fatalf("closed after %v", d)
		}
	})
}

func TestWSConformancePingPong(t *testing.T) {
	s := apptest.New(t, dbtest.MustSQLite(t))
	c := dialRaw(t, s.URL, wsOpts{})
	c.send(`{"type":"ping"}`)
	c.expect("pong", "")
	c.init(bearer(apptest.PlatformToken))
	c.send(`{"type":"ping","payload":{"at":1}}`)
	if m := c.expect("pong", ""); string(m.Payload) != `{"at":1}` {
		t.Fatalf("pong payload %s", m.Payload)
	}
	c.send(`{"type":"pong"}`) // unsolicited pongs are fine
	c.subscribe("q", `{ viewer { role } }`, nil)
	if m := c.expect("next", "q"); !strings.Contains(string(m.Payload), `"PLATFORM"`) {
		t.Fatalf("payload %s", m.Payload)
	}
	c.expect("complete", "q")
}

// TestWSConformanceSubscriptionLifecycle: subscribe, next per event, complete from the
// client stops delivery and frees the id, resuming with a cursor, and server-side
// completion.
func TestWSConformanceSubscriptionLifecycle(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d)
		f := newWSFixture(t, d)
		vars := map[string]any{"id": f.caseID}
		// The customer authenticates with connection_init, the merchant with the
		// upgrade request's header.
		cust := dialRaw(t, s.URL, wsOpts{})
		cust.init(bearer(f.customer))
		merch := dialRaw(t, s.URL, wsOpts{header: http.Header{"Authorization": {"Bearer " + f.merchant}}})
		merch.init(nil)
		cust.subscribe("ev", eventsSub, vars)
		merch.subscribe("ev", eventsSub, vars)
		waitSubscribers(t, s, 2)

		act(t, s, f.merchant, f.caseID, "Tracking number attached")
		p1, cursor := eventPosition(t, cust.expect("next", "ev"))
		if p2, _ := eventPosition(t, merch.expect("next", "ev")); p1 != p2 || p1 < 2 {
			t.Fatalf("positions %d and %d", p1, p2)
		}

		// The customer completes: no more events for it; the merchant still gets them.
		cust.sendJSON(map[string]any{"id": "ev", "type": "complete"})
		waitSubscribers(t, s, 1)
		act(t, s, f.customer, f.caseID, "Still nothing")
		p3, _ := eventPosition(t, merch.expect("next", "ev"))
		if p3 != p1+1 {
			t.Fatalf("merchant got position %d after %d", p3, p1)
		}
		cust.expectSilence(300 * time.Millisecond)

		// The id is free again; resuming after the cursor delivers what was missed.
		cust.subscribe("ev", eventsSub, map[string]any{"id": f.caseID, "after": cursor})
		if p, _ := eventPosition(t, cust.expect("next", "ev")); p != p3 {
			t.Fatalf("resumed at position %d, want %d", p, p3)
		}

		// Server-side completion: a subscription the resolver refuses answers one
		// next with the error, then complete.
		cust.subscribe("missing", eventsSub, map[string]any{"id": "res_00000000000000000000000000"})
		m := cust.expect("next", "missing")
		if !strings.Contains(string(m.Payload), `"errors"`) {
			t.Fatalf("want an error result, got %s", m.Payload)
		}
		cust.expect("complete", "missing")
		// A query over the same connection: next, then complete.
		cust.subscribe("q", `{ viewer { role } }`, nil)
		if m := cust.expect("next", "q"); !strings.Contains(string(m.Payload), `"USER"`) {
			t.Fatalf("viewer %s", m.Payload)
		}
		cust.expect("complete", "q")
	})
}

// waitSubscribers waits until the hub has n event subscribers.
func waitSubscribers(t *testing.T, s *apptest.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := s.Hub.Stats()
		if st.EventSubscribers == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub has %+v, want %d event subscribers", st, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWSConformanceQueriesAndMutations(t *testing.T) {
	s := apptest.New(t, dbtest.MustSQLite(t))
	c := dialRaw(t, s.URL, wsOpts{})
	c.init(bearer(apptest.PlatformToken))
	c.subscribe("m", `mutation($t: String!, $r: String!) { createCompany(input: {title: $t, route: $r}) { company { id title } userErrors { code } } }`,
		map[string]any{"t": "WS Co", "r": "ws-co"})
	m := c.expect("next", "m")
	var out struct {
		Data struct {
			CreateCompany struct {
				Company struct{ ID, Title string }
			}
		}
	}
	if err := json.Unmarshal(m.Payload, &out); err != nil || out.Data.CreateCompany.Company.Title != "WS Co" {
		t.Fatalf("mutation result %s", m.Payload)
	}
	c.expect("complete", "m")
	c.subscribe("q", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": out.Data.CreateCompany.Company.ID})
	if m := c.expect("next", "q"); !strings.Contains(string(m.Payload), out.Data.CreateCompany.Company.ID) {
		t.Fatalf("query result %s", m.Payload)
	}
	c.expect("complete", "q")

	// Request errors (syntax, validation, variables) are an error message, with no
	// complete after it, and the error presenter's codes.
	for _, q := range []struct{ query string }{
		{`{ viewer { nope } }`}, // validation
		{`{ viewer `},           // syntax
		{`query($id: ID!) { node(id: $id) { id } }`}, // missing variable
	} {
		c.subscribe("bad", q.query, nil)
		m := c.expect("error", "bad")
		var errs []apptest.Error
		if err := json.Unmarshal(m.Payload, &errs); err != nil || len(errs) == 0 {
			t.Fatalf("error payload %s", m.Payload)
		}
		if errs[0].Code() == "" || len(errs[0].Message) == 0 {
			t.Errorf("%s: error without message or code (the error presenter's): %s", q.query, m.Payload)
		}
	}
	c.subscribe("after", `{ __typename }`, nil)
	c.expect("next", "after")
	c.expect("complete", "after")
}

func TestWSConformanceAuth(t *testing.T) {
	s := apptest.New(t, dbtest.MustSQLite(t))
	d := s.DB
	u := dbtest.MustUser(t, d)
	userTok := dbtest.MustToken(t, d, db.TokenUser, u.ID, false)
	role := func(c *wsClient) string {
		t.Helper()
		c.subscribe("v", `{ viewer { role } }`, nil)
		m := c.expect("next", "v")
		c.expect("complete", "v")
		var p struct {
			Data struct{ Viewer struct{ Role string } }
		}
		_ = json.Unmarshal(m.Payload, &p)
		return p.Data.Viewer.Role
	}

	byInit := dialRaw(t, s.URL, wsOpts{})
	byInit.init(bearer(userTok))
	if r := role(byInit); r != "USER" {
		t.Errorf("init payload: role %q", r)
	}
	lower := dialRaw(t, s.URL, wsOpts{})
	lower.init(map[string]any{"authorization": "Bearer " + apptest.PlatformToken})
	if r := role(lower); r != "PLATFORM" {
		t.Errorf("lower-case key: role %q", r)
	}
	byHeader := dialRaw(t, s.URL, wsOpts{header: http.Header{"Authorization": {"Bearer " + userTok}}})
	byHeader.init(map[string]any{})
	if r := role(byHeader); r != "USER" {
		t.Errorf("header: role %q", r)
	}
	// Anonymous connections are accepted; operations needing a principal say so.
	anon := dialRaw(t, s.URL, wsOpts{})
	anon.init(nil)
	anon.subscribe("s", updatesSub, nil)
	if m := anon.expect("next", "s"); !strings.Contains(string(m.Payload), "UNAUTHENTICATED") {
		t.Errorf("anonymous subscription: %s", m.Payload)
	}
	anon.expect("complete", "s")
	// A bad token in the header refuses the handshake; in connection_init, 4403.
	_, resp, err := tryDial(s.URL, wsOpts{header: http.Header{"Authorization": {"Bearer nope"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad header token: %v %v", resp, err)
	}
	bad := dialRaw(t, s.URL, wsOpts{})
	bad.sendJSON(map[string]any{"type": "connection_init", "payload": bearer("nope")})
	bad.expectClose(4403, "Forbidden")
}

func TestWSConformanceOrigins(t *testing.T) {
	s := apptest.New(t, dbtest.MustSQLite(t))
	host := strings.TrimPrefix(strings.TrimSuffix(s.URL, "/graphql"), "http://")
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true}, // not a browser
		{"http://" + host, true},
		{"http://localhost:3000", true},
		{"http://127.0.0.1:8080", true},
		{"http://[::1]:8080", true},
		{"https://evil.example.com", false},
		{"http://localhost.evil.example.com", false},
		{"null", false},
	} {
		for _, proto := range []string{wsproto.Subprotocol, wsproto.LegacySubprotocol} {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			c, resp, err := tryDial(s.URL, wsOpts{protocols: []string{proto}, header: h})
			switch {
			case tc.ok && err != nil:
				t.Errorf("%s, Origin %q: refused: %v", proto, tc.origin, err)
			case tc.ok:
				_ = c.CloseNow()
			case err == nil:
				_ = c.CloseNow()
				t.Errorf("%s, Origin %q: accepted", proto, tc.origin)
			case resp == nil || resp.StatusCode != http.StatusForbidden:
				t.Errorf("%s, Origin %q: want 403, got %v", proto, tc.origin, err)
			}
		}
	}
	// WS_ORIGINS adds origins to the loopback defaults of development mode; in
	// production only WS_ORIGINS and CORS_ORIGINS, as for HTTP; the same origin always.
	url := apptest.New(t, s.DB, apptest.Options{Env: map[string]string{"WS_ORIGINS": "https://app.example.com"}}).URL
	prod := apptest.New(t, s.DB, apptest.Options{Env: map[string]string{"DEV_MODE": "false",
		"WS_ORIGINS": "https://app.example.com", "CORS_ORIGINS": "https://web.example.com"}}).URL
	for _, c := range []struct {
		url, origin string
		ok          bool
	}{
		{url, "https://app.example.com", true},
		{url, "http://app.example.com", false},
		{url, "http://localhost:3000", true},
		{url, "https://other.example.com", false},
		{url, "http://" + strings.TrimPrefix(url, "http://"), true},
		{prod, "https://app.example.com", true},
		{prod, "https://web.example.com", true},
		{prod, "http://localhost:3000", false},
		{prod, "http://127.0.0.1:8080", false},
		{prod, "http://" + strings.TrimPrefix(prod, "http://"), true},
	} {
		url, origin, ok := c.url, c.origin, c.ok
		c, resp, err := tryDial(url, wsOpts{header: http.Header{"Origin": {origin}}})
		if ok != (err == nil) {
			t.Errorf("configured (%s), Origin %q: ok=%v, err %v", url, origin, ok, err)
		}
		if err == nil {
			_ = c.CloseNow()
		} else if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("configured, Origin %q: want 403, got %v", origin, err)
		}
	}
}

func TestWSConformanceLegacyProtocol(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d)
		f := newWSFixture(t, d)
		for _, protos := range [][]string{{wsproto.LegacySubprotocol}, {}} {
			c := dialRaw(t, s.URL, wsOpts{protocols: protos})
			if got, want := c.c.Subprotocol(), strings.Join(protos, ""); got != want {
				t.Fatalf("negotiated %q, want %q", got, want)
			}
			c.sendJSON(map[string]any{"type": "connection_init", "payload": bearer(f.customer)})
			c.expect("connection_ack", "")
			c.sendJSON(map[string]any{"id": "1", "type": "start", "payload": map[string]any{"query": `{ viewer { role } }`}})
			if m := c.expect("data", "1"); !strings.Contains(string(m.Payload), `"USER"`) {
				t.Fatalf("data %s", m.Payload)
			}
			c.expect("complete", "1")
			c.sendJSON(map[string]any{"id": "2", "type": "start", "payload": map[string]any{"query": eventsSub, "variables": map[string]any{"id": f.caseID}}})
			waitSubscribers(t, s, 1)
			act(t, s, f.merchant, f.caseID, "Legacy hello")
			m := c.expect("data", "2")
			if p, _ := eventPosition(t, m); p < 2 {
				t.Fatalf("data %s", m.Payload)
			}
			c.sendJSON(map[string]any{"id": "2", "type": "stop"})
			waitSubscribers(t, s, 0)
			c.sendJSON(map[string]any{"type": "connection_terminate"})
			for {
				m, err := c.next(10 * time.Second)
				if err != nil {
					break // closed
				}
				if m.Type != "ka" && m.Type != "complete" {
					t.Fatalf("after terminate: %+v", m)
				}
			}
		}
		// A bad token is refused with a connection_error whose code is UNAUTHENTICATED,
		// as over HTTP (before, the payload had the message alone), then close 4403.
		bad := dialRaw(t, s.URL, wsOpts{protocols: []string{wsproto.LegacySubprotocol}})
		bad.sendJSON(map[string]any{"type": "connection_init", "payload": bearer("nope")})
		expectRefusedLegacy(t, bad, wsproto.CloseForbidden, "Forbidden", "UNAUTHENTICATED")
	})
}

// TestWSConformanceShutdown: when the server shuts down (SIGTERM), every operation
// sends complete and the connection closes with 1001 going away.
func TestWSConformanceShutdown(t *testing.T) {
	s := apptest.New(t, dbtest.MustSQLite(t))
	f := newWSFixture(t, s.DB)
	c := dialRaw(t, s.URL, wsOpts{})
	c.init(bearer(f.customer))
	c.subscribe("a", eventsSub, map[string]any{"id": f.caseID})
	c.subscribe("b", updatesSub, nil)
	waitSubscribers(t, s, 1)
	for s.Hub.Stats().UpdateSubscribers < 1 {
		time.Sleep(5 * time.Millisecond)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(15 * time.Second) }()
	got := map[string]bool{}
	for range 2 {
		m, err := c.next(10 * time.Second)
		if err != nil || m.Type != "complete" {
			t.Fatalf("want complete, got %+v %v", m, err)
		}
		got[m.ID] = true
	}
	if !got["a"] || !got["b"] {
		t.Fatalf("completed %v", got)
	}
	c.expectClose(int(websocket.StatusGoingAway), "Server shutting down")
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	waitSubscribers(t, s, 0)
}

func TestSSEConformanceSubscription(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d)
		f := newWSFixture(t, d)
		body, _ := json.Marshal(map[string]any{"query": eventsSub, "variables": map[string]any{"id": f.caseID}})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Authorization", "Bearer "+f.customer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("status %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		events := make(chan [2]string, 8)
		go func() {
			defer close(events)
			sc := bufio.NewScanner(resp.Body)
			var ev, data string
			for sc.Scan() {
				line := sc.Text()
				switch {
				case line == "":
					if ev != "" || data != "" {
						events <- [2]string{ev, data}
					}
					ev, data = "", ""
				case strings.HasPrefix(line, "event:"):
					ev = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
				case strings.HasPrefix(line, "data:"):
					data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
				}
			}
		}()
		waitSubscribers(t, s, 1)
		act(t, s, f.merchant, f.caseID, "Over SSE")
		select {
		case e := <-events:
			if e[0] != "next" {
				t.Fatalf("event %q %s", e[0], e[1])
			}
			if p, _ := eventPosition(t, apptest.WSMessage{Payload: json.RawMessage(e[1])}); p < 2 {
				t.Fatalf("data %s", e[1])
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no SSE event")
		}
		cancel() // the client leaves: the server releases the subscription
		waitSubscribers(t, s, 0)

		// A request error is one next event with the errors, then complete.
		body, _ = json.Marshal(map[string]any{"query": `subscription { nope }`})
		req, _ = http.NewRequest(http.MethodPost, s.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Authorization", "Bearer "+f.customer)
		resp2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp2.Body)
		resp2.Body.Close()
		if !strings.Contains(string(b), "event: next") || !strings.Contains(string(b), "errors") || !strings.Contains(string(b), "event: complete") {
			t.Fatalf("error stream: %s", b)
		}
	})
}

// TestWSConformanceIdleMemory measures the server-side cost of idle WebSocket
// connections and subscriptions:
//
//	WS_MEASURE_SUBS=2000 go test -run TestWSConformanceIdleMemory -v ./graph
//
// The clients run in a child process (this test binary, running
// TestWSConformanceIdleClients), so the heap, stacks and goroutines measured here
// are the server's only.
func TestWSConformanceIdleMemory(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("WS_MEASURE_SUBS"))
	if n <= 0 {
		t.Skip("set WS_MEASURE_SUBS=2000 to measure memory per idle subscription")
	}
	if os.Getenv("WS_HEAP_PROFILE") != "" {
		runtime.MemProfileRate = 1
	}
	s := apptest.New(t, dbtest.MustSQLite(t))
	s.Resolver.MaxSubscriptionsPerPrincipal = 4*n + 10
	f := newWSFixture(t, s.DB)
	measure := func() (heap, stack uint64, goroutines int) {
		for range 10 {
			runtime.GC()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse, ms.StackInuse, runtime.NumGoroutine()
	}
	run := func(name string, subscribe bool, perConn int) {
		url := s.URL
		// Warm up: one subscription through every code path.
		warm := dialRaw(t, url, wsOpts{})
		warm.init(bearer(f.customer))
		warm.subscribe("1", eventsSub, map[string]any{"id": f.caseID})
		waitSubscribers(t, s, 1)
		_ = warm.c.Close(websocket.StatusNormalClosure, "")
		waitSubscribers(t, s, 0)
		time.Sleep(200 * time.Millisecond)

		h0, st0, g0 := measure()
		cmd := exec.Command(os.Args[0], "-test.run=^TestWSConformanceIdleClients$", "-test.v")
		cmd.Env = append(os.Environ(), "WS_IDLE_CLIENTS_URL="+url, "WS_IDLE_CLIENTS_N="+strconv.Itoa(n),
			"WS_IDLE_CLIENTS_TOKEN="+f.customer, "WS_IDLE_CLIENTS_CASE="+f.caseID,
			"WS_IDLE_CLIENTS_SUBSCRIBE="+strconv.FormatBool(subscribe), "WS_IDLE_CLIENTS_PER_CONN="+strconv.Itoa(perConn))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		ready := func() bool {
			if subscribe {
				return s.Hub.Stats().EventSubscribers >= n
			}
			return strings.Contains(out.String(), "READY") // racy read is fine for a poll in a manual test
		}
		deadline := time.Now().Add(5 * time.Minute)
		for !ready() {
			select {
			case <-exited:
				t.Fatalf("client exited early:\n%s", out.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("clients not ready; output:\n%s", out.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(time.Second) // let the last operations settle into idleness
		h1, st1, g1 := measure()
		if p := os.Getenv("WS_HEAP_PROFILE"); p != "" {
			if f, err := os.Create(p + "." + strings.ReplaceAll(name, " ", "_")); err == nil {
				_ = pprof.WriteHeapProfile(f)
				_ = f.Close()
			}
		}
		_ = stdin.Close() // the child closes its connections and exits
		<-exited
		if subscribe {
			waitSubscribers(t, s, 0)
		}
		per := func(a, b uint64) float64 { return (float64(b) - float64(a)) / float64(n) }
		t.Logf("%-46s heap %6.0f B + stacks %6.0f B = %6.0f B, %.2f goroutines; x10,000 = %4.0f MB",
			name, per(h0, h1), per(st0, st1), per(h0+st0, h1+st1), float64(g1-g0)/float64(n), per(h0+st0, h1+st1)*10000/1e6)
	}
	t.Logf("server side, per connection or subscription (%d of them):", n)
	run("connection", false, 1)
	run("subscription", true, 1)
	run("subscription, 10 per connection", true, 10)
}

// TestWSConformanceIdleClients is the client process of TestWSConformanceIdleMemory.
func TestWSConformanceIdleClients(t *testing.T) {
	url := os.Getenv("WS_IDLE_CLIENTS_URL")
	if url == "" {
		t.Skip("run by TestWSConformanceIdleMemory")
	}
	n, _ := strconv.Atoi(os.Getenv("WS_IDLE_CLIENTS_N"))
	perConn, _ := strconv.Atoi(os.Getenv("WS_IDLE_CLIENTS_PER_CONN"))
	perConn = max(perConn, 1)
	for i := 0; i < n; i += perConn {
		c, _, err := tryDial(url, wsOpts{})
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		w := newWSClient(t, c) // its reader answers pings, like a client
		w.init(bearer(os.Getenv("WS_IDLE_CLIENTS_TOKEN")))
		if os.Getenv("WS_IDLE_CLIENTS_SUBSCRIBE") != "false" {
			for j := range min(perConn, n-i) {
				w.subscribe(strconv.Itoa(j), eventsSub, map[string]any{"id": os.Getenv("WS_IDLE_CLIENTS_CASE")})
			}
		}
		defer func() { _ = c.CloseNow() }()
	}
	fmt.Println("READY")
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent is done
}

// TestWSConformanceOperationsPerConnection checks the per-connection limit: the
// operation beyond it is refused with LIMIT_REACHED and the connection goes on.
func TestWSConformanceOperationsPerConnection(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d)
	biz, u := dbtest.MustCompany(t, d), dbtest.MustUser(t, d)
	res := dbtest.MustOpen(t, d, dbtest.MustPayment(t, d, u, biz, ""), dispute.IssueItemNotReceived, dbtest.Now())
	ws := apptest.DialWS(t, s.URL, map[string]any{"Authorization": "Bearer " + apptest.PlatformToken})
	const q = `subscription($id: ID!) { resolutionEventAdded(resolutionId: $id) { cursor } }`
	for i := 0; i < 100; i++ {
		ws.Subscribe(fmt.Sprint("op", i), q, map[string]any{"id": res.Case.ID})
	}
	ws.Subscribe("one-too-many", q, map[string]any{"id": res.Case.ID})
	m := ws.Read(10 * time.Second)
	if m.ID != "one-too-many" || m.Type != "error" || !strings.Contains(string(m.Payload), "LIMIT_REACHED") {
		t.Fatalf("want an error for the 101st operation, got %+v %s", m, m.Payload)
	}
	ws.Send(apptest.WSMessage{ID: "op0", Type: "complete"})
	ws.Subscribe("after-complete", `{ __typename }`, nil)
	if m := ws.Read(10 * time.Second); m.ID != "after-complete" || m.Type != "next" {
		t.Fatalf("connection did not go on after the refusal: %+v %s", m, m.Payload)
	}
}

// TestWSIdleSubscriptionsHoldNoGoroutine: over graphql-transport-ws a subscription
// parks no goroutine while idle (the transport is woken when its channel has
// something, see wsproto.StreamWake), yet every one of them still gets every event
// and case update, in order, and ends cleanly.
func TestWSIdleSubscriptionsHoldNoGoroutine(t *testing.T) {
	const nEvents, nUpdates = 60, 20
	s := apptest.New(t, dbtest.MustSQLite(t))
	f := newWSFixture(t, s.DB)
	c := dialRaw(t, s.URL, wsOpts{})
	c.init(bearer(f.customer))
	waitGoroutines := func(what string, ok func(n int) bool) int {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if ok(n) {
				return n
			}
			if time.Now().After(deadline) {
				var b bytes.Buffer
				_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
				t.Fatalf("%s: %d goroutines\n%s", what, n, b.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()
	for i := range nEvents {
		c.subscribe(fmt.Sprint("e", i), eventsSub, map[string]any{"id": f.caseID})
	}
	for i := range nUpdates {
		c.subscribe(fmt.Sprint("u", i), updatesSub, nil)
	}
	waitSubscribers(t, s, nEvents)
	for s.Hub.Stats().UpdateSubscribers < nUpdates {
		time.Sleep(5 * time.Millisecond)
	}
	// A goroutine per subscription would add 80 (or 160, with forwarding); the slack
	// is for the HTTP client's keep-alive connection that act uses, and timers.
	idleMax := before + 10
	waitGoroutines("idle", func(n int) bool { return n <= idleMax })

	for round := range 3 {
		act(t, s, f.customer, f.caseID, fmt.Sprint("message ", round))
		got := map[string]int{}
		for range nEvents + nUpdates {
			m, err := c.next(10 * time.Second)
			if err != nil || m.Type != "next" {
				t.Fatalf("round %d: want next, got %+v %v (after %d)", round, m, err, len(got))
			}
			if m.ID[0] == 'e' {
				if pos, _ := eventPosition(t, m); pos != round+2 {
					t.Fatalf("round %d: %s got position %d", round, m.ID, pos)
				}
			} else if !strings.Contains(string(m.Payload), f.caseID) {
				t.Fatalf("update %s", m.Payload)
			}
			got[m.ID]++
		}
		if len(got) != nEvents+nUpdates {
			t.Fatalf("round %d: %d subscriptions delivered, want %d", round, len(got), nEvents+nUpdates)
		}
		c.expectSilence(50 * time.Millisecond)
		waitGoroutines("idle again", func(n int) bool { return n <= idleMax })
	}

	for i := range nEvents {
		c.send(fmt.Sprintf(`{"id":"e%d","type":"complete"}`, i))
	}
	waitSubscribers(t, s, 0)
	_ = c.c.Close(websocket.StatusNormalClosure, "")
	for s.Hub.Stats().UpdateSubscribers > 0 {
		time.Sleep(5 * time.Millisecond)
	}
	waitGoroutines("closed", func(n int) bool { return n <= idleMax })
}
