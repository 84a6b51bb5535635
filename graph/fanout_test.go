package graph_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/graph"
	"resolutioncenter/pubsub"
)

// Live updates against real engines: resuming from a cursor, the LISTEN connection
// dying under load, rolled-back changes, and subscription leaks. Helpers are prefixed
// "fo" to stay out of the way of the package's other tests.

const (
	foEventSub = `subscription($id: ID!, $after: String) { resolutionEventAdded(resolutionId: $id, after: $after) {
		cursor node { id position action viewableByCustomer viewableByMerchant createdAt } } }`
	foUpdateSub   = `subscription($f: ResolutionUpdatesFilter) { resolutionUpdated(filter: $f) { id version status } }`
	foEventsQuery = `query($id: ID!, $after: String) { resolution(id: $id) { version
		events(first: 100, after: $after) { edges { cursor node { position } } pageInfo { hasNextPage endCursor } } } }`
)

var (
	foCust  = dispute.ActorCustomer
	foMerch = dispute.ActorMerchant
	foPlat  = dispute.ActorPlatform
)

// foStep is the i-th action of a script that is valid forever from a freshly opened
// case and mixes events hidden from one side: platform info requests and their replies.
func foStep(i int) (dispute.Actor, string) {
	type st struct {
		role dispute.Actor
		op   string
	}
	prelude := []st{{foCust, "respondToResolution"}, {foMerch, "respondToResolution"}, {foCust, "respondToResolution"},
		{foPlat, "requestMerchantInfo"}, {foMerch, "respondToResolution"}} // ends under platform review
	cycle := []st{{foPlat, "requestBuyerInfo"}, {foCust, "respondToResolution"}, {foMerch, "respondToResolution"},
		{foPlat, "requestMerchantInfo"}, {foMerch, "respondToResolution"}, {foCust, "respondToResolution"}}
	s := cycle[0]
	if i < len(prelude) {
		s = prelude[i]
	} else {
		s = cycle[(i-len(prelude))%len(cycle)]
	}
	return s.role, s.op
}

func foMutation(op string) string {
	return `mutation($id: ID!, $m: String!) { ` + op + `(input: {resolutionId: $id, message: $m}) {
		event { position } userErrors { code message } } }`
}

// foCase is one open case with a token per role and a script position.
type foCase struct {
	s      *apptest.Server
	cast   *dbtest.Cast
	caseID string
	tok    map[dispute.Actor]string
	mu     sync.Mutex
	next   int // the next script step
}

func foNewCase(t *testing.T, s *apptest.Server, d *db.DB) *foCase {
	t.Helper()
	c := dbtest.MustCast(t, d)
	opened := dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
	return &foCase{s: s, cast: c, caseID: opened.Case.ID,
		tok: map[dispute.Actor]string{foCust: c.CustomerToken, foMerch: c.CompanyToken, foPlat: apptest.PlatformToken}}
}

// act runs the next n script steps through the API; safe from any goroutine.
func (f *foCase) act(n int) error {
	for range n {
		f.mu.Lock()
		i := f.next
		f.next++
		f.mu.Unlock()
		role, op := foStep(i)
		r, err := apptest.Post(context.Background(), f.s.URL, f.tok[role], foMutation(op),
			map[string]any{"id": f.caseID, "m": fmt.Sprintf("step %d", i)})
		if err != nil {
			return err
		}
		if len(r.Errors) > 0 {
			return fmt.Errorf("step %d (%s %s): %+v", i, role, op, r.Errors)
		}
		if !strings.Contains(string(r.Data), `"userErrors":[]`) {
			return fmt.Errorf("step %d (%s %s) refused: %s", i, role, op, r.Data)
		}
	}
	return nil
}

func (f *foCase) mustAct(t *testing.T, n int) {
	t.Helper()
	if err := f.act(n); err != nil {
		t.Fatal(err)
	}
}

// foVisible returns the positions after `after` of a case's stored timeline that role
// may see.
func foVisible(t *testing.T, d *db.DB, caseID string, role dispute.Actor, after int) []int {
	t.Helper()
	var out []int
	for _, e := range dbtest.MustEvents(t, d, caseID) {
		if e.Position > after && e.VisibleTo(role) {
			out = append(out, e.Position)
		}
	}
	return out
}

// foEdge is one resolutionEventAdded payload.
type foEdge struct {
	Cursor string
	Node   struct {
		ID                 string
		Position           int
		Action             string
		ViewableByCustomer bool
		ViewableByMerchant bool
		CreatedAt          time.Time
	}
}

// foErrors returns the errors of an "error" message (a list) or of a "next" payload
// ({"errors": [...]}).
func foErrors(m apptest.WSMessage) []apptest.Error {
	var list []apptest.Error
	if json.Unmarshal(m.Payload, &list) == nil {
		return list
	}
	var resp struct{ Errors []apptest.Error }
	_ = json.Unmarshal(m.Payload, &resp)
	return resp.Errors
}

// foRead reads the next n events of subscription id from a pumped connection,
// failing on anything else.
func foRead(t *testing.T, msgs <-chan apptest.WSMessage, id string, n int, timeout time.Duration) []foEdge {
	t.Helper()
	var out []foEdge
	deadline := time.After(timeout)
	for len(out) < n {
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("connection ended after %d of %d events", len(out), n)
			}
			if m.ID != id || m.Type != "next" {
				t.Fatalf("after %d of %d events: unexpected %s %s %s", len(out), n, m.ID, m.Type, m.Payload)
			}
			var p struct {
				Data struct{ ResolutionEventAdded *foEdge }
			}
			if err := json.Unmarshal(m.Payload, &p); err != nil || p.Data.ResolutionEventAdded == nil {
				t.Fatalf("bad next payload %s: %v", m.Payload, err)
			}
			out = append(out, *p.Data.ResolutionEventAdded)
		case <-deadline:
			t.Fatalf("timed out after %d of %d events: %v", len(out), n, foPositions(out))
		}
	}
	return out
}

// foQuiet fails if a message arrives within d.
func foQuiet(t *testing.T, msgs <-chan apptest.WSMessage, d time.Duration, who string) {
	t.Helper()
	select {
	case m, ok := <-msgs:
		if ok {
			t.Errorf("%s: unexpected message %s %s %s", who, m.ID, m.Type, m.Payload)
		}
	case <-time.After(d):
	}
}

func foPositions(es []foEdge) []int {
	out := make([]int, len(es))
	for i, e := range es {
		out[i] = e.Node.Position
	}
	return out
}

// foWaitStats waits until the hub counts exactly the given subscribers.
func foWaitStats(t *testing.T, h *pubsub.Hub, events, updates int) {
	t.Helper()
	want := pubsub.Stats{EventSubscribers: events, UpdateSubscribers: updates}
	deadline := time.Now().Add(10 * time.Second)
	for h.Stats() != want {
		if time.Now().After(deadline) {
			t.Fatalf("hub stats %+v, want %+v", h.Stats(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func foDial(t *testing.T, s *apptest.Server, token string) (*apptest.WS, <-chan apptest.WSMessage) {
	t.Helper()
	ws := apptest.DialWS(t, s.URL, map[string]any{"Authorization": "Bearer " + token})
	msgs, _ := apptest.Pump(ws)
	return ws, msgs
}

// foTimeline returns a case's timeline as role sees it through the query API, oldest
// first, with cursors.
func foTimeline(t *testing.T, s *apptest.Server, token, caseID string) []foEdge {
	t.Helper()
	var out []foEdge
	var after any
	for {
		var data struct {
			Resolution struct {
				Events struct {
					Edges    []foEdge
					PageInfo struct {
						HasNextPage bool
						EndCursor   string
					}
				}
			}
		}
		s.MustData(t, token, foEventsQuery, map[string]any{"id": caseID, "after": after}, &data)
		out = append(out, data.Resolution.Events.Edges...)
		if !data.Resolution.Events.PageInfo.HasNextPage {
			break
		}
		after = data.Resolution.Events.PageInfo.EndCursor
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node.Position < out[j].Node.Position })
	return out
}

// TestResumeFromCursor: a subscriber that disconnects and resubscribes with the
// cursor of the last event it received gets exactly what it missed (what it may
// see), then live events, with no duplicate across the seam, even while actions go
// on during the resubscription. A cursor from Resolution.events resumes the same way;
// a malformed or foreign cursor is refused.
func TestResumeFromCursor(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d)
		f := foNewCase(t, s, d)
		other := foNewCase(t, s, d)
		other.mustAct(t, 4)

		ws, msgs := foDial(t, s, f.tok[foCust])
		ws.Subscribe("1", foEventSub, map[string]any{"id": f.caseID})
		foWaitStats(t, s.Hub, 1, 0)
		f.mustAct(t, 8)
		first := foRead(t, msgs, "1", 3, 10*time.Second)
		if want := foVisible(t, d, f.caseID, foCust, 1)[:3]; !slices.Equal(foPositions(first), want) {
			t.Fatalf("live customer got %v, want %v", foPositions(first), want)
		}
		last := first[len(first)-1]
		ws.Conn.Close(websocket.StatusNormalClosure, "") // events after `last` may be in flight: lost with the connection
		foWaitStats(t, s.Hub, 0, 0)
		f.mustAct(t, 6)

		ws2, msgs2 := foDial(t, s, f.tok[foCust])
		ws2.Subscribe("1", foEventSub, map[string]any{"id": f.caseID, "after": last.Cursor})
		errc := make(chan error, 1)
		go func() { errc <- f.act(12) }() // racing the catch-up read
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		want := foVisible(t, d, f.caseID, foCust, last.Node.Position)
		got := foRead(t, msgs2, "1", len(want), 15*time.Second)
		if !slices.Equal(foPositions(got), want) {
			t.Fatalf("resumed customer got %v, want %v", foPositions(got), want)
		}
		foQuiet(t, msgs2, 300*time.Millisecond, "resumed customer")
		// The stream's cursors are the query API's.
		api := map[int]string{}
		for _, e := range foTimeline(t, s, f.tok[foCust], f.caseID) {
			api[e.Node.Position] = e.Cursor
		}
		for _, e := range got {
			if api[e.Node.Position] != e.Cursor {
				t.Errorf("position %d: stream cursor %q, query cursor %q", e.Node.Position, e.Cursor, api[e.Node.Position])
			}
		}

		// Resume with a cursor taken from Resolution.events, as the merchant (who does
		// not see everything), over WebSocket; and as the platform over SSE.
		mt := foTimeline(t, s, f.tok[foMerch], f.caseID)
		from := mt[2]
		ws3, msgs3 := foDial(t, s, f.tok[foMerch])
		ws3.Subscribe("m", foEventSub, map[string]any{"id": f.caseID, "after": from.Cursor})
		pt := foTimeline(t, s, f.tok[foPlat], f.caseID)
		sse := apptest.DialSSE(t, s.URL, f.tok[foPlat], foEventSub, map[string]any{"id": f.caseID, "after": pt[4].Cursor})
		f.mustAct(t, 6)
		want = foVisible(t, d, f.caseID, foMerch, from.Node.Position)
		if got := foRead(t, msgs3, "m", len(want), 15*time.Second); !slices.Equal(foPositions(got), want) {
			t.Errorf("merchant resuming from Resolution.events got %v, want %v", foPositions(got), want)
		}
		foQuiet(t, msgs3, 200*time.Millisecond, "merchant")
		want = foVisible(t, d, f.caseID, foPlat, pt[4].Node.Position)
		var sseGot []int
		for len(sseGot) < len(want) {
			ev, err := sse.TryRead(10 * time.Second)
			if err != nil {
				t.Fatalf("sse after %v: %v", sseGot, err)
			}
			var p struct {
				Data struct{ ResolutionEventAdded *foEdge }
			}
			if ev.Event != "next" || json.Unmarshal(ev.Data, &p) != nil || p.Data.ResolutionEventAdded == nil {
				t.Fatalf("sse after %v: unexpected %s %s", sseGot, ev.Event, ev.Data)
			}
			sseGot = append(sseGot, p.Data.ResolutionEventAdded.Node.Position)
		}
		if !slices.Equal(sseGot, want) {
			t.Errorf("platform over SSE resuming got %v, want %v", sseGot, want)
		}

		// Refused cursors.
		otherCursor := foTimeline(t, s, apptest.PlatformToken, other.caseID)[1].Cursor
		var list struct {
			Resolutions struct{ Edges []struct{ Cursor string } }
		}
		s.MustData(t, apptest.PlatformToken, `{ resolutions(first: 1) { edges { cursor } } }`, nil, &list)
		enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		bad := map[string]string{
			"garbage":                 "not a cursor!",
			"another case's cursor":   otherCursor,
			"a resolutions cursor":    list.Resolutions.Edges[0].Cursor,
			"position zero":           enc("e1|" + f.caseID + "|0"),
			"negative position":       enc("e1|" + f.caseID + "|-3"),
			"unknown version":         enc("e9|" + f.caseID + "|2"),
			"too long":                strings.Repeat("A", 400),
			"empty":                   "",
			"not a number":            enc("e1|" + f.caseID + "|two"),
			"extra part":              enc("e1|" + f.caseID + "|2|x"),
			"standard base64 padding": base64.StdEncoding.EncodeToString([]byte("e1|"+f.caseID+"|2")) + "==",
		}
		ws4, msgs4 := foDial(t, s, f.tok[foCust])
		n := 0
		for name, cursor := range bad {
			n++
			id := fmt.Sprintf("bad%d", n)
			ws4.Subscribe(id, foEventSub, map[string]any{"id": f.caseID, "after": cursor})
			select {
			case m := <-msgs4:
				errs := foErrors(m)
				if m.ID != id || len(errs) == 0 || errs[0].Code() != string(dispute.CodeInvalidArgument) {
					t.Errorf("%s cursor: got %s %s %s, want an INVALID_ARGUMENT error", name, m.ID, m.Type, m.Payload)
				}
				if m.Type == "next" { // errors in a result: the stream completes next
					if c := <-msgs4; c.Type != "complete" {
						t.Errorf("%s cursor: after the error got %s %s", name, c.Type, c.Payload)
					}
				}
			case <-time.After(5 * time.Second):
				t.Errorf("%s cursor: no answer", name)
			}
		}
		if st := s.Hub.Stats(); st.EventSubscribers != 3 { // the resumed customer, the merchant, the platform over SSE
			t.Errorf("refused subscriptions were registered: %+v", st)
		}
	})
}

// TestListenKilledLosesNothing kills the server's LISTEN connection repeatedly while
// 100 actions commit: every subscriber still gets every event once and in order, and
// the listener reconnects.
func TestListenKilledLosesNothing(t *testing.T) {
	d := dbtest.MustPostgres(t)
	// 50 replies per party on one case, faster than the default write budgets allow.
	s := apptest.New(t, d, apptest.Options{Env: map[string]string{"MESSAGES_PER_HOUR": "1000", "MUTATION_RATE_LIMIT": "1000"}})
	f := foNewCase(t, s, d)
	type sub struct {
		role dispute.Actor
		msgs <-chan apptest.WSMessage
	}
	var subs []sub
	for _, role := range []dispute.Actor{foCust, foMerch, foPlat} {
		ws, msgs := foDial(t, s, f.tok[role])
		ws.Subscribe("e", foEventSub, map[string]any{"id": f.caseID})
		subs = append(subs, sub{role, msgs})
	}
	uws, umsgs := foDial(t, s, apptest.PlatformToken)
	uws.Subscribe("u", foUpdateSub, map[string]any{"f": map[string]any{"resolutionIds": []string{f.caseID}}})
	foWaitStats(t, s.Hub, 3, 1)

	const actions = 100
	errc := make(chan error, 1)
	var acted atomic.Int32
	go func() {
		for i := range actions {
			// Alternate customer and merchant replies: always allowed in the two
			// response-needed statuses, and visible to everyone.
			tok := f.tok[foCust]
			if i%2 == 1 {
				tok = f.tok[foMerch]
			}
			r, err := apptest.Post(context.Background(), s.URL, tok, foMutation("respondToResolution"),
				map[string]any{"id": f.caseID, "m": fmt.Sprintf("reply %d", i)})
			if err == nil && (len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"userErrors":[]`)) {
				err = fmt.Errorf("reply %d: %s %+v", i, r.Data, r.Errors)
			}
			if err != nil {
				errc <- err
				return
			}
			acted.Add(1)
			time.Sleep(15 * time.Millisecond)
		}
		errc <- nil
	}()

	kills := 0
	for kills < 4 && acted.Load() < actions-10 {
		time.Sleep(150 * time.Millisecond)
		pid := foListenerPID(t, d)
		before := s.Listener.Reconnects.Load()
		foKill(t, d, pid)
		kills++
		deadline := time.Now().Add(15 * time.Second)
		for s.Listener.Reconnects.Load() == before {
			if time.Now().After(deadline) {
				t.Fatalf("listener did not reconnect after kill %d", kills)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if kills < 2 {
		t.Fatalf("only %d kills happened while actions ran", kills)
	}
	if got := s.Listener.Reconnects.Load(); got < int64(kills) {
		t.Errorf("Reconnects = %d after %d kills", got, kills)
	}
	want := foVisible(t, d, f.caseID, foPlat, 1)
	if len(want) != actions {
		t.Fatalf("timeline has %d new events, want %d", len(want), actions)
	}
	for _, sb := range subs {
		got := foRead(t, sb.msgs, "e", actions, 30*time.Second)
		if !slices.Equal(foPositions(got), want) {
			t.Errorf("%s got %v,\nwant %v", sb.role, foPositions(got), want)
		}
		foQuiet(t, sb.msgs, 100*time.Millisecond, string(sb.role))
	}
	final := dbtest.MustGetCase(t, d, f.caseID).Version
	lastVersion := 0
	deadline := time.After(15 * time.Second)
	for lastVersion < final {
		select {
		case m := <-umsgs:
			var p struct {
				Data struct{ ResolutionUpdated struct{ Version int } }
			}
			if m.Type != "next" || json.Unmarshal(m.Payload, &p) != nil {
				t.Fatalf("update subscriber: %s %s", m.Type, m.Payload)
			}
			if v := p.Data.ResolutionUpdated.Version; v <= lastVersion {
				t.Errorf("update subscriber went from version %d to %d", lastVersion, v)
			} else {
				lastVersion = v
			}
		case <-deadline:
			t.Fatalf("update subscriber stuck at version %d, want %d", lastVersion, final)
		}
	}
	t.Logf("%d kills, %d reconnects", kills, s.Listener.Reconnects.Load())
}

// foListenerPID finds the backend of the server's LISTEN connection in the test's own
// database: the only session whose last statement was LISTEN.
func foListenerPID(t *testing.T, d *db.DB) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var pids []int
		if _, err := d.Raw(context.Background(), &pids, `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN %'`); err != nil {
			t.Fatal(err)
		}
		if len(pids) == 1 {
			return pids[0]
		}
		if len(pids) > 1 || time.Now().After(deadline) {
			t.Fatalf("want exactly one LISTEN session, found %v", pids)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// foKill ends a database session.
func foKill(t *testing.T, d *db.DB, pid int) {
	t.Helper()
	var ok bool
	if _, err := d.Raw(context.Background(), &ok, "SELECT pg_terminate_backend(?)", pid); err != nil {
		t.Fatal(err)
	}
}

// TestListenReconnectDelays kills the LISTEN connection five times in a row, each
// time once it is back: it comes back every time, within the backoff's 5 s cap. (The
// listener treats sessions shorter than 30 s as one flapping outage and keeps growing
// the delay; a session longer than that resets it, which is too slow to test here.)
func TestListenReconnectDelays(t *testing.T) {
	d := dbtest.MustPostgres(t)
	s := apptest.New(t, d)
	var delays []time.Duration
	for i := range 5 {
		time.Sleep(200 * time.Millisecond) // the connection stays up a while between kills
		pid := foListenerPID(t, d)
		before := s.Listener.Reconnects.Load()
		start := time.Now()
		foKill(t, d, pid)
		for s.Listener.Reconnects.Load() == before {
			if time.Since(start) > 15*time.Second {
				t.Fatalf("no reconnection after kill %d", i+1)
			}
			time.Sleep(5 * time.Millisecond)
		}
		delays = append(delays, time.Since(start).Round(10*time.Millisecond))
		if !s.Listener.Up() {
			t.Errorf("after reconnection %d the listener says it is down", i+1)
		}
	}
	t.Logf("reconnect delays after each kill: %v", delays)
	for i, d := range delays {
		if d > 6*time.Second {
			t.Errorf("reconnection %d took %v, more than the 5 s backoff cap", i+1, d)
		}
	}
}

// TestRollbackPushesNothing: an action refused by the business rules, and a change
// whose transaction fails after its NOTIFY statement, push nothing to anyone; the
// next real change arrives at the next position.
func TestRollbackPushesNothing(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d)
		f := foNewCase(t, s, d)
		type sub struct {
			who  string
			msgs <-chan apptest.WSMessage
		}
		var subs []sub
		for _, role := range []dispute.Actor{foCust, foMerch, foPlat} {
			ws, msgs := foDial(t, s, f.tok[role])
			ws.Subscribe("e", foEventSub, map[string]any{"id": f.caseID})
			ws.Subscribe("u", foUpdateSub, nil)
			subs = append(subs, sub{string(role), msgs})
		}
		foWaitStats(t, s.Hub, 3, 3)
		before := dbtest.MustGetCase(t, d, f.caseID)

		// Refused by the rules: nothing changes, nothing is pushed.
		for _, r := range []struct{ token, doc string }{
			{f.tok[foCust], `mutation($id: ID!) { acceptResolution(input: {resolutionId: $id}) { userErrors { code } } }`},
			{f.tok[foMerch], `mutation($id: ID!) { appealResolution(input: {resolutionId: $id, message: "no"}) { userErrors { code } } }`},
			{f.tok[foMerch], `mutation($id: ID!) { respondToResolution(input: {resolutionId: $id, message: "late", expectedVersion: 99}) { userErrors { code } } }`},
			{f.tok[foCust], `mutation($id: ID!) { respondToResolution(input: {resolutionId: $id, message: ""}) { userErrors { code } } }`},
		} {
			resp := s.Do(t, r.token, r.doc, map[string]any{"id": f.caseID})
			if len(resp.Errors) == 0 && !strings.Contains(string(resp.Data), `"code"`) {
				t.Fatalf("expected a refusal, got %s", resp.Data)
			}
		}

		// A transaction that fails after announcing: the decision is valid, the row
		// and the event are written and NOTIFY is sent, then storing the idempotent
		// result fails (a time JSON cannot encode), so the whole transaction rolls back.
		far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
		_, err := d.UpdateCase(context.Background(), db.Change{CaseID: f.caseID, Scope: db.Scope{All: true},
			Idem: &db.Idempotency{Principal: "test", Key: "rollback-1", Operation: string(dispute.ActionRespond), RequestHash: "x"}, Now: dbtest.Now(),
			Decide: func(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
				next, ev, eff, err := dispute.DefaultPolicy().Apply(c, foCust, dispute.ActionRespond,
					dispute.Input{Message: "never committed"}, dbtest.Now())
				next.DueDate = &far
				return next, ev, eff, err
			}})
		if err == nil {
			t.Fatal("the change meant to fail after NOTIFY committed")
		}
		t.Logf("failing change: %v", err)
		if after := dbtest.MustGetCase(t, d, f.caseID); after.Version != before.Version || after.EventCount != before.EventCount {
			t.Fatalf("rolled-back change left a trace: version %d -> %d, events %d -> %d",
				before.Version, after.Version, before.EventCount, after.EventCount)
		}

		// Nothing within 500 ms. The one thing a subscriber may get is the case's
		// current, committed state on resolutionUpdated: the hub re-sends cases it has
		// not broadcast yet when it resyncs (the LISTEN connection's first resync can
		// land after these subscriptions registered). Anything newer is a leak.
		updateVersion := func(m apptest.WSMessage) int {
			var p struct {
				Data struct{ ResolutionUpdated struct{ Version int } }
			}
			_ = json.Unmarshal(m.Payload, &p)
			return p.Data.ResolutionUpdated.Version
		}
		var wg sync.WaitGroup
		for _, sb := range subs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				quiet := time.After(500 * time.Millisecond)
				for {
					select {
					case m := <-sb.msgs:
						if m.ID == "u" && m.Type == "next" && updateVersion(m) == before.Version {
							t.Logf("%s: re-sent the current state (version %d)", sb.who, before.Version)
							continue
						}
						t.Errorf("%s: pushed after refused and rolled-back changes: %s %s %s", sb.who, m.ID, m.Type, m.Payload)
					case <-quiet:
						return
					}
				}
			}()
		}
		wg.Wait()

		f.mustAct(t, 1) // a customer reply, visible to all
		for _, sb := range subs {
			var gotEvent, gotUpdate bool
			for !gotEvent || !gotUpdate {
				select {
				case m := <-sb.msgs:
					switch {
					case m.ID == "e" && m.Type == "next":
						var p struct {
							Data struct{ ResolutionEventAdded foEdge }
						}
						_ = json.Unmarshal(m.Payload, &p)
						if pos := p.Data.ResolutionEventAdded.Node.Position; pos != before.EventCount+1 {
							t.Errorf("%s: next event at position %d, want %d", sb.who, pos, before.EventCount+1)
						}
						gotEvent = true
					case m.ID == "u" && m.Type == "next" && updateVersion(m) == before.Version:
						// the current state re-sent by a resync, see above
					case m.ID == "u" && m.Type == "next":
						if v := updateVersion(m); v != before.Version+1 {
							t.Errorf("%s: update at version %d, want %d", sb.who, v, before.Version+1)
						}
						gotUpdate = true
					default:
						t.Fatalf("%s: unexpected %s %s %s", sb.who, m.ID, m.Type, m.Payload)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("%s: the next real change did not arrive (event %v, update %v)", sb.who, gotEvent, gotUpdate)
				}
			}
		}
	})
}

// TestFanoutAcrossServers: two servers (two hubs, two LISTEN connections) on one
// PostgreSQL database; changes made through either reach subscribers of both.
func TestFanoutAcrossServers(t *testing.T) {
	d := dbtest.MustPostgres(t)
	a, b := apptest.New(t, d), apptest.New(t, d)
	f := foNewCase(t, a, d)
	var conns []<-chan apptest.WSMessage
	for _, srv := range []*apptest.Server{a, b} {
		for _, role := range []dispute.Actor{foCust, foMerch, foPlat} {
			ws, msgs := foDial(t, srv, f.tok[role])
			ws.Subscribe(string(role), foEventSub, map[string]any{"id": f.caseID})
			conns = append(conns, msgs)
		}
		foWaitStats(t, srv.Hub, 3, 0)
	}
	for i := range 12 {
		if i%2 == 0 {
			f.s = a
		} else {
			f.s = b
		}
		f.mustAct(t, 1)
	}
	for i, msgs := range conns {
		role := []dispute.Actor{foCust, foMerch, foPlat}[i%3]
		want := foVisible(t, d, f.caseID, role, 1)
		if got := foRead(t, msgs, string(role), len(want), 10*time.Second); !slices.Equal(foPositions(got), want) {
			t.Errorf("server %d, %s: got %v, want %v", i/3, role, foPositions(got), want)
		}
		foQuiet(t, msgs, 100*time.Millisecond, string(role))
	}
}

// TestLeakSubscribeCycles: 2,000 subscribe/complete cycles over a few WebSocket
// connections and 100 connect/subscribe/disconnect cycles leave no goroutine, no hub
// registration and no heap behind.
func TestLeakSubscribeCycles(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d)
	f := foNewCase(t, s, d)
	tokens := []string{f.tok[foCust], f.tok[foMerch], f.tok[foPlat], f.cast.TeamMemberToken}

	settle := func() (int, uint64) {
		apptest.CloseIdleConnections()
		var ms runtime.MemStats
		for range 3 {
			runtime.GC()
			time.Sleep(20 * time.Millisecond)
		}
		runtime.ReadMemStats(&ms)
		return runtime.NumGoroutine(), ms.HeapInuse
	}
	// Warm up every path once (connection, subscription, delivery, unsubscription).
	ws, msgs := foDial(t, s, tokens[0])
	ws.Subscribe("w", foEventSub, map[string]any{"id": f.caseID})
	foWaitStats(t, s.Hub, 1, 0)
	f.mustAct(t, 1)
	foRead(t, msgs, "w", 1, 10*time.Second)
	ws.Conn.Close(websocket.StatusNormalClosure, "")
	foWaitStats(t, s.Hub, 0, 0)
	time.Sleep(100 * time.Millisecond)
	g0, h0 := settle()

	// Watch the hub while cycling, to know the subscriptions really registered.
	var peak atomic.Int64
	stopWatch := make(chan struct{})
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for {
			st := s.Hub.Stats()
			if n := int64(st.EventSubscribers + st.UpdateSubscribers); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stopWatch:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()

	evs := dbtest.MustEvents(t, d, f.caseID)
	endCursor := graph.EventCursor(evs[len(evs)-1])

	const cycles = 2000
	type cycler struct {
		ws   *apptest.WS
		msgs <-chan apptest.WSMessage
	}
	var cyclers []cycler
	var wg sync.WaitGroup
	errs := make(chan error, len(tokens))
	for i, tok := range tokens {
		ws := apptest.DialWS(t, s.URL, map[string]any{"Authorization": "Bearer " + tok})
		msgs, _ := apptest.Pump(ws)
		cyclers = append(cyclers, cycler{ws, msgs})
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			write := func(m apptest.WSMessage) error {
				b, _ := json.Marshal(m)
				return ws.Conn.Write(ctx, websocket.MessageText, b)
			}
			for n := range cycles / len(tokens) {
				id := fmt.Sprintf("%d-%d", i, n)
				payload := map[string]any{"query": foEventSub, "variables": map[string]any{"id": f.caseID}}
				if n%5 == 4 {
					payload = map[string]any{"query": foUpdateSub}
				}
				b, _ := json.Marshal(payload)
				if err := write(apptest.WSMessage{ID: id, Type: "subscribe", Payload: b}); err != nil {
					errs <- err
					return
				}
				if n%3 == 0 { // sometimes let it register before completing
					time.Sleep(500 * time.Microsecond)
				}
				if err := write(apptest.WSMessage{ID: id, Type: "complete"}); err != nil {
					errs <- err
					return
				}
			}
			// A query as a barrier: its answer tells that the server has handled
			// every message before it (they are handled in order), so no cycled
			// operation may send anything any more.
			q, _ := json.Marshal(map[string]any{"query": "{ __typename }"})
			if err := write(apptest.WSMessage{ID: "barrier", Type: "subscribe", Payload: q}); err != nil {
				errs <- err
				return
			}
			// The connection still works: one more subscription, checked below. It
			// resumes from the timeline's end before the action, so it gets the
			// action's event even if it registers after the action commits.
			b, _ := json.Marshal(map[string]any{"query": foEventSub, "variables": map[string]any{"id": f.caseID, "after": endCursor}})
			if err := write(apptest.WSMessage{ID: "final", Type: "subscribe", Payload: b}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// readUntil reads connection i's messages until one with id and type, tolerating
	// the confirmation of a completed operation and skip's type for id.
	readUntil := func(i int, msgs <-chan apptest.WSMessage, id, typ, skip, what string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case m, ok := <-msgs:
				switch {
				case !ok:
					t.Fatalf("connection %d ended", i)
				case m.ID == id && m.Type == typ:
					return
				case m.ID == id && m.Type == skip:
				case m.Type == "complete": // a server may confirm a completed operation
				default:
					t.Fatalf("connection %d: unexpected %s %s %s", i, m.ID, m.Type, m.Payload)
				}
			case <-deadline:
				t.Fatalf("connection %d: %s", i, what)
			}
		}
	}
	for i, c := range cyclers {
		readUntil(i, c.msgs, "barrier", "complete", "next", "no answer to the barrier query")
	}
	foWaitStats(t, s.Hub, len(tokens), 0)
	f.mustAct(t, 1)
	for i, c := range cyclers {
		readUntil(i, c.msgs, "final", "next", "", "the subscription after the cycles got nothing")
	}

	// Full connection cycles, closed cleanly or dropped.
	for i := range 100 {
		ws, _ := foDial(t, s, tokens[i%len(tokens)])
		ws.Subscribe("a", foEventSub, map[string]any{"id": f.caseID})
		ws.Subscribe("b", foEventSub, map[string]any{"id": f.caseID, "after": nil})
		ws.Subscribe("c", foUpdateSub, nil)
		foWaitStats(t, s.Hub, len(tokens)+2, 1)
		if i%2 == 0 {
			ws.Conn.Close(websocket.StatusNormalClosure, "")
		} else {
			ws.Conn.CloseNow()
		}
		foWaitStats(t, s.Hub, len(tokens), 0)
	}
	close(stopWatch)
	<-watchDone
	if peak.Load() <= int64(len(tokens)) {
		t.Errorf("peak hub subscribers during cycles %d: subscriptions never registered", peak.Load())
	}
	for _, c := range cyclers {
		c.ws.Conn.Close(websocket.StatusNormalClosure, "")
	}
	foWaitStats(t, s.Hub, 0, 0)

	const slack = 5
	deadline := time.Now().Add(10 * time.Second)
	var g1 int
	var h1 uint64
	for {
		g1, h1 = settle()
		if g1 <= g0+slack || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("goroutines %d -> %d, heap in use %.1f MB -> %.1f MB, peak subscribers %d",
		g0, g1, float64(h0)/1e6, float64(h1)/1e6, peak.Load())
	if g1 > g0+slack {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d before, %d after 2,100 cycles\n%s", g0, g1, buf[:runtime.Stack(buf, true)])
	}
	if h1 > h0 && h1-h0 > 10<<20 {
		t.Errorf("heap in use grew by %.1f MB", float64(h1-h0)/1e6)
	}
}
