package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/graph"
	"resolutioncenter/graph/wsproto"
)

// Live fan-out marshals once per class of subscribers (graph/shared.go). These tests
// check that sharing changes nothing a subscriber receives, whatever its role, token,
// selection or transport, against an oracle that shares nothing: the query API
// executing the same selection for the same viewer. And that each change is executed
// once per class (rc_fanout_payloads_total). Helpers are prefixed "sh".

// shSelections are the ResolutionEventEdge selections the subscribers use; each
// selects the position, which indexes the oracle.
var shSelections = []struct{ sel, frags string }{
	{sel: `cursor node { id position action reporterType details fromStatus toStatus viewableByCustomer viewableByMerchant createdAt } __typename @skip(if: $d)`},
	{sel: `__typename c: cursor node { ...Ev details @include(if: $d) }`,
		frags: ` fragment Ev on ResolutionEvent { __typename id at: createdAt position action }`},
}

// shEventSub is a subscription document with selection i; every subscriber declares
// $after (only some pass it) and $d.
func shEventSub(i int) string {
	return `subscription Sub($id: ID!, $after: String, $d: Boolean!) { e: resolutionEventAdded(resolutionId: $id, after: $after) { ` +
		shSelections[i].sel + ` } }` + shSelections[i].frags
}

// shEventOracle reads the same selection from the query API.
func shEventOracle(i int) string {
	return `query Oracle($id: ID!, $d: Boolean!) { resolution(id: $id) { events(first: 100) { edges { ` +
		shSelections[i].sel + ` } } } }` + shSelections[i].frags
}

// shSub is one subscriber: who, what, over which transport, and what it received
// (the raw value of data.e of each next message, with the message's operation id).
type shSub struct {
	name      string
	role      dispute.Actor
	token     string
	sel       int
	d         bool
	transport string // ws, legacy, sse
	conn      string // ws/legacy subscribers with the same conn share a connection
	after     bool   // resumes after the last event before it subscribed
	id        string
	got       chan shMsg
}

type shMsg struct {
	id  string
	raw json.RawMessage
	err error
}

// shNormalize compacts JSON and undoes HTML escaping (\u003c...), which transports
// differ in, so that the comparison is of the bytes gqlgen wrote.
func shNormalize(t *testing.T, raw []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("invalid JSON %s: %v", raw, err)
	}
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(b.String())
}

// shDecode extracts data.e from a next payload; errors are a failure.
func shDecode(payload []byte) (json.RawMessage, error) {
	var p struct {
		Data   map[string]json.RawMessage
		Errors []apptest.Error
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, err
	}
	if len(p.Errors) > 0 || p.Data["e"] == nil {
		return nil, fmt.Errorf("unexpected payload %s", payload)
	}
	return p.Data["e"], nil
}

// shStart opens every subscriber's stream. WebSocket subscribers with the same conn
// share a connection and get distinct operation ids.
func shStart(t *testing.T, s *apptest.Server, subs []*shSub, doc func(*shSub) string, vars func(*shSub) map[string]any) {
	t.Helper()
	conns := map[string]*wsClient{}
	routes := map[string]map[string]*shSub{} // conn -> operation id -> subscriber
	for i, sub := range subs {
		sub.id = fmt.Sprintf("op%d", i)
		sub.got = make(chan shMsg, 256)
		if sub.transport == "ws" || sub.transport == "legacy" {
			if conns[sub.conn] == nil {
				protos := []string{wsproto.Subprotocol}
				if sub.transport == "legacy" {
					protos = []string{wsproto.LegacySubprotocol}
				}
				c := dialRaw(t, s.URL, wsOpts{protocols: protos})
				c.init(bearer(sub.token))
				conns[sub.conn], routes[sub.conn] = c, map[string]*shSub{}
			}
			routes[sub.conn][sub.id] = sub
		}
	}
	for name, c := range conns {
		go shRoute(c, routes[name])
	}
	for _, sub := range subs {
		payload := map[string]any{"query": doc(sub), "variables": vars(sub)}
		switch sub.transport {
		case "sse":
			sse := apptest.DialSSE(t, s.URL, sub.token, doc(sub), vars(sub))
			go func() {
				for ev := range sse.Events() {
					if ev.Event != "next" {
						continue // complete
					}
					raw, err := shDecode(ev.Data)
					sub.got <- shMsg{id: sub.id, raw: raw, err: err}
				}
			}()
		case "legacy":
			conns[sub.conn].sendJSON(map[string]any{"id": sub.id, "type": "start", "payload": payload})
		case "ws":
			conns[sub.conn].sendJSON(map[string]any{"id": sub.id, "type": "subscribe", "payload": payload})
		default:
			t.Fatalf("transport %q", sub.transport)
		}
	}
}

// shRoute hands each next (or legacy data) message of a connection to its subscriber,
// and anything else but keep-alives to all of them as an error.
func shRoute(c *wsClient, routes map[string]*shSub) {
	for r := range c.msgs {
		m := r.m
		if r.err == nil && m.Type == "ka" {
			continue
		}
		if sub := routes[m.ID]; r.err == nil && sub != nil && (m.Type == "next" || m.Type == "data") {
			raw, err := shDecode(m.Payload)
			sub.got <- shMsg{id: m.ID, raw: raw, err: err}
			continue
		}
		for _, sub := range routes {
			sub.got <- shMsg{id: m.ID, err: fmt.Errorf("unexpected %s %q %s (%v)", m.Type, m.ID, m.Payload, r.err)}
		}
		if r.err != nil {
			return
		}
	}
}

// shReadN reads n messages of a subscriber.
func shReadN(t *testing.T, sub *shSub, n int) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	deadline := time.After(15 * time.Second)
	for len(out) < n {
		select {
		case m := <-sub.got:
			if m.err != nil {
				t.Fatalf("%s: %v", sub.name, m.err)
			}
			if m.id != sub.id {
				t.Fatalf("%s: message for operation %q, want %q", sub.name, m.id, sub.id)
			}
			out = append(out, m.raw)
		case <-deadline:
			t.Fatalf("%s: %d of %d messages", sub.name, len(out), n)
		}
	}
	return out
}

// shQuiet fails if a subscriber receives anything within d.
func shQuiet(t *testing.T, subs []*shSub, d time.Duration) {
	t.Helper()
	time.Sleep(d)
	for _, sub := range subs {
		select {
		case m := <-sub.got:
			t.Errorf("%s: unexpected message %s %v", sub.name, m.raw, m.err)
		default:
		}
	}
}

// shPayloads reads rc_fanout_payloads_total{field} through /metrics.
func shPayloads(t *testing.T, s *apptest.Server, field string) float64 {
	t.Helper()
	return testCounter(t, &prodServer{URL: s.Base}, "rc_fanout_payloads_total", map[string]string{"field": field})
}

// TestSharedFanoutDifferential: subscribers in every role, with read and manage
// tokens, several selections (aliases, fragments, __typename, @include on a variable)
// and every transport (graphql-transport-ws, two operations on one connection; legacy
// graphql-ws; SSE), one of them resuming from a cursor, receive for each event exactly
// what the query API returns for the same selection and viewer, each with its own
// operation id; and each event is executed once per class of subscribers that may see
// it, however many subscribers the class has.
func TestSharedFanoutDifferential(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d)
		f := foNewCase(t, s, d)
		f.mustAct(t, 1)
		plat, platRead := apptest.PlatformToken, f.cast.PlatformReadToken
		subs := []*shSub{
			{name: "platform ws a", role: foPlat, token: plat, transport: "ws", conn: "p"},
			{name: "platform ws b (same connection)", role: foPlat, token: plat, transport: "ws", conn: "p"},
			{name: "platform ws resuming", role: foPlat, token: plat, transport: "ws", conn: "p2", after: true},
			{name: "platform sse", role: foPlat, token: plat, transport: "sse"},
			{name: "platform legacy", role: foPlat, token: plat, transport: "legacy", conn: "pl"},
			{name: "platform read-only ws", role: foPlat, token: platRead, transport: "ws", conn: "pr"},
			{name: "customer ws", role: foCust, token: f.tok[foCust], transport: "ws", conn: "c"},
			{name: "customer sse", role: foCust, token: f.tok[foCust], transport: "sse"},
			{name: "customer read-only legacy", role: foCust, token: f.cast.CustomerReadToken, transport: "legacy", conn: "cr"},
			{name: "merchant ws", role: foMerch, token: f.tok[foMerch], transport: "ws", conn: "m"},
			{name: "team member legacy", role: foMerch, token: f.cast.TeamMemberToken, transport: "legacy", conn: "tm"},
			{name: "platform ws sel2", role: foPlat, token: plat, sel: 1, d: true, transport: "ws", conn: "p"},
			{name: "platform sse sel2", role: foPlat, token: plat, sel: 1, d: true, transport: "sse"},
			{name: "platform ws sel2 without details", role: foPlat, token: plat, sel: 1, transport: "ws", conn: "p3"},
			{name: "customer ws sel2", role: foCust, token: f.tok[foCust], sel: 1, d: true, transport: "ws", conn: "c"},
			{name: "merchant legacy sel2 without details", role: foMerch, token: f.tok[foMerch], sel: 1, transport: "legacy", conn: "ml"},
		}
		// The classes: role, manage scope, selection and $d ($after only filters).
		classes := map[string]dispute.Actor{}
		for _, sub := range subs {
			manage := sub.token != platRead && sub.token != f.cast.CustomerReadToken
			classes[fmt.Sprint(sub.role, manage, sub.sel, sub.d)] = sub.role
		}
		start := foTimeline(t, s, plat, f.caseID) // the opening event and one message
		last := start[len(start)-1]
		shStart(t, s, subs, func(sub *shSub) string { return shEventSub(sub.sel) }, func(sub *shSub) map[string]any {
			v := map[string]any{"id": f.caseID, "d": sub.d}
			if sub.after {
				v["after"] = last.Cursor
			}
			return v
		})
		foWaitStats(t, s.Hub, len(subs), 0)

		// A sentinel everybody sees: every subscriber is live and caught up.
		f.mustAct(t, 1)
		for _, sub := range subs {
			shReadN(t, sub, 1)
		}
		before := shPayloads(t, s, "resolutionEventAdded")
		const steps = 12 // under pubsub.EventBuffer: nobody stalls, so each event is one round
		f.mustAct(t, steps)

		// The oracle: the same selection, for the same token, from the query API.
		type oracleKey struct {
			token string
			sel   int
			d     bool
		}
		oracles := map[oracleKey]map[int]string{}
		oracle := func(sub *shSub) map[int]string {
			k := oracleKey{sub.token, sub.sel, sub.d}
			if o := oracles[k]; o != nil {
				return o
			}
			var data struct {
				Resolution struct {
					Events struct{ Edges []json.RawMessage }
				}
			}
			s.MustData(t, sub.token, shEventOracle(sub.sel), map[string]any{"id": f.caseID, "d": sub.d}, &data)
			o := map[int]string{}
			for _, raw := range data.Resolution.Events.Edges {
				var e struct{ Node struct{ Position int } }
				if err := json.Unmarshal(raw, &e); err != nil || e.Node.Position == 0 {
					t.Fatalf("oracle edge %s: %v", raw, err)
				}
				o[e.Node.Position] = shNormalize(t, raw)
			}
			oracles[k] = o
			return o
		}
		sentinel := last.Node.Position + 1
		visible := map[dispute.Actor][]int{}
		for _, role := range []dispute.Actor{foCust, foMerch, foPlat} {
			visible[role] = foVisible(t, d, f.caseID, role, sentinel)
		}
		wantPayloads := 0
		for _, pos := range visible[foPlat] {
			for _, role := range classes {
				if slices.Contains(visible[role], pos) {
					wantPayloads++
				}
			}
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var failures []string
		for _, sub := range subs {
			want := visible[sub.role]
			o := oracle(sub)
			wg.Add(1)
			go func() {
				defer wg.Done()
				got := shReadN(t, sub, len(want))
				for i, raw := range got {
					if g, w := shNormalize(t, raw), o[want[i]]; g != w {
						mu.Lock()
						failures = append(failures, fmt.Sprintf("%s, event %d:\n got %s\nwant %s", sub.name, want[i], g, w))
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		for _, msg := range failures {
			t.Error(msg)
		}
		shQuiet(t, subs, 200*time.Millisecond)
		if got := shPayloads(t, s, "resolutionEventAdded") - before; got != float64(wantPayloads) {
			t.Errorf("%d events executed %v times for %d subscribers in %d classes; want %d (once per event and class that sees it)",
				steps, got, len(subs), len(classes), wantPayloads)
		}
	})
}

// shUpdateSel is a resolutionUpdated selection full of viewer-dependent fields: the
// viewer's actions, the customer's e-mail, the company, the events the role may see.
const shUpdateSel = `id version status dueDate viewerActions customerResponseActions merchantResponseActions
	user { username email } company { title } payment { total { amount currency } } member { status }
	resolutionEvents { position details } events(first: 3) { edges { cursor node { position action } } }`

// TestSharedFanoutUpdatesDifferential: resolutionUpdated subscribers (several tokens
// of each kind, read and manage, every transport) receive for each change exactly
// what the query API returns for the same selection and token, and each change is
// executed once per principal and scope (platform tokens all see alike).
func TestSharedFanoutUpdatesDifferential(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		// The case opens before the server starts, so its opening is never fanned out:
		// opened after, a late fan-out of the opening (under load) reached subscribers
		// that had started meanwhile, one update ahead of the rounds below.
		f := foNewCase(t, nil, d)
		s := apptest.New(t, d)
		f.s = s
		other := dbtest.MustToken(t, d, db.TokenPlatform, "", true) // another platform principal
		subs := []*shSub{
			{name: "platform ws", token: apptest.PlatformToken, transport: "ws", conn: "p"},
			{name: "platform ws again", token: apptest.PlatformToken, transport: "ws", conn: "p"},
			{name: "other platform token sse", token: other, transport: "sse"},
			{name: "platform read-only legacy", token: f.cast.PlatformReadToken, transport: "legacy", conn: "pr"},
			{name: "customer ws", token: f.tok[foCust], transport: "ws", conn: "c"},
			{name: "customer legacy", token: f.tok[foCust], transport: "legacy", conn: "cl"},
			{name: "customer read-only sse", token: f.cast.CustomerReadToken, transport: "sse"},
			{name: "company ws", token: f.tok[foMerch], transport: "ws", conn: "m"},
			{name: "team member ws", token: f.cast.TeamMemberToken, transport: "ws", conn: "tm"},
		}
		const classes = 6 // platform manage, platform read, customer, customer read, company, team member
		doc := `subscription($f: ResolutionUpdatesFilter) { e: resolutionUpdated(filter: $f) { ` + shUpdateSel + ` } }`
		shStart(t, s, subs, func(*shSub) string { return doc }, func(*shSub) map[string]any {
			return map[string]any{"f": map[string]any{"resolutionIds": []string{f.caseID}}}
		})
		foWaitStats(t, s.Hub, 0, len(subs))
		before := shPayloads(t, s, "resolutionUpdated")
		const rounds = 4
		for range rounds {
			f.mustAct(t, 1)
			for _, sub := range subs {
				got := shReadN(t, sub, 1)[0]
				var data struct{ Resolution json.RawMessage }
				s.MustData(t, sub.token, `query($id: ID!) { resolution(id: $id) { `+shUpdateSel+` } }`,
					map[string]any{"id": f.caseID}, &data)
				if g, w := shNormalize(t, got), shNormalize(t, data.Resolution); g != w {
					t.Errorf("%s:\n got %s\nwant %s", sub.name, g, w)
				}
			}
		}
		shQuiet(t, subs, 200*time.Millisecond)
		if got := shPayloads(t, s, "resolutionUpdated") - before; got != rounds*classes {
			t.Errorf("%d changes executed %v times for %d subscribers in %d classes; want %d", rounds, got, len(subs), classes, rounds*classes)
		}
	})
}

// TestEventEdgeReachesNoViewerField keeps eventViewerClass sound: a
// resolutionEventAdded payload is made of ResolutionEventEdge and ResolutionEvent
// fields that hold scalars and enums, resolved from the event alone (no resolvers).
// A field that reaches another object, or a resolver that could read the viewer, must
// come with a review of the class (graph/shared.go).
func TestEventEdgeReachesNoViewerField(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	allowed := map[string]bool{"ResolutionEventEdge": true, "ResolutionEvent": true}
	for name := range allowed {
		for _, fd := range schema.Types[name].Fields {
			typ := schema.Types[fd.Type.Name()]
			if typ.Kind != ast.Scalar && typ.Kind != ast.Enum && !allowed[typ.Name] {
				t.Errorf("%s.%s reaches %s: review eventViewerClass", name, fd.Name, typ.Name)
			}
		}
		if _, ok := reflect.TypeFor[graph.ResolverRoot]().MethodByName(name); ok {
			t.Errorf("%s has field resolvers: review eventViewerClass", name)
		}
	}
}
