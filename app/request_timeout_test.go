package app_test

// REQUEST_TIMEOUT bounds every query and mutation, whatever the transport carries it:
// POST, GET, SSE and WebSocket (both protocols). A query sent with Accept: text/event-stream (or as a
// graphql-transport-ws subscribe message) ran for as long as it liked; subscriptions
// stay unbounded.

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
)

// stallHook holds every statement whose text contains match until the statement's
// context ends, or for at most limit: a slow database on demand, whatever the
// machine's speed. The statement then runs with the context it was given (an ended
// one fails at once).
type stallHook struct {
	match   string
	limit   time.Duration
	stalled atomic.Int32
}

func (h *stallHook) BeforeQuery(ctx context.Context, ev *bun.QueryEvent) context.Context {
	if !strings.Contains(ev.Query, h.match) {
		return ctx
	}
	h.stalled.Add(1)
	t := time.NewTimer(h.limit)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return ctx
}

func (h *stallHook) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestRequestTimeoutEveryTransport: with REQUEST_TIMEOUT=1s and the timeline's reads
// held for 6 s, a query is cut off after about a second with UNAVAILABLE ("request
// timed out") over POST, over GET, over SSE (Accept: text/event-stream), over
// graphql-transport-ws and over legacy graphql-ws; so is a mutation over SSE and over WebSocket, which changes
// nothing. A subscription over SSE and over WebSocket still delivers an event more
// than a second after it started.
func TestRequestTimeoutEveryTransport(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		fx := seedFixture(t, d, 1)
		s := apptest.New(t, d, apptest.Options{Env: map[string]string{"REQUEST_TIMEOUT": "1s", "STATEMENT_TIMEOUT": "30s"}})
		caseID := fx.Cases[0]
		vars := map[string]any{"id": caseID}
		const (
			query    = `query($id: ID!) { resolution(id: $id) { id status events(first: 5) { nodes { id action } } } }`
			mutation = `mutation($id: ID!) { respondToResolution(input: {resolutionId: $id, message: "slow"}) { resolution { status } userErrors { code } } }`
			eventSub = `subscription($id: ID!) { resolutionEventAdded(resolutionId: $id) { cursor node { action } } }`
			limit    = 6 * time.Second // how long a held statement waits at most
			bound    = 4 * time.Second // when a timed-out answer must have come
		)
		hook := &stallHook{match: "resolution_events", limit: limit}
		remove := d.AddQueryHook(hook)
		removed := false
		defer func() {
			if !removed {
				remove()
			}
		}()

		// wantTimedOut checks one answer: within bound, one UNAVAILABLE "request timed
		// out" error, and no events.
		wantTimedOut := func(t *testing.T, transport string, took time.Duration, raw []byte) {
			t.Helper()
			var r apptest.Response
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatalf("%s: not a GraphQL response (%v): %s", transport, err, raw)
			}
			t.Logf("%s answered after %v: %s", transport, took.Round(time.Millisecond), apptest.Trunc(raw, 300))
			if took > bound {
				t.Errorf("%s ran %v (REQUEST_TIMEOUT=1s): want it cut off like a POST", transport, took.Round(time.Millisecond))
			}
			if r.FirstCode() != "UNAVAILABLE" || !strings.Contains(string(raw), "request timed out") {
				t.Errorf("%s: want the UNAVAILABLE \"request timed out\" error, got %s", transport, apptest.Trunc(raw, 500))
			}
			if strings.Contains(string(r.Data), `"action"`) || strings.Contains(string(r.Data), `"status"`) {
				t.Errorf("%s: data came back past the timeout: %s", transport, r.Data)
			}
		}
		// sseOnce sends one operation over SSE and returns its one result.
		sseOnce := func(t *testing.T, token, q string) ([]byte, time.Duration) {
			t.Helper()
			start := time.Now()
			sse := apptest.DialSSE(t, s.URL, token, q, vars)
			defer sse.Close()
			ev, err := sse.TryRead(limit + 10*time.Second)
			took := time.Since(start)
			if err != nil || ev.Event != "next" {
				t.Fatalf("sse: want a next event, got %q %s (%v)", ev.Event, ev.Data, err)
			}
			if end, err := sse.TryRead(5 * time.Second); err != nil || end.Event != "complete" {
				t.Errorf("sse: want complete after the result, got %q (%v)", end.Event, err)
			}
			return ev.Data, took
		}
		// wsOnce sends one operation over graphql-transport-ws and returns its result.
		wsOnce := func(t *testing.T, token, q string) ([]byte, time.Duration) {
			t.Helper()
			ws := apptest.DialWS(t, s.URL, map[string]any{"Authorization": "Bearer " + token})
			start := time.Now()
			ws.Subscribe("1", q, vars)
			m := ws.Read(limit + 10*time.Second)
			took := time.Since(start)
			if m.Type != "next" {
				t.Fatalf("ws: want next, got %s %s", m.Type, m.Payload)
			}
			if end := ws.Read(5 * time.Second); end.Type != "complete" {
				t.Errorf("ws: want complete after the result, got %s %s", end.Type, end.Payload)
			}
			return m.Payload, took
		}
		wantUnchanged := func(t *testing.T) {
			t.Helper()
			if c := dbtest.MustGetCase(t, d, caseID); c.Version != 1 || c.EventCount != 1 {
				t.Errorf("a timed-out mutation changed the case: version %d, %d events; want 1 and 1", c.Version, c.EventCount)
			}
		}

		t.Run("POST query", func(t *testing.T) {
			start := time.Now()
			r, err := apptest.Post(context.Background(), s.URL, fx.CustomerToken, query, vars)
			if err != nil {
				t.Fatal(err)
			}
			wantTimedOut(t, "POST", time.Since(start), r.Raw)
		})
		t.Run("GET query", func(t *testing.T) {
			v, _ := json.Marshal(vars)
			start := time.Now()
			_, body, err := apptest.Get(context.Background(), s.URL+"?query="+url.QueryEscape(query)+"&variables="+url.QueryEscape(string(v)),
				map[string]string{"Authorization": "Bearer " + fx.CustomerToken, "Accept": "application/json"})
			if err != nil {
				t.Fatal(err)
			}
			wantTimedOut(t, "GET", time.Since(start), []byte(body))
		})
		t.Run("SSE query", func(t *testing.T) {
			raw, took := sseOnce(t, fx.CustomerToken, query)
			wantTimedOut(t, "SSE", took, raw)
		})
		t.Run("WebSocket query", func(t *testing.T) {
			raw, took := wsOnce(t, fx.CustomerToken, query)
			wantTimedOut(t, "graphql-transport-ws", took, raw)
		})
		t.Run("legacy graphql-ws query", func(t *testing.T) {
			w := dialLegacy(t, s.URL, fx.CustomerToken)
			start := time.Now()
			w.start("1", query, vars)
			m := w.read(limit + 10*time.Second)
			took := time.Since(start)
			if m.Type != "data" {
				t.Fatalf("graphql-ws: want data, got %s %s", m.Type, m.Payload)
			}
			wantTimedOut(t, "graphql-ws", took, m.Payload)
		})
		t.Run("SSE mutation", func(t *testing.T) {
			raw, took := sseOnce(t, fx.MerchantToken, mutation)
			wantTimedOut(t, "SSE", took, raw)
			wantUnchanged(t)
		})
		t.Run("WebSocket mutation", func(t *testing.T) {
			raw, took := wsOnce(t, fx.MerchantToken, mutation)
			wantTimedOut(t, "graphql-transport-ws", took, raw)
			wantUnchanged(t)
		})
		if hook.stalled.Load() == 0 {
			t.Fatal("no statement was held: the test proves nothing")
		}
		remove()
		removed = true

		t.Run("subscriptions are not cut off", func(t *testing.T) {
			sse := apptest.DialSSE(t, s.URL, fx.CustomerToken, eventSub, vars)
			ws := apptest.DialWS(t, s.URL, map[string]any{"Authorization": "Bearer " + fx.CustomerToken})
			msgs, _ := apptest.Pump(ws)
			ws.Subscribe("sub", eventSub, vars)
			eventually(t, 10*time.Second, func() bool {
				return metricValue(t, s, "rc_subscriptions", map[string]string{"field": "resolutionEventAdded"}) >= 2
			}, "both subscriptions are active")
			time.Sleep(2 * time.Second) // twice REQUEST_TIMEOUT
			var out struct {
				RespondToResolution struct{ UserErrors []struct{ Code string } }
			}
			s.MustData(t, fx.MerchantToken, mutation, vars, &out)
			if len(out.RespondToResolution.UserErrors) > 0 {
				t.Fatalf("respondToResolution: %+v", out.RespondToResolution.UserErrors)
			}
			ev, err := sse.TryRead(10 * time.Second)
			if err != nil || ev.Event != "next" || !strings.Contains(string(ev.Data), `"RESPONDED"`) || strings.Contains(string(ev.Data), `"errors"`) {
				t.Errorf("sse subscription 2 s after it started (REQUEST_TIMEOUT=1s): got %q %s (%v), want the event", ev.Event, ev.Data, err)
			}
			select {
			case m := <-msgs:
				if m.Type != "next" || !strings.Contains(string(m.Payload), `"RESPONDED"`) || strings.Contains(string(m.Payload), `"errors"`) {
					t.Errorf("ws subscription 2 s after it started (REQUEST_TIMEOUT=1s): got %s %s, want the event", m.Type, m.Payload)
				}
			case <-time.After(10 * time.Second):
				t.Error("ws subscription: no event")
			}
		})
	})
}
