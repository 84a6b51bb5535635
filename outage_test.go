package main

// Operational tests of the real server (run() in-process): a PostgreSQL outage and
// recovery through a TCP proxy (TestOutagePostgres), a graceful shutdown under load
// (TestShutdownUnderLoad), and the /metrics endpoint of the wired server
// (TestMetricsRealServer).

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/graph/graphtest"
)

const hxEventSub = `subscription($id: ID!) { resolutionEventAdded(resolutionId: $id) { cursor node { position action } } }`

const hxChargeback = `mutation($id: ID!, $d: String) { recordChargebackEvent(input: {resolutionId: $id, action: DISPUTE_OPENED, details: $d}) { event { position } userErrors { code message } } }`

// hxEventPosition decodes the position of a resolutionEventAdded "next" payload.
func hxEventPosition(payload []byte) (int, error) {
	var p struct {
		Data struct {
			ResolutionEventAdded struct {
				Node struct{ Position int }
			}
		}
		Errors []any
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return 0, err
	}
	if len(p.Errors) > 0 || p.Data.ResolutionEventAdded.Node.Position == 0 {
		return 0, fmt.Errorf("not an event: %s", payload)
	}
	return p.Data.ResolutionEventAdded.Node.Position, nil
}

// hxWaitReady polls /readyz until it answers want, or fails after timeout.
func hxWaitReady(t *testing.T, base string, want int, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		status, body, err := hxGet(ctx, base+"/readyz", nil)
		cancel()
		if err == nil && status == want {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("/readyz did not answer %d within %s: last %d %q %v", want, timeout, status, body, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hxCall is one request of the background traffic.
type hxCall struct {
	kind       string // query-user, query-platform, mutation
	start, end time.Time
	status     int
	code       string
	err        error
	position   int // mutations: the committed event's position
	body       string
	skip       bool
}

func TestOutagePostgres(t *testing.T) {
	if os.Getenv(dbtest.EnvPostgres) == "" {
		t.Skipf("outage test skipped: it needs PostgreSQL; set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", dbtest.EnvPostgres)
	}
	pgURL := dbtest.PostgresURL(t)
	direct, err := db.Open(context.Background(), pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	if _, err := direct.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	fx := hxSeed(t, direct, 2)
	caseID := fx.Cases[0]

	proxy := hxStartProxy(t, hxHostPort(t, pgURL))
	s := hxStart(t, map[string]string{"DATABASE_URL": hxProxiedURL(t, pgURL, proxy.Addr),
		"REQUEST_TIMEOUT": "5s", "STATEMENT_TIMEOUT": "5s", "SWEEP_INTERVAL": "300ms"})
	endpoint := s.GraphQL()
	hxWaitReady(t, s.URL, http.StatusOK, 15*time.Second)

	// The subscriber: the platform token needs no database lookup to connect.
	ws := graphtest.DialWS(t, endpoint, map[string]any{"Authorization": "Bearer " + hxPlatformToken})
	msgs, wsEnd := graphtest.Pump(ws)
	ws.Subscribe("1", hxEventSub, map[string]any{"id": caseID})
	var (
		recvMu   sync.Mutex
		received []int
		badMsgs  []string
	)
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		for m := range msgs {
			recvMu.Lock()
			if m.Type != "next" {
				badMsgs = append(badMsgs, fmt.Sprintf("%s %s", m.Type, m.Payload))
			} else if pos, err := hxEventPosition(m.Payload); err != nil {
				badMsgs = append(badMsgs, err.Error())
			} else {
				received = append(received, pos)
			}
			recvMu.Unlock()
		}
	}()
	// The subscription is live once an event committed now arrives.
	var first struct {
		RecordChargebackEvent struct{ Event struct{ Position int } }
	}
	hxMust(t, endpoint, hxPlatformToken, hxChargeback, map[string]any{"id": caseID, "d": "warm-up"}, &first)
	startPos := first.RecordChargebackEvent.Event.Position - 1 // the subscription started after this position
	hxEventually(t, 10*time.Second, func() bool {
		recvMu.Lock()
		defer recvMu.Unlock()
		return len(received) > 0
	}, "the subscription delivers the warm-up event")

	// Mixed traffic: a customer (token looked up in the database), the platform
	// reading, and the platform appending events.
	var callsMu sync.Mutex
	var calls []hxCall
	stopTraffic := make(chan struct{})
	var traffic sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	loop := func(kind string, every time.Duration, do func() hxCall) {
		traffic.Add(1)
		go func() {
			defer traffic.Done()
			for {
				select {
				case <-stopTraffic:
					return
				case <-time.After(every):
				}
				c := do()
				if c.skip {
					continue
				}
				c.kind = kind
				callsMu.Lock()
				calls = append(calls, c)
				callsMu.Unlock()
			}
		}()
	}
	send := func(token, q string, vars map[string]any) (hxCall, hxResponse) {
		c := hxCall{start: time.Now()}
		r, err := hxPost(context.Background(), client, endpoint, token, q, vars, nil)
		c.end, c.err, c.status, c.code = time.Now(), err, r.Status, r.Code()
		if c.code != "" {
			c.body = hxTrunc(r.Raw, 300)
		}
		return c, r
	}
	loop("query-user", 20*time.Millisecond, func() hxCall {
		c, _ := send(fx.CustomerToken, `{ viewer { role } resolutions(first: 5) { edges { node { id status company { title } } } } }`, nil)
		return c
	})
	loop("query-platform", 20*time.Millisecond, func() hxCall {
		c, _ := send(hxPlatformToken, `query($id: ID!) { resolution(id: $id) { id version events(first: 3) { nodes { position } } } }`, map[string]any{"id": caseID})
		return c
	})
	// A token first used during the outage: its lookup needs the database.
	var dbDown atomic.Bool
	loop("query-fresh-token", 50*time.Millisecond, func() hxCall {
		if !dbDown.Load() {
			return hxCall{skip: true}
		}
		c, _ := send(fx.MerchantToken, `{ viewer { role } }`, nil)
		return c
	})
	var seq atomic.Int64
	loop("mutation", 40*time.Millisecond, func() hxCall {
		c, r := send(hxPlatformToken, hxChargeback, map[string]any{"id": caseID, "d": fmt.Sprintf("event %d", seq.Add(1))})
		var out struct {
			RecordChargebackEvent struct{ Event *struct{ Position int } }
		}
		if c.err == nil && c.code == "" && json.Unmarshal(r.Data, &out) == nil && out.RecordChargebackEvent.Event != nil {
			c.position = out.RecordChargebackEvent.Event.Position
		}
		return c
	})

	time.Sleep(1500 * time.Millisecond)

	// The database goes away.
	stoppedAt := time.Now()
	proxy.Stop()
	dbDown.Store(true)
	t.Logf("database stopped")
	time.Sleep(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	readyStart := time.Now()
	status, body, err := hxGet(ctx, s.URL+"/readyz", nil)
	cancel()
	if err != nil || status != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: %d %q %v, want 503", status, body, err)
	} else {
		t.Logf("/readyz during the outage: 503 %q in %s", strings.TrimSpace(body), time.Since(readyStart).Round(time.Millisecond))
	}
	time.Sleep(2500 * time.Millisecond)
	select {
	case err := <-s.done:
		t.Fatalf("run() returned during the outage: %v", err)
	default:
	}

	// The database comes back on the same address.
	dbDown.Store(false)
	restartedAt := time.Now()
	if err := proxy.Start(); err != nil {
		t.Fatalf("restart proxy: %v", err)
	}
	t.Logf("database started again")
	took := hxWaitReady(t, s.URL, http.StatusOK, 20*time.Second)
	t.Logf("/readyz answered 200 again %s after the database came back", took.Round(time.Millisecond))
	recoveredAt := time.Now()
	time.Sleep(1500 * time.Millisecond)
	close(stopTraffic)
	traffic.Wait()

	// Every committed event reaches the subscriber, in order, once.
	evs, err := direct.EventsAfter(context.Background(), map[string]int{caseID: startPos})
	if err != nil {
		t.Fatal(err)
	}
	var timeline []int
	for _, e := range evs[caseID] {
		timeline = append(timeline, e.Position)
	}
	hxEventually(t, 15*time.Second, func() bool {
		recvMu.Lock()
		defer recvMu.Unlock()
		return len(received) >= len(timeline)
	}, "the subscription catches up with the timeline")
	time.Sleep(300 * time.Millisecond) // a duplicate would arrive now
	recvMu.Lock()
	got := slices.Clone(received)
	bad := slices.Clone(badMsgs)
	recvMu.Unlock()
	if !slices.Equal(got, timeline) {
		t.Errorf("subscription received positions %v,\nthe timeline has %v", got, timeline)
	}
	if len(bad) > 0 {
		t.Errorf("the subscription got other messages than events (it must survive the outage): %v", bad)
	}
	select {
	case <-recvDone:
		t.Errorf("the subscription's connection ended: %v", wsEnd())
	default:
	}

	// The traffic, phase by phase.
	callsMu.Lock()
	defer callsMu.Unlock()
	ok := func(c hxCall) bool { return c.err == nil && c.status == 200 && c.code == "" }
	unavailable := func(c hxCall) bool {
		return c.err == nil && c.code == "UNAVAILABLE" && (c.status == 200 || c.status == http.StatusServiceUnavailable)
	}
	var before, at, during, after, slow, n503, committedBefore, committedAfter int
	for _, c := range calls {
		switch {
		case c.end.Before(stoppedAt):
			before++
			if !ok(c) {
				t.Errorf("%s before the outage failed: %d %s %v %s", c.kind, c.status, c.code, c.err, c.body)
			}
			if c.position > 0 {
				committedBefore++
			}
		case c.start.After(stoppedAt) && c.end.Before(restartedAt):
			during++
			if d := c.end.Sub(c.start); d > time.Second {
				slow++
				t.Errorf("%s during the outage took %s, want < 1s", c.kind, d.Round(time.Millisecond))
			}
			if !unavailable(c) {
				t.Errorf("%s during the outage: %d %q %v, want UNAVAILABLE: %s", c.kind, c.status, c.code, c.err, c.body)
			}
			if c.status == http.StatusServiceUnavailable {
				n503++
			}
			if c.kind == "query-fresh-token" && c.status != http.StatusServiceUnavailable {
				t.Errorf("a token first used during the outage: %d, want 503 (its lookup is unavailable): %s", c.status, c.body)
			}
		case c.start.After(recoveredAt):
			after++
			if !ok(c) {
				t.Errorf("%s after recovery failed: %d %s %v %s", c.kind, c.status, c.code, c.err, c.body)
			}
			if c.position > 0 {
				committedAfter++
			}
		default:
			// In flight when the database went away or came back: success or
			// UNAVAILABLE, never an internal error.
			at++
			if !ok(c) && !unavailable(c) {
				t.Errorf("%s across a transition: %d %q %v, want success or UNAVAILABLE: %s", c.kind, c.status, c.code, c.err, c.body)
			}
		}
	}
	t.Logf("traffic: %d requests before the outage (%d events committed), %d across the transitions, %d during (all UNAVAILABLE expected; %d answered 503; %d slower than 1s), %d after recovery (%d events committed); subscription received %d events",
		before, committedBefore, at, during, n503, slow, after, committedAfter, len(got))
	if during < 10 || after < 10 || committedBefore == 0 || committedAfter == 0 {
		t.Errorf("not enough traffic in every phase: before %d (%d committed), during %d, after %d (%d committed)", before, committedBefore, during, after, committedAfter)
	}
}

// hxEventually polls cond until it holds, failing the test after timeout.
func hxEventually(t *testing.T, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting until %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hxShutdownCall is one request of the load during shutdown.
type hxShutdownCall struct {
	id         string
	start, end time.Time
	status     int
	ok         bool // 200 with data and no error
	err        error
	body       string
}

func TestShutdownUnderLoad(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dbURL, fx := hxSQLiteWithFixture(t, 3)
		hxShutdownUnderLoad(t, dbURL, fx)
	})
	t.Run("postgres", func(t *testing.T) {
		pgURL := dbtest.PostgresURL(t)
		d, err := db.Open(context.Background(), pgURL)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		fx := hxSeed(t, d, 3)
		d.Close()
		hxShutdownUnderLoad(t, pgURL, fx)
	})
}

func hxShutdownUnderLoad(t *testing.T, dbURL string, fx hxFixture) {
	const grace = 5 * time.Second
	s := hxStart(t, map[string]string{"DATABASE_URL": dbURL, "SHUTDOWN_GRACE": grace.String()})
	endpoint := s.GraphQL()
	hxWaitReady(t, s.URL, http.StatusOK, 15*time.Second)

	// Subscribers: two over WebSocket, two over SSE.
	type wsSub struct {
		msgs <-chan graphtest.WSMessage
		end  func() error
	}
	var wss []wsSub
	for i := range 2 {
		ws := graphtest.DialWS(t, endpoint, map[string]any{"Authorization": "Bearer " + fx.CustomerToken})
		msgs, end := graphtest.Pump(ws)
		if i == 0 {
			ws.Subscribe("1", hxEventSub, map[string]any{"id": fx.Cases[0]})
		} else {
			ws.Subscribe("1", `subscription { resolutionUpdated { id status version } }`, nil)
		}
		wss = append(wss, wsSub{msgs, end})
	}
	var sses []*graphtest.SSE
	for i := range 2 {
		q, vars := hxEventSub, map[string]any{"id": fx.Cases[1]}
		if i == 1 {
			q, vars = `subscription { resolutionUpdated { id status version } }`, nil
		}
		sse := graphtest.DialSSE(t, endpoint, fx.MerchantToken, q, vars)
		if sse.Status != http.StatusOK {
			ev, _ := sse.TryRead(time.Second)
			t.Fatalf("SSE subscription refused: %d %s", sse.Status, ev.Data)
		}
		sses = append(sses, sse)
	}
	time.Sleep(200 * time.Millisecond)
	// One event so that every stream is known to be live.
	hxMust(t, endpoint, hxPlatformToken, hxChargeback, map[string]any{"id": fx.Cases[0], "d": "before shutdown"}, nil)
	hxMust(t, endpoint, hxPlatformToken, hxChargeback, map[string]any{"id": fx.Cases[1], "d": "before shutdown"}, nil)

	// Load: workers sending queries (and some mutations) back to back.
	var (
		mu    sync.Mutex
		calls []hxShutdownCall
		stop  = make(chan struct{})
		wg    sync.WaitGroup
		seq   atomic.Int64
	)
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("shutdown-%d-%d", w, seq.Add(1))
				c := hxShutdownCall{id: id, start: time.Now()}
				var r hxResponse
				if w == 0 {
					r, c.err = hxPost(context.Background(), client, endpoint, hxPlatformToken, hxChargeback,
						map[string]any{"id": fx.Cases[2], "d": id}, map[string]string{"X-Request-ID": id})
				} else {
					r, c.err = hxPost(context.Background(), client, endpoint, fx.CustomerToken,
						`query Load { viewer { role } resolutions(first: 10) { edges { node { id status company { title } user { username } payment { total { amount } } events(first: 5) { nodes { position } } } } } }`,
						nil, map[string]string{"X-Request-ID": id})
				}
				c.end = time.Now()
				c.status = r.Status
				c.ok = c.err == nil && r.Status == 200 && len(r.Errors) == 0 && r.HasData()
				if !c.ok {
					c.body = hxTrunc(r.Raw, 200)
				}
				mu.Lock()
				calls = append(calls, c)
				mu.Unlock()
				if c.err != nil {
					time.Sleep(5 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(700 * time.Millisecond)

	// SIGTERM.
	cancelAt := time.Now()
	s.cancel()
	// New connections are refused once shutdown has begun.
	refusedAfter := time.Duration(-1)
	for time.Since(cancelAt) < time.Second {
		c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
		if err != nil {
			refusedAfter = time.Since(cancelAt)
			break
		}
		c.Close()
		time.Sleep(5 * time.Millisecond)
	}
	var runErr error
	select {
	case runErr = <-s.done:
	case <-time.After(grace + 2*time.Second):
		t.Fatalf("run() did not return within SHUTDOWN_GRACE (%s)", grace)
	}
	returnedAfter := time.Since(cancelAt)
	s.stopOnce.Do(func() { s.runErr = runErr }) // already stopped: the cleanup must not wait again
	close(stop)
	wg.Wait()
	if runErr != nil {
		t.Errorf("run() returned %v, want nil", runErr)
	}
	if returnedAfter > grace {
		t.Errorf("run() returned after %s, want within SHUTDOWN_GRACE %s", returnedAfter, grace)
	}
	if refusedAfter < 0 {
		t.Errorf("new connections were still accepted 1s after shutdown began")
	}
	if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		c.Close()
		t.Errorf("a new connection was accepted after run() returned")
	}

	// Requests the server accepted (it logged their operation) all completed.
	logged := map[string]bool{}
	for _, l := range s.Out.JSONLines() {
		if l["msg"] == "graphql" {
			if id, _ := l["request_id"].(string); id != "" {
				logged[id] = true
			}
		}
	}
	var okCount, inflight, refused int
	mu.Lock()
	for _, c := range calls {
		switch {
		case c.ok:
			okCount++
			if c.start.Before(cancelAt) && c.end.After(cancelAt) {
				inflight++
			}
		case c.err != nil && !logged[c.id] && c.start.After(cancelAt.Add(-time.Second)):
			refused++ // never accepted: connection refused or closed before the request was read
		default:
			t.Errorf("request %s (started %s after SIGTERM) failed: status %d, err %v, body %s", c.id,
				c.start.Sub(cancelAt).Round(time.Millisecond), c.status, c.err, c.body)
		}
	}
	mu.Unlock()
	t.Logf("shutdown: %d requests completed (%d in flight at SIGTERM), %d refused at connection level; new connections refused %s after SIGTERM; run() returned nil after %s",
		okCount, inflight, refused, refusedAfter.Round(time.Millisecond), returnedAfter.Round(time.Millisecond))
	if okCount < 20 {
		t.Errorf("only %d requests completed: the load did not run", okCount)
	}

	// Every subscriber saw a clean end: complete, no error.
	for i, ws := range wss {
		var types []string
		sawComplete := false
		timeout := time.After(5 * time.Second)
	read:
		for {
			select {
			case m, ok := <-ws.msgs:
				if !ok {
					break read
				}
				types = append(types, m.Type)
				switch m.Type {
				case "complete":
					if m.ID != "1" {
						t.Errorf("ws %d: complete for id %q, want 1", i, m.ID)
					}
					sawComplete = true
				case "error":
					t.Errorf("ws %d: error at shutdown: %s", i, m.Payload)
				case "next":
					if strings.Contains(string(m.Payload), `"errors"`) {
						t.Errorf("ws %d: an error at shutdown: %s", i, m.Payload)
					}
				}
			case <-timeout:
				t.Errorf("ws %d: the connection stayed open 5s after run() returned", i)
				break read
			}
		}
		if !sawComplete {
			t.Errorf("ws %d: no complete message before the connection ended (messages %v, end: %v)", i, types, ws.end())
		}
	}
	for i, sse := range sses {
		var events []string
		sawComplete := false
		timeout := time.After(5 * time.Second)
	readSSE:
		for {
			select {
			case ev, ok := <-sse.Events():
				if !ok {
					break readSSE
				}
				events = append(events, ev.Event)
				if ev.Event == "complete" {
					sawComplete = true
				}
				if strings.Contains(string(ev.Data), `"errors"`) {
					t.Errorf("sse %d: an error at shutdown: %s %s", i, ev.Event, ev.Data)
				}
			case <-timeout:
				t.Errorf("sse %d: the stream stayed open 5s after run() returned", i)
				break readSSE
			}
		}
		if !sawComplete {
			t.Errorf("sse %d: no `event: complete` before the stream ended (events %v, end: %v)", i, events, sse.Err())
		}
	}
}

// TestMetricsRealServer scrapes /metrics of the wired server after real traffic and
// parses it with the Prometheus text parser.
func TestMetricsRealServer(t *testing.T) {
	dbURL, fx := hxSQLiteWithFixture(t, 2)
	const token = "hx-metrics-token"
	s := hxStart(t, map[string]string{"DATABASE_URL": dbURL, "METRICS_TOKEN": token, "SWEEP_INTERVAL": "100ms"})
	endpoint := s.GraphQL()

	ws := graphtest.DialWS(t, endpoint, map[string]any{"Authorization": "Bearer " + fx.CustomerToken})
	msgs, _ := graphtest.Pump(ws)
	ws.Subscribe("1", hxEventSub, map[string]any{"id": fx.Cases[0]})
	time.Sleep(200 * time.Millisecond)
	hxMust(t, endpoint, fx.CustomerToken, `query Mine { resolutions(first: 5) { edges { node { id company { title } } } } }`, nil, nil)
	hxMust(t, endpoint, hxPlatformToken, hxChargeback, map[string]any{"id": fx.Cases[0], "d": "x"}, nil)
	r, err := hxPost(context.Background(), nil, endpoint, fx.CustomerToken, `{ resolution(id: "reso_nope") { id } }`, nil, nil)
	if err != nil || r.Code() != "INVALID_ARGUMENT" {
		t.Fatalf("want an INVALID_ARGUMENT error: %v %s", err, r.Raw)
	}
	select {
	case m := <-msgs:
		if m.Type != "next" {
			t.Fatalf("subscription: %s %s", m.Type, m.Payload)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the subscription received nothing")
	}
	time.Sleep(300 * time.Millisecond) // a few deadline sweeps

	ctx := context.Background()
	if status, _, err := hxGet(ctx, s.URL+"/metrics", nil); err != nil || status != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d %v, want 401", status, err)
	}
	if status, _, err := hxGet(ctx, s.URL+"/metrics", map[string]string{"Authorization": "Bearer wrong"}); err != nil || status != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong token: %d %v, want 401", status, err)
	}
	status, text, err := hxGet(ctx, s.URL+"/metrics", map[string]string{"Authorization": "Bearer " + token})
	if err != nil || status != http.StatusOK {
		t.Fatalf("/metrics: %d %v", status, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	sum := func(name string, match func(labels map[string]string) bool) (float64, bool) {
		f, ok := fams[name]
		if !ok {
			return 0, false
		}
		var total float64
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if match != nil && !match(labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				total += m.GetCounter().GetValue()
			case m.Gauge != nil:
				total += m.GetGauge().GetValue()
			case m.Histogram != nil:
				total += float64(m.GetHistogram().GetSampleCount())
			case m.Untyped != nil:
				total += m.GetUntyped().GetValue()
			}
		}
		return total, true
	}
	check := func(name string, match func(map[string]string) bool, ok func(float64) bool, what string) {
		t.Helper()
		v, found := sum(name, match)
		if !found {
			t.Errorf("%s missing from /metrics", name)
			return
		}
		if !ok(v) {
			t.Errorf("%s = %v, want %s", name, v, what)
		}
	}
	positive := func(v float64) bool { return v > 0 }
	check("rc_graphql_operations_total", func(l map[string]string) bool { return l["operation"] == "Mine" && l["type"] == "query" },
		func(v float64) bool { return v == 1 }, "1 for operation Mine")
	check("rc_graphql_operations_total", func(l map[string]string) bool { return l["type"] == "mutation" }, positive, "> 0 mutations")
	check("rc_graphql_errors_total", func(l map[string]string) bool { return l["code"] == "INVALID_ARGUMENT" }, positive, "> 0 INVALID_ARGUMENT")
	check("rc_sql_statements_total", nil, positive, "> 0")
	check("rc_fanout_lag_seconds", nil, positive, "> 0 deliveries observed")
	check("rc_subscribers_dropped_total", nil, func(v float64) bool { return v == 0 }, "0")
	check("rc_deadline_sweeps_total", func(l map[string]string) bool { return l["result"] == "ok" }, positive, "> 0 ok sweeps")
	check("rc_listen_up", nil, func(v float64) bool { return v == 1 }, "1")
	check("go_goroutines", nil, func(v float64) bool { return v > 5 && v < 10000 }, "a plausible goroutine count")
	check("go_memstats_heap_alloc_bytes", nil, func(v float64) bool { return v > 1<<20 && v < 4<<30 }, "a plausible heap")
	check("process_resident_memory_bytes", nil, func(v float64) bool { return v > 1<<20 && v < 8<<30 }, "a plausible RSS")
	check("process_start_time_seconds", nil, func(v float64) bool {
		return v > float64(time.Now().Add(-24*time.Hour).Unix()) && v <= float64(time.Now().Unix()+1)
	}, "a start time within the last day")
	check("process_open_fds", nil, positive, "> 0")
	if lag, ok := fams["rc_fanout_lag_seconds"]; ok && len(lag.GetMetric()) > 0 {
		h := lag.GetMetric()[0].GetHistogram()
		if h.GetSampleCount() > 0 && (h.GetSampleSum() < 0 || h.GetSampleSum()/float64(h.GetSampleCount()) > 10) {
			t.Errorf("rc_fanout_lag_seconds: implausible mean %v s", h.GetSampleSum()/float64(h.GetSampleCount()))
		}
	}
	// No secret leaks into the metrics (operation names are client-chosen, tokens never).
	for _, secret := range []string{token, fx.CustomerToken, hxPlatformToken} {
		if strings.Contains(text, secret) {
			t.Errorf("/metrics contains a token")
		}
	}
}
