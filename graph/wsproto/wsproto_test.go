package wsproto_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"resolutioncenter/graph/wsproto"
)

// fakeExec is a graphql.GraphExecutor whose "documents" are keywords:
//
//	query     one result, {"hello":"world"}
//	whoami    one result with the "user" value the InitFunc put in the context
//	stream    results pushed on exec.events until it is closed
//	big       1 MiB results as fast as the client takes them
//	panic     panics while dispatching
//	slow      one result after 300ms (a query: shutdown lets it finish)
//	invalid   a request error
//	woken     a subscription that takes its Wake: the test pushes values with
//	          wokenStream.push and ends it with a final error with wokenStream.end
//	prepared  woken, and values pushed as "pre:x" are prepared (Wake.Prepare) as
//	          {"data":{"prepared":"x"}}; the response handler counts its calls
type fakeExec struct {
	handled atomic.Int64 // response handler calls of prepared streams
	events  chan string
	active  atomic.Int64 // running stream operations
	started chan struct{}
	woken   chan *wokenStream
}

// wokenStream is the producer side of a "woken" subscription.
type wokenStream struct {
	w  *wsproto.Wake
	ch chan string
}

func (s *wokenStream) push(v string) { s.ch <- v; s.w.Ready() }
func (s *wokenStream) end()          { close(s.ch); s.w.Closed() }

type userKey struct{}

func newExec() *fakeExec {
	return &fakeExec{events: make(chan string, 16), started: make(chan struct{}, 64), woken: make(chan *wokenStream, 4)}
}

func (f *fakeExec) CreateOperationContext(ctx context.Context, p *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	rc := &graphql.OperationContext{RawQuery: p.Query, Variables: p.Variables, RecoverFunc: func(ctx context.Context, err any) error { return fmt.Errorf("internal system error: %v", err) }}
	rc.Operation = &ast.OperationDefinition{Operation: ast.Query}
	if p.Query == "stream" || p.Query == "big" || p.Query == "woken" || p.Query == "prepared" {
		rc.Operation.Operation = ast.Subscription
	}
	if p.Query == "invalid" {
		return rc, gqlerror.List{{Message: "Cannot query field \"invalid\"", Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}}}
	}
	return rc, nil
}

func (f *fakeExec) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	data := func(v any) *graphql.Response {
		b, _ := json.Marshal(v)
		return &graphql.Response{Data: b}
	}
	switch rc.RawQuery {
	case "query":
		return graphql.OneShot(data(map[string]string{"hello": "world"})), ctx
	case "whoami":
		u, _ := ctx.Value(userKey{}).(string)
		return graphql.OneShot(data(map[string]string{"user": u})), ctx
	case "panic":
		panic("boom")
	case "slow":
		f.started <- struct{}{}
		select {
		case <-time.After(300 * time.Millisecond):
			return graphql.OneShot(data(map[string]string{"slow": "done"})), ctx
		case <-ctx.Done():
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{Message: "canceled"}}}), ctx
		}
	case "woken", "prepared":
		ws := &wokenStream{w: wsproto.StreamWake(ctx), ch: make(chan string, 1024)}
		var held *string // a value the prepared function took but left to the handler
		if rc.RawQuery == "prepared" {
			ws.w.Prepare(func(ctx context.Context) ([]byte, bool) {
				select {
				case v, ok := <-ws.ch:
					if !ok {
						return nil, false
					}
					if p, ok := strings.CutPrefix(v, "pre:"); ok {
						b, _ := json.Marshal(data(map[string]string{"prepared": p}))
						return b, true
					}
					held = &v
				default:
				}
				return nil, false
			})
		}
		f.woken <- ws
		ended := false
		return func(ctx context.Context) *graphql.Response {
			if ctx.Err() != nil {
				return nil
			}
			if rc.RawQuery == "prepared" {
				f.handled.Add(1)
			}
			if held != nil {
				v := *held
				held = nil
				return data(map[string]string{"event": v})
			}
			select {
			case v, ok := <-ws.ch:
				if ok {
					return data(map[string]string{"event": v})
				}
				if !ended { // the stream's last word, as streamEnd gives in package graph
					ended = true
					return &graphql.Response{Errors: gqlerror.List{{Message: "ended", Extensions: map[string]any{"code": "SLOW_CONSUMER"}}}}
				}
				return nil
			default:
				panic("a woken stream was read with nothing in it")
			}
		}, ctx
	case "stream", "big":
		f.active.Add(1)
		f.started <- struct{}{}
		var once sync.Once
		end := func() { once.Do(func() { f.active.Add(-1) }) }
		context.AfterFunc(ctx, end)
		big := strings.Repeat("x", 1<<20)
		return func(ctx context.Context) *graphql.Response {
			if rc.RawQuery == "big" {
				if ctx.Err() != nil {
					end()
					return nil
				}
				return data(map[string]string{"big": big})
			}
			select {
			case <-ctx.Done():
				end()
				return nil
			case e, ok := <-f.events:
				if !ok {
					end()
					return nil
				}
				return data(map[string]string{"event": e})
			}
		}, ctx
	}
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{Message: "unknown"}}}), ctx
}

func (f *fakeExec) DispatchError(ctx context.Context, list gqlerror.List) *graphql.Response {
	return &graphql.Response{Errors: list}
}

type server struct {
	URL    string
	exec   *fakeExec
	cancel context.CancelFunc // cancels the base context: server shutdown
}

func newServer(t *testing.T, o wsproto.Options) *server { return startServer(t, o, false) }

// newDetachedServer sets Options.BaseContext: handlers return after the upgrade.
func newDetachedServer(t *testing.T, o wsproto.Options) *server { return startServer(t, o, true) }

func startServer(t *testing.T, o wsproto.Options, detached bool) *server {
	t.Helper()
	if o.InitFunc == nil {
		o.InitFunc = func(ctx context.Context, p map[string]any) (context.Context, error) {
			switch p["token"] {
			case "bad":
				return nil, errors.New("bad token")
			case "down":
				return nil, &wsproto.CloseError{Code: wsproto.CloseInternalServerError, Reason: "Internal server error"}
			case "busy":
				return nil, &wsproto.CloseError{Code: wsproto.CloseTooManyInit, Reason: "Too many connections", ErrorCode: "LIMIT_REACHED"}
			case "throttled":
				return nil, &wsproto.CloseError{Code: wsproto.CloseTooManyInit, Reason: "Too many failed authentications"}
			case "panic":
				panic("init boom")
			case nil:
				return ctx, nil
			}
			return context.WithValue(ctx, userKey{}, p["token"]), nil
		}
	}
	base, cancel := context.WithCancel(context.Background())
	if detached {
		o.BaseContext = base
	}
	tr := wsproto.New(o)
	exec := newExec()
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !tr.Supports(r) {
			http.Error(w, "not a websocket", http.StatusBadRequest)
			return
		}
		tr.Do(w, r, exec)
	}))
	ts.Config.BaseContext = func(net.Listener) context.Context { return base }
	ts.Start()
	t.Cleanup(func() { cancel(); ts.Close() })
	return &server{URL: "ws" + strings.TrimPrefix(ts.URL, "http"), exec: exec, cancel: cancel}
}

type client struct {
	t *testing.T
	c *websocket.Conn
}

func dial(t *testing.T, url string, opts *websocket.DialOptions) *client {
	t.Helper()
	if opts == nil {
		opts = &websocket.DialOptions{Subprotocols: []string{wsproto.Subprotocol}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(8 << 20)
	t.Cleanup(func() { _ = c.CloseNow() })
	return &client{t: t, c: c}
}

func (c *client) sendRaw(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("write %s: %v", s, err)
	}
}

type msg struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

func (c *client) read(timeout time.Duration) (msg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, b, err := c.c.Read(ctx)
	if err != nil {
		return msg{}, err
	}
	var m msg
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("decode %s: %v", b, err)
	}
	return m, nil
}

func (c *client) expect(typ, id string) msg {
	c.t.Helper()
	m, err := c.read(5 * time.Second)
	if err != nil {
		c.t.Fatalf("want %s %s, got error %v", typ, id, err)
	}
	if m.Type != typ || m.ID != id {
		c.t.Fatalf("want %s %q, got %s %q %s", typ, id, m.Type, m.ID, m.Payload)
	}
	return m
}

// expectClose reads until the connection closes and checks the close code and reason.
func (c *client) expectClose(code int, reason string) {
	c.t.Helper()
	for {
		m, err := c.read(5 * time.Second)
		if err == nil {
			c.t.Logf("message before close: %s %s %s", m.Type, m.ID, m.Payload)
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("want close %d, got %v", code, err)
		}
		if int(ce.Code) != code || ce.Reason != reason {
			c.t.Fatalf("want close %d %q, got %d %q", code, reason, ce.Code, ce.Reason)
		}
		return
	}
}

func (c *client) init(payload string) {
	c.t.Helper()
	if payload == "" {
		c.sendRaw(`{"type":"connection_init"}`)
	} else {
		c.sendRaw(`{"type":"connection_init","payload":` + payload + `}`)
	}
	c.expect("connection_ack", "")
}

func (c *client) subscribe(id, query string) {
	c.t.Helper()
	c.sendRaw(`{"id":"` + id + `","type":"subscribe","payload":{"query":"` + query + `"}}`)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWSCloseCodes(t *testing.T) {
	s := newServer(t, wsproto.Options{})
	for _, tc := range []struct {
		name   string
		init   bool
		send   []string
		code   int
		reason string
	}{
		{"invalid JSON", false, []string{`{"type":`}, 4400, "Invalid message received"},
		{"not an object", false, []string{`[1,2]`}, 4400, "Invalid message received"},
		{"no type", false, []string{`{"payload":{}}`}, 4400, "Invalid message received"},
		{"unknown type", true, []string{`{"type":"hello"}`}, 4400, "Invalid message received"},
		{"server message from client", true, []string{`{"id":"1","type":"next","payload":{}}`}, 4400, "Invalid message received"},
		{"init payload not an object", false, []string{`{"type":"connection_init","payload":"x"}`}, 4400, "Invalid message received"},
		{"subscribe without id", true, []string{`{"type":"subscribe","payload":{"query":"query"}}`}, 4400, "Invalid message received"},
		{"subscribe with empty id", true, []string{`{"id":"","type":"subscribe","payload":{"query":"query"}}`}, 4400, "Invalid message received"},
		{"subscribe with numeric id", true, []string{`{"id":1,"type":"subscribe","payload":{"query":"query"}}`}, 4400, "Invalid message received"},
		{"subscribe without payload", true, []string{`{"id":"1","type":"subscribe"}`}, 4400, "Invalid message received"},
		{"subscribe without query", true, []string{`{"id":"1","type":"subscribe","payload":{}}`}, 4400, "Invalid message received"},
		{"subscribe with bad variables", true, []string{`{"id":"1","type":"subscribe","payload":{"query":"query","variables":[1]}}`}, 4400, "Invalid message received"},
		{"complete without id", true, []string{`{"type":"complete"}`}, 4400, "Invalid message received"},
		{"ping with bad payload", false, []string{`{"type":"ping","payload":5}`}, 4400, "Invalid message received"},
		{"subscribe before ack", false, []string{`{"id":"1","type":"subscribe","payload":{"query":"query"}}`}, 4401, "Unauthorized"},
		{"bad credentials", false, []string{`{"type":"connection_init","payload":{"token":"bad"}}`}, 4403, "Forbidden"},
		{"init failure with own code", false, []string{`{"type":"connection_init","payload":{"token":"down"}}`}, 4500, "Internal server error"},
		{"second init", true, []string{`{"type":"connection_init"}`}, 4429, "Too many initialisation requests"},
		{"duplicate id", true, []string{
			`{"id":"a","type":"subscribe","payload":{"query":"stream"}}`,
			`{"id":"a","type":"subscribe","payload":{"query":"stream"}}`}, 4409, "Subscriber for a already exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s.URL, nil)
			if tc.init {
				c.init("")
			}
			for _, m := range tc.send {
				c.sendRaw(m)
			}
			c.expectClose(tc.code, tc.reason)
		})
	}
	// Every stream the duplicate-id case started has ended.
	waitFor(t, "streams to end", func() bool { return s.exec.active.Load() == 0 })
}

func TestWSDuplicateIDReasonIsTruncated(t *testing.T) {
	s := newServer(t, wsproto.Options{})
	c := dial(t, s.URL, nil)
	c.init("")
	id := strings.Repeat("é", 100)
	c.subscribe(id, "stream")
	c.subscribe(id, "stream")
	m, err := c.read(5 * time.Second)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != wsproto.CloseSubscriberExists {
		t.Fatalf("want close 4409, got %+v %v", m, err)
	}
	if len(ce.Reason) > 123 || !strings.HasPrefix(ce.Reason, "Subscriber for é") {
		t.Fatalf("reason %q (%d bytes)", ce.Reason, len(ce.Reason))
	}
}

func TestWSInitTimeout(t *testing.T) {
	s := newServer(t, wsproto.Options{InitTimeout: 150 * time.Millisecond})
	c := dial(t, s.URL, nil)
	start := time.Now()
	c.expectClose(4408, "Connection initialisation timeout")
	if d := time.Since(start); d < 100*time.Millisecond || d > 3*time.Second {
		t.Fatalf("closed after %v", d)
	}
	// A connection that initialises in time stays open past the timeout.
	c2 := dial(t, s.URL, nil)
	c2.init("")
	time.Sleep(300 * time.Millisecond)
	c2.subscribe("1", "query")
	c2.expect("next", "1")
	c2.expect("complete", "1")
}

func TestWSPingPong(t *testing.T) {
	s := newServer(t, wsproto.Options{})
	c := dial(t, s.URL, nil)
	// Allowed before connection_init.
	c.sendRaw(`{"type":"ping"}`)
	if m := c.expect("pong", ""); len(m.Payload) != 0 {
		t.Fatalf("pong payload %s", m.Payload)
	}
	c.init("")
	c.sendRaw(`{"type":"ping","payload":{"n":1}}`)
	if m := c.expect("pong", ""); string(m.Payload) != `{"n":1}` {
		t.Fatalf("pong payload %s", m.Payload)
	}
	// Unsolicited pongs are accepted.
	c.sendRaw(`{"type":"pong"}`)
	c.sendRaw(`{"type":"pong","payload":{"x":true}}`)
	c.subscribe("q", "query")
	c.expect("next", "q")
	c.expect("complete", "q")
}

func TestWSServerPingFrames(t *testing.T) {
	s := newServer(t, wsproto.Options{PingInterval: 30 * time.Millisecond})
	var pings atomic.Int64
	c := dial(t, s.URL, &websocket.DialOptions{Subprotocols: []string{wsproto.Subprotocol},
		OnPingReceived: func(context.Context, []byte) bool { pings.Add(1); return true }})
	c.init("")
	go func() { _, _ = c.read(2 * time.Second) }() // the reader answers pings
	waitFor(t, "3 pings", func() bool { return pings.Load() >= 3 })
}

func TestWSSubscribeNextServerComplete(t *testing.T) {
	t.Run("request context", func(t *testing.T) { testSubscribeNextServerComplete(t, newServer(t, wsproto.Options{})) })
	t.Run("BaseContext", func(t *testing.T) { testSubscribeNextServerComplete(t, newDetachedServer(t, wsproto.Options{})) })
}

func testSubscribeNextServerComplete(t *testing.T, s *server) {
	c := dial(t, s.URL, nil)
	c.init("")
	c.subscribe("s1", "stream")
	<-s.exec.started
	s.exec.events <- "one"
	s.exec.events <- "two"
	for _, want := range []string{"one", "two"} {
		m := c.expect("next", "s1")
		var p struct{ Data struct{ Event string } }
		_ = json.Unmarshal(m.Payload, &p)
		if p.Data.Event != want {
			t.Fatalf("want %s, got %s", want, m.Payload)
		}
	}
	close(s.exec.events) // the stream ends on the server
	c.expect("complete", "s1")
	// The id is free again.
	c.subscribe("s1", "query")
	c.expect("next", "s1")
	c.expect("complete", "s1")
}

func TestWSClientCompleteStopsDelivery(t *testing.T) {
	s := newServer(t, wsproto.Options{})
	c := dial(t, s.URL, nil)
	c.init("")
	c.subscribe("s1", "stream")
	<-s.exec.started
	s.exec.events <- "one"
	c.expect("next", "s1")
	c.sendRaw(`{"id":"s1","type":"complete"}`)
	waitFor(t, "the stream to be cancelled", func() bool { return s.exec.active.Load() == 0 })
	select {
	case s.exec.events <- "two":
	default:
	}
	if m, err := c.read(300 * time.Millisecond); err == nil {
		t.Fatalf("message after complete: %+v", m)
	}
	// Completing an unknown or finished id is fine, and the id may be reused.
	c2 := dial(t, s.URL, nil)
	c2.init("")
	c2.sendRaw(`{"id":"nope","type":"complete"}`)
	c2.subscribe("s1", "query")
	c2.expect("next", "s1")
	c2.expect("complete", "s1")
}

func TestWSRequestErrorIsErrorMessage(t *testing.T) {
	s := newServer(t, wsproto.Options{})
	c := dial(t, s.URL, nil)
	c.init("")
	c.subscribe("e", "invalid")
	m := c.expect("error", "e")
	var errs []struct{ Message string }
	if err := json.Unmarshal(m.Payload, &errs); err != nil || len(errs) != 1 || !strings.Contains(errs[0].Message, "invalid") {
		t.Fatalf("error payload %s (%v)", m.Payload, err)
	}
	// No complete follows an error, and the id is free.
	c.subscribe("e", "query")
	c.expect("next", "e")
	c.expect("complete", "e")
}

func TestWSPanicIsErrorMessage(t *testing.T) {
	s := newServer(t, wsproto.Options{})
	c := dial(t, s.URL, nil)
	c.init("")
	c.subscribe("p", "panic")
	c.expect("error", "p")
	c.subscribe("q", "query")
	c.expect("next", "q")
}

func TestWSInitFuncContext(t *testing.T) {
	s := newServer(t, wsproto.Options{})
	c := dial(t, s.URL, nil)
	c.init(`{"token":"alice"}`)
	c.subscribe("w", "whoami")
	m := c.expect("next", "w")
	if !strings.Contains(string(m.Payload), `"user":"alice"`) {
		t.Fatalf("payload %s", m.Payload)
	}
	c.expect("complete", "w")
}

func TestWSManyOperationsInParallel(t *testing.T) {
	s := newServer(t, wsproto.Options{})
	c := dial(t, s.URL, nil)
	c.init("")
	for i := range 5 {
		c.subscribe(string(rune('a'+i)), "stream")
	}
	for range 5 {
		<-s.exec.started
	}
	c.subscribe("q", "query") // not held up by the open streams
	c.expect("next", "q")
	c.expect("complete", "q")
	if n := s.exec.active.Load(); n != 5 {
		t.Fatalf("%d active streams", n)
	}
}

func TestWSOrigins(t *testing.T) {
	def := newServer(t, wsproto.Options{})
	sameOnly := newServer(t, wsproto.Options{AllowedOrigins: []string{}})
	custom := newServer(t, wsproto.Options{AllowedOrigins: []string{"*.example.com", "https://exact.example.org", "other.example.net:8443"}})
	host := strings.TrimPrefix(def.URL, "ws://")
	for _, tc := range []struct {
		s      *server
		origin string
		ok     bool
	}{
		{def, "", true},
		{def, "http://" + host, true},
		{def, "http://localhost:5173", true},
		{def, "https://127.0.0.1", true},
		{def, "http://[::1]:3000", true},
		{def, "https://evil.example", false},
		{def, "null", false},
		{def, "http://localhost.evil.example", false},
		{sameOnly, "http://" + strings.TrimPrefix(sameOnly.URL, "ws://"), true},
		{sameOnly, "http://localhost:5173", false},
		{custom, "https://app.example.com", true},
		{custom, "https://example.com", false},
		{custom, "https://exact.example.org", true},
		{custom, "http://exact.example.org", false},
		{custom, "https://other.example.net:8443", true},
		{custom, "https://other.example.net", false},
	} {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		for _, proto := range []string{wsproto.Subprotocol, wsproto.LegacySubprotocol} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c, resp, err := websocket.Dial(ctx, tc.s.URL, &websocket.DialOptions{HTTPHeader: h, Subprotocols: []string{proto}})
			cancel()
			if tc.ok {
				if err != nil {
					t.Errorf("%s origin %q: refused: %v", proto, tc.origin, err)
					continue
				}
				_ = c.CloseNow()
				continue
			}
			if err == nil {
				_ = c.CloseNow()
				t.Errorf("%s origin %q: accepted", proto, tc.origin)
				continue
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s origin %q: want 403, got %v %v", proto, tc.origin, resp, err)
			}
		}
	}
}

func TestWSShutdownCompletesAndGoesAway(t *testing.T) {
	t.Run("request context", func(t *testing.T) { testShutdown(t, newServer(t, wsproto.Options{})) })
	t.Run("BaseContext", func(t *testing.T) { testShutdown(t, newDetachedServer(t, wsproto.Options{})) })
}

// A query in flight when the server shuts down finishes (within ShutdownWait).
func TestWSShutdownLetsQueriesFinish(t *testing.T) {
	s := newDetachedServer(t, wsproto.Options{})
	c := dial(t, s.URL, nil)
	c.init("")
	c.subscribe("q", "slow")
	c.subscribe("s", "stream")
	<-s.exec.started
	<-s.exec.started
	s.cancel()
	got := map[string][]string{}
	for range 3 {
		m, err := c.read(5 * time.Second)
		if err != nil {
			t.Fatalf("got %v so far, then %v", got, err)
		}
		got[m.ID] = append(got[m.ID], m.Type+string(m.Payload))
	}
	if strings.Join(got["s"], ",") != "complete" || strings.Join(got["q"], ",") != `next{"data":{"slow":"done"}},complete` {
		t.Fatalf("got %v", got)
	}
	c.expectClose(int(websocket.StatusGoingAway), "Server shutting down")
}

func testShutdown(t *testing.T, s *server) {
	c := dial(t, s.URL, nil)
	c.init("")
	c.subscribe("s1", "stream")
	c.subscribe("s2", "stream")
	<-s.exec.started
	<-s.exec.started
	s.cancel()
	got := map[string]bool{}
	for range 2 {
		m, err := c.read(5 * time.Second)
		if err != nil {
			t.Fatalf("want complete, got %v", err)
		}
		if m.Type != "complete" {
			t.Fatalf("want complete, got %+v", m)
		}
		got[m.ID] = true
	}
	if !got["s1"] || !got["s2"] {
		t.Fatalf("completed %v", got)
	}
	c.expectClose(int(websocket.StatusGoingAway), "Server shutting down")
	waitFor(t, "streams to end", func() bool { return s.exec.active.Load() == 0 })
}

func TestWSSlowClientDoesNotBlockOthers(t *testing.T) {
	s := newServer(t, wsproto.Options{WriteTimeout: 300 * time.Millisecond})
	slow := dial(t, s.URL, nil)
	slow.init("")
	slow.subscribe("big", "big") // and never read again
	<-s.exec.started
	fast := dial(t, s.URL, nil)
	fast.init("")
	fast.subscribe("f", "stream")
	<-s.exec.started
	for i := range 20 {
		s.exec.events <- "e"
		m := fast.expect("next", "f")
		_ = m
		_ = i
		time.Sleep(10 * time.Millisecond)
	}
	// The slow client's writes time out: it is disconnected and its operation ends.
	waitFor(t, "the slow client's stream to end", func() bool { return s.exec.active.Load() == 1 })
}

func TestWSLegacyProtocol(t *testing.T) {
	s := newServer(t, wsproto.Options{})
	for _, protos := range [][]string{{wsproto.LegacySubprotocol}, nil} {
		c := dial(t, s.URL, &websocket.DialOptions{Subprotocols: protos})
		if want := strings.Join(protos, ""); c.c.Subprotocol() != want {
			t.Fatalf("negotiated %q, want %q", c.c.Subprotocol(), want)
		}
		c.sendRaw(`{"type":"connection_init","payload":{"token":"bob"}}`)
		c.expect("connection_ack", "")
		next := func() msg {
			for {
				m, err := c.read(5 * time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if m.Type != "ka" {
					return m
				}
			}
		}
		c.sendRaw(`{"id":"1","type":"start","payload":{"query":"whoami"}}`)
		if m := next(); m.Type != "data" || m.ID != "1" || !strings.Contains(string(m.Payload), `"bob"`) {
			t.Fatalf("want data, got %+v %s", m, m.Payload)
		}
		if m := next(); m.Type != "complete" || m.ID != "1" {
			t.Fatalf("want complete, got %+v", m)
		}
		c.sendRaw(`{"id":"2","type":"start","payload":{"query":"stream"}}`)
		<-s.exec.started
		s.exec.events <- "legacy"
		if m := next(); m.Type != "data" || !strings.Contains(string(m.Payload), "legacy") {
			t.Fatalf("want data, got %+v %s", m, m.Payload)
		}
		c.sendRaw(`{"id":"2","type":"stop"}`)
		waitFor(t, "the stream to stop", func() bool { return s.exec.active.Load() == 0 })
		c.sendRaw(`{"type":"connection_terminate"}`)
		if _, err := c.read(5 * time.Second); err == nil {
			// gqlgen may send complete for the stopped operation first.
			if _, err := c.read(5 * time.Second); err == nil {
				t.Fatal("connection still open after connection_terminate")
			}
		}
	}
	// A refused connection_init closes with the code of graphql-transport-ws (bad
	// credentials 4403 too) after a connection_error whose payload has, as every other
	// error of the server, extensions.code: the InitFunc's CloseError's ErrorCode, or
	// its close code's. gqlgen's own connection errors (a message that is no JSON, or
	// not connection_init) are INVALID_ARGUMENT. Before, the payload was
	// {"message": ...} alone.
	for _, tc := range []struct {
		send, message, code string
		close               int
		reason              string
	}{
		{`{"type":"connection_init","payload":{"token":"bad"}}`, "Forbidden", "UNAUTHENTICATED", 4403, "Forbidden"},
		{`{"type":"connection_init","payload":{"token":"down"}}`, "Internal server error", "INTERNAL", 4500, "Internal server error"},
		{`{"type":"connection_init","payload":{"token":"busy"}}`, "Too many connections", "LIMIT_REACHED", 4429, "Too many connections"},
		{`{"type":"connection_init","payload":{"token":"throttled"}}`, "Too many failed authentications", "RATE_LIMITED", 4429, "Too many failed authentications"},
		{`{"id":"1","type":"start","payload":{"query":"whoami"}}`, "unexpected message start", "INVALID_ARGUMENT", 1002, "unexpected message"},
		{`not json`, "invalid json", "INVALID_ARGUMENT", 1002, "decoding error"},
	} {
		c := dial(t, s.URL, &websocket.DialOptions{Subprotocols: []string{wsproto.LegacySubprotocol}})
		c.sendRaw(tc.send)
		m := c.expect("connection_error", "")
		var p struct {
			Message    string
			Extensions map[string]any
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil || p.Message != tc.message || p.Extensions["code"] != tc.code {
			t.Errorf("%s: connection_error %s, want message %q with extensions.code %s", tc.send, m.Payload, tc.message, tc.code)
		}
		c.expectClose(tc.close, tc.reason)
	}
}

func TestWSNoGoroutineLeaks(t *testing.T) {
	t.Run("request context", func(t *testing.T) { testNoLeaks(t, newServer(t, wsproto.Options{PingInterval: 20 * time.Millisecond})) })
	t.Run("BaseContext", func(t *testing.T) {
		testNoLeaks(t, newDetachedServer(t, wsproto.Options{PingInterval: 20 * time.Millisecond}))
	})
}

func testNoLeaks(t *testing.T, s *server) {
	// Warm up pools and the server's listener goroutines.
	w := dial(t, s.URL, nil)
	w.init("")
	_ = w.c.Close(websocket.StatusNormalClosure, "")
	time.Sleep(50 * time.Millisecond)
	before := runtime.NumGoroutine()

	var clients []*client
	for i := range 40 {
		c := dial(t, s.URL, nil)
		c.init("")
		c.subscribe("a", "stream")
		c.subscribe("b", "stream")
		if i%4 == 0 {
			c.sendRaw(`{"id":"b","type":"complete"}`)
		}
		clients = append(clients, c)
	}
	for range 80 {
		<-s.exec.started
	}
	for i, c := range clients {
		switch i % 3 {
		case 0:
			_ = c.c.Close(websocket.StatusNormalClosure, "bye")
		case 1:
			_ = c.c.CloseNow() // abrupt
		case 2:
			c.sendRaw(`{"type":"bogus"}`) // the server closes with 4400
			_, _ = c.read(5 * time.Second)
			_ = c.c.CloseNow()
		}
	}
	waitFor(t, "streams to end", func() bool { return s.exec.active.Load() == 0 })
	deadline := time.Now().Add(15 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before+2 {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWSPipelinedFrame sends the upgrade request and a first frame in one write:
// net/http may read the frame along with the request, and it must not be lost when
// the connection is handed over with smaller buffers.
func TestWSPipelinedFrame(t *testing.T) {
	for _, detached := range []bool{false, true} {
		s := startServer(t, wsproto.Options{}, detached)
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "ws://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		payload := []byte(`{"type":"connection_init"}`)
		key := []byte{1, 2, 3, 4}
		frame := []byte{0x81, 0x80 | byte(len(payload))}
		frame = append(frame, key...)
		for i, b := range payload {
			frame = append(frame, b^key[i%4])
		}
		req := "GET / HTTP/1.1\r\nHost: " + strings.TrimPrefix(s.URL, "ws://") + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
		if _, err := conn.Write(append([]byte(req), frame...)); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		var got []byte
		buf := make([]byte, 4096)
		for !strings.Contains(string(got), "connection_ack") {
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("detached=%v: read: %v; got %q", detached, err, got)
			}
			got = append(got, buf[:n]...)
		}
		if !strings.HasPrefix(string(got), "HTTP/1.1 101") {
			t.Fatalf("response %q", got)
		}
	}
}

// TestWSWokenStream: a subscription that takes its Wake is read only when woken (the
// fake panics on a read with nothing to read), gets every value in order however the
// wake-ups interleave with the transport's pump starting and stopping, and ends with
// its final error and complete.
func TestWSWokenStream(t *testing.T) {
	s := newServer(t, wsproto.Options{})
	c := dial(t, s.URL, nil)
	c.init("")
	c.subscribe("w", "woken")
	ws := <-s.exec.woken
	if ws.w == nil {
		t.Fatal("the transport offered no Wake")
	}
	time.Sleep(50 * time.Millisecond) // idle: nothing may be read (the fake would panic)
	const n = 300
	go func() {
		for i := range n {
			ws.push(fmt.Sprint(i))
			if i%7 == 0 {
				time.Sleep(time.Duration(i%3) * time.Millisecond) // let the pump stop now and then
			}
		}
		ws.end()
	}()
	for i := range n {
		m := c.expect("next", "w")
		if want := fmt.Sprintf(`{"data":{"event":"%d"}}`, i); string(m.Payload) != want {
			t.Fatalf("value %d: got %s", i, m.Payload)
		}
	}
	if m := c.expect("next", "w"); !strings.Contains(string(m.Payload), "SLOW_CONSUMER") {
		t.Fatalf("final error: got %s", m.Payload)
	}
	c.expect("complete", "w")

	// Completed by the client while idle: the transport is woken by the close and
	// ends the operation without a word.
	c.subscribe("x", "woken")
	ws = <-s.exec.woken
	c.sendRaw(`{"id":"x","type":"complete"}`)
	time.Sleep(20 * time.Millisecond)
	ws.end()
	c.subscribe("q", "query")
	c.expect("next", "q")
	c.expect("complete", "q")
}

// TestWSPreparedPayloads: values the resolver prepared (Wake.Prepare) are sent as
// they are, with the operation's id, without running the response handler; the
// others, and the stream's end, run it as before, in order.
func TestWSPreparedPayloads(t *testing.T) {
	s := newServer(t, wsproto.Options{})
	c := dial(t, s.URL, nil)
	c.init("")
	c.subscribe("p", "prepared")
	ws := <-s.exec.woken
	values := []string{"a", "pre:b", "pre:c", "d", "pre:e"}
	go func() {
		for _, v := range values {
			ws.push(v)
		}
		ws.end()
	}()
	for _, want := range []string{`{"data":{"event":"a"}}`, `{"data":{"prepared":"b"}}`, `{"data":{"prepared":"c"}}`,
		`{"data":{"event":"d"}}`, `{"data":{"prepared":"e"}}`} {
		if m := c.expect("next", "p"); string(m.Payload) != want {
			t.Fatalf("got %s, want %s", m.Payload, want)
		}
	}
	if m := c.expect("next", "p"); !strings.Contains(string(m.Payload), "SLOW_CONSUMER") {
		t.Fatalf("final error: got %s", m.Payload)
	}
	c.expect("complete", "p")
	// a, d, the final error and the end: 4 calls (the prepared b, c, e: none).
	if got := s.exec.handled.Load(); got != 4 {
		t.Errorf("the response handler ran %d times, want 4", got)
	}
}

// A panic while handling a message (here in InitFunc) closes that connection with 4500;
// the server and its other connections go on.
func TestWSMessagePanicClosesOnlyItsConnection(t *testing.T) {
	for _, detached := range []bool{false, true} {
		s := startServer(t, wsproto.Options{}, detached)
		other := dial(t, s.URL, nil)
		other.init("")
		c := dial(t, s.URL, nil)
		c.sendRaw(`{"type":"connection_init","payload":{"token":"panic"}}`)
		c.expectClose(wsproto.CloseInternalServerError, "Internal server error")
		other.subscribe("q", "query")
		other.expect("next", "q")
		other.expect("complete", "q")
	}
}

// Conns counts connections on both protocols; after Close it waits for the open ones
// and refuses new upgrades with 1001, on both protocols. (An upgrade that completes
// while shutdown waits was a race with sync.WaitGroup: the HTTP server does not track
// hijacked connections, so it can come after Shutdown returned.)
func TestWSConnGroup(t *testing.T) {
	var g wsproto.ConnGroup
	s := newDetachedServer(t, wsproto.Options{Conns: &g})
	modern := dial(t, s.URL, nil)
	modern.init("")
	legacy := dial(t, s.URL, &websocket.DialOptions{Subprotocols: []string{wsproto.LegacySubprotocol}})
	legacy.sendRaw(`{"type":"connection_init"}`)
	legacy.expect("connection_ack", "")
	waitFor(t, "two connections counted", func() bool { return g.Open() == 2 })

	done := g.Close()
	if g.Close() != done {
		t.Fatal("Close twice returned another channel")
	}
	select {
	case <-done:
		t.Fatal("done before the open connections ended")
	default:
	}
	for _, protos := range [][]string{{wsproto.Subprotocol}, {wsproto.LegacySubprotocol}} {
		late := dial(t, s.URL, &websocket.DialOptions{Subprotocols: protos})
		late.expectClose(int(websocket.StatusGoingAway), "server shutting down")
	}
	if n := g.Open(); n != 2 {
		t.Fatalf("refused connections were counted: %d open", n)
	}
	_ = modern.c.Close(websocket.StatusNormalClosure, "")
	_ = legacy.c.Close(websocket.StatusNormalClosure, "")
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("done not closed; %d open", g.Open())
	}

	// Joining and closing at once, from many goroutines: every join either counts
	// (and its leave comes before done) or is refused.
	for range 50 {
		var g wsproto.ConnGroup
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() { defer wg.Done(); wsproto.JoinLeave(&g) }()
		}
		<-g.Close()
		wg.Wait()
		if g.Open() != 0 {
			t.Fatalf("%d open after all left", g.Open())
		}
	}
}

// TestWSPeerThatStopsAnsweringPingsIsDisconnected: PingInterval's ping frames detect
// dead peers: one whose pong does not come within WriteTimeout is disconnected (and
// what it held released), rather than left open with no more pings sent.
func TestWSPeerThatStopsAnsweringPingsIsDisconnected(t *testing.T) {
	var open atomic.Int64
	s := newServer(t, wsproto.Options{PingInterval: 30 * time.Millisecond, WriteTimeout: 300 * time.Millisecond,
		OnConn: func(_ string, d int) { open.Add(int64(d)) }})
	var pings atomic.Int64
	var answer atomic.Bool
	answer.Store(true)
	c := dial(t, s.URL, &websocket.DialOptions{Subprotocols: []string{wsproto.Subprotocol},
		OnPingReceived: func(context.Context, []byte) bool { pings.Add(1); return answer.Load() }})
	c.init("")
	ended := make(chan error, 1)
	go func() {
		for {
			if _, err := c.read(10 * time.Second); err != nil {
				ended <- err
				return
			}
		}
	}()
	waitFor(t, "3 answered pings", func() bool { return pings.Load() >= 3 })
	answer.Store(false) // the peer is gone, as far as pings can tell
	select {
	case err := <-ended:
		t.Logf("connection ended: %v", err)
	case <-time.After(3 * time.Second):
		t.Fatalf("a peer that stopped answering pings is still connected after 3s (%d pings sent)", pings.Load())
	}
	waitFor(t, "the connection released", func() bool { return open.Load() == 0 })
}
