package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// A mutation whose selection holds a connection argument its field would refuse
// (first: 101, a malformed cursor...) is refused whole, before it runs, with the
// INVALID_ARGUMENT the field gives, its path and extensions.field: it used to commit
// and then answer the payload as null with the error, and a client retrying without
// an idempotency key acted twice.

const respondWithEvents = `mutation($id: ID!) { respondToResolution(input: {resolutionId: $id, message: "hello"}) {
  resolution { status events(%s) { totalCount } } userErrors { code } } }`

// TestNestedArgumentsRefusedBeforeMutation runs the mutations over POST, SSE and
// graphql-transport-ws on both engines and checks that each case is unchanged.
func TestNestedArgumentsRefusedBeforeMutation(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d, apptest.Options{Env: map[string]string{"MUTATION_RATE_LIMIT": "0"}})
		cast := dbtest.MustCast(t, d)
		open := func(t *testing.T) string {
			return dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now()).Case.ID
		}
		eventsPath := []any{"respondToResolution", "resolution", "events"}
		bad := []struct {
			name  string
			query string
			vars  map[string]any
			path  []any
			field string
		}{
			{"first: 101", fmt.Sprintf(respondWithEvents, "first: 101"), nil, eventsPath, "first"},
			{"first from a variable",
				`mutation($id: ID!, $n: Int) { respondToResolution(input: {resolutionId: $id, message: "hello"}) {
				  resolution { status events(first: $n) { totalCount } } userErrors { code } } }`,
				map[string]any{"n": 101}, eventsPath, "first"},
			{"last: -1 from a variable",
				`mutation($id: ID!, $n: Int) { respondToResolution(input: {resolutionId: $id, message: "hello"}) {
				  resolution { status events(last: $n) { totalCount } } userErrors { code } } }`,
				map[string]any{"n": -1}, eventsPath, "last"},
			{"first and last", fmt.Sprintf(respondWithEvents, "first: 2, last: 2"), nil, eventsPath, "first"},
			{"malformed after cursor", fmt.Sprintf(respondWithEvents, `first: 5, after: "garbage"`), nil, eventsPath, "cursor"},
			{"a resolutions cursor as the events cursor",
				fmt.Sprintf(respondWithEvents, `first: 5, after: "`+rdCursorOf("r1|created_at|1700000000000|reso_01m98p636ar2x3qj0z01y6df4s")+`"`),
				nil, eventsPath, "cursor"},
			{"malformed before cursor from a variable, under an alias in a fragment",
				`mutation($id: ID!, $c: String) { r: respondToResolution(input: {resolutionId: $id, message: "hello"}) { ...P userErrors { code } } }
				 fragment P on ResolutionPayload { resolution { ... on Resolution { timeline: events(last: 2, before: $c) { totalCount } } } }`,
				map[string]any{"c": rdCursorOf("e1|x|0")}, []any{"r", "resolution", "timeline"}, "cursor"},
		}
		for _, b := range bad {
			t.Run(b.name, func(t *testing.T) {
				id := open(t)
				before := dbtest.MustGetCase(t, d, id)
				vars := map[string]any{"id": id}
				for k, v := range b.vars {
					vars[k] = v
				}
				r := s.Do(t, cast.CompanyToken, b.query, vars)
				wantRefused(t, "POST", r.Raw, b.path, b.field)
				wantUnchanged(t, d, before)
			})
		}

		t.Run("over SSE", func(t *testing.T) {
			id := open(t)
			before := dbtest.MustGetCase(t, d, id)
			sse := apptest.DialSSE(t, s.URL, cast.CompanyToken, fmt.Sprintf(respondWithEvents, "first: 101"), map[string]any{"id": id})
			ev, err := sse.TryRead(10 * time.Second)
			if err != nil || ev.Event != "next" {
				t.Fatalf("sse: want the refusal as a next event, got %q %s (%v)", ev.Event, ev.Data, err)
			}
			wantRefused(t, "SSE", ev.Data, eventsPath, "first")
			wantUnchanged(t, d, before)
		})
		t.Run("over WebSocket", func(t *testing.T) {
			id := open(t)
			before := dbtest.MustGetCase(t, d, id)
			ws := apptest.DialWS(t, s.URL, map[string]any{"Authorization": "Bearer " + cast.CompanyToken})
			ws.Subscribe("1", `mutation($id: ID!, $n: Int) { respondToResolution(input: {resolutionId: $id, message: "hello"}) {
			  resolution { status events(first: $n) { totalCount } } userErrors { code } } }`, map[string]any{"id": id, "n": 101})
			m := ws.Read(10 * time.Second)
			if m.Type != "error" {
				t.Fatalf("ws: want the refusal as an error message, got %s %s", m.Type, m.Payload)
			}
			wantRefused(t, "graphql-transport-ws", []byte(`{"errors":`+string(m.Payload)+`}`), eventsPath, "first")
			wantUnchanged(t, d, before)
		})
		t.Run("a webhook endpoint's deliveries", func(t *testing.T) {
			r := s.Do(t, cast.CompanyToken, `mutation { createWebhookEndpoint(input: {url: "http://127.0.0.1:9/hook"}) {
			  endpoint { id deliveries(first: 101) { nodes { id } } } secret userErrors { code } } }`, nil)
			wantRefused(t, "POST", r.Raw, []any{"createWebhookEndpoint", "endpoint", "deliveries"}, "first")
			var out struct {
				WebhookEndpoints struct{ Nodes []struct{ ID string } }
			}
			s.MustData(t, cast.CompanyToken, `{ webhookEndpoints { nodes { id } } }`, nil, &out)
			if n := len(out.WebhookEndpoints.Nodes); n != 0 {
				t.Errorf("the refused createWebhookEndpoint created %d endpoints", n)
			}
		})
		// An event cursor names its case; on an action's payload that case is known from
		// the input, so another case's cursor is refused before the change too.
		t.Run("an event cursor of another case", func(t *testing.T) {
			id, other := open(t), open(t)
			before := dbtest.MustGetCase(t, d, id)
			q := strings.Replace(fmt.Sprintf(respondWithEvents, `first: 5, after: $c`), "mutation($id: ID!)", "mutation($id: ID!, $c: String)", 1)
			r := s.Do(t, cast.CompanyToken, q, map[string]any{"id": id, "c": rdCursorOf("e1|" + other + "|1")})
			wantRefused(t, "POST", r.Raw, eventsPath, "cursor")
			wantUnchanged(t, d, before)
		})
		t.Run("an event cursor of another case, in a fragment two actions share", func(t *testing.T) {
			a, b := open(t), open(t)
			beforeA, beforeB := dbtest.MustGetCase(t, d, a), dbtest.MustGetCase(t, d, b)
			r := s.Do(t, cast.CompanyToken, `mutation($a: ID!, $b: ID!, $c: String) {
			  a: respondToResolution(input: {resolutionId: $a, message: "one"}) { ...P }
			  b: respondToResolution(input: {resolutionId: $b, message: "two"}) { ...P } }
			  fragment P on ResolutionPayload { resolution { events(first: 5, after: $c) { totalCount } } userErrors { code } }`,
				map[string]any{"a": a, "b": b, "c": rdCursorOf("e1|" + a + "|1")})
			wantRefused(t, "POST", r.Raw, []any{"b", "resolution", "events"}, "cursor")
			wantUnchanged(t, d, beforeA)
			wantUnchanged(t, d, beforeB)
		})
		t.Run("an event cursor on the case openResolution opens", func(t *testing.T) {
			pay := cast.MustPayment(t, d)
			r := s.Do(t, cast.CustomerToken, `mutation($p: ID!, $c: String) {
			  openResolution(input: {paymentId: $p, issue: ITEM_NOT_RECEIVED, message: "Where is it?"}) {
			    resolution { events(first: 5, after: $c) { totalCount } } userErrors { code } } }`,
				map[string]any{"p": pay.ID, "c": rdCursorOf("e1|" + open(t) + "|1")})
			wantRefused(t, "POST", r.Raw, []any{"openResolution", "resolution", "events"}, "cursor")
			var n []int
			if _, err := d.Raw(context.Background(), &n, "SELECT count(*) FROM resolutions WHERE payment_id = ?", pay.ID); err != nil || n[0] != 0 {
				t.Errorf("the refused openResolution opened %v cases (%v)", n, err)
			}
		})
		t.Run("an event cursor of the action's case runs", func(t *testing.T) {
			id := open(t)
			q := strings.Replace(fmt.Sprintf(respondWithEvents, `first: 5, after: $c`), "mutation($id: ID!)", "mutation($id: ID!, $c: String)", 1)
			r := s.Do(t, cast.CompanyToken, q, map[string]any{"id": id, "c": rdCursorOf("e1|" + id + "|1")})
			if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"events":{"totalCount":2}`) {
				t.Fatalf("want the mutation done with its events, got %s", r.Raw)
			}
		})
		t.Run("a query is refused the same way", func(t *testing.T) {
			id := open(t)
			r := s.Do(t, cast.CompanyToken, `query($id: ID!, $n: Int) { resolution(id: $id) { id events(first: $n) { totalCount } } }`,
				map[string]any{"id": id, "n": 101})
			wantRefused(t, "POST", r.Raw, []any{"resolution", "events"}, "first")
		})

		// What the fields accept still runs, and so does a field that is not selected.
		for _, ok := range []struct {
			name, args string
			vars       map[string]any
		}{
			{"first: 100", "first: 100", nil},
			{"a skipped field's arguments", "first: 101) @skip(if: true", nil},
			{"an excluded field's arguments from a variable", "first: $n) @include(if: $show", map[string]any{"n": 101, "show": false}},
		} {
			t.Run(ok.name, func(t *testing.T) {
				id := open(t)
				q := fmt.Sprintf(respondWithEvents, ok.args)
				vars := map[string]any{"id": id}
				if ok.vars != nil {
					q = strings.Replace(q, "mutation($id: ID!)", "mutation($id: ID!, $n: Int, $show: Boolean!)", 1)
					for k, v := range ok.vars {
						vars[k] = v
					}
				}
				r := s.Do(t, cast.CompanyToken, q, vars)
				if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"userErrors":[]`) {
					t.Fatalf("want the mutation done, got %s", r.Raw)
				}
				if c := dbtest.MustGetCase(t, d, id); c.Version != 2 {
					t.Errorf("version %d after the mutation, want 2", c.Version)
				}
			})
		}
	})
}

// wantRefused checks a request error: no data, one INVALID_ARGUMENT error with the
// field's path and extensions.field.
func wantRefused(t *testing.T, transport string, raw []byte, path []any, field string) {
	t.Helper()
	var r apptest.Response
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%s: not a GraphQL response (%v): %s", transport, err, raw)
	}
	if r.HasData() {
		t.Errorf("%s: want the operation refused before it ran (no data), got data %s", transport, r.Data)
	}
	if len(r.Errors) != 1 {
		t.Fatalf("%s: want one error, got %s", transport, raw)
	}
	e := r.Errors[0]
	if e.Code() != "INVALID_ARGUMENT" || fmt.Sprint(e.Path) != fmt.Sprint(path) || e.Extensions["field"] != field {
		t.Errorf("%s: want INVALID_ARGUMENT at %v on %q, got %s", transport, path, field, raw)
	}
}

// wantUnchanged fails unless the case is as it was: version, status and events.
func wantUnchanged(t *testing.T, d *db.DB, before dispute.Case) {
	t.Helper()
	c := dbtest.MustGetCase(t, d, before.ID)
	evs := dbtest.MustEvents(t, d, before.ID)
	if c.Version != before.Version || c.Status != before.Status || c.EventCount != before.EventCount || len(evs) != before.EventCount {
		t.Errorf("the refused mutation changed the case: version %d -> %d, status %s -> %s, events %d -> %d (%d stored)",
			before.Version, c.Version, before.Status, c.Status, before.EventCount, c.EventCount, len(evs))
	}
}
