package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"resolutioncenter/dispute"
	"resolutioncenter/pubsub"
)

// The hub-fed stream on its own, without a server: what the end-to-end tests
// (shared_test.go, fanout_test.go) cannot provoke on demand.

// testStream is a hubStream of events, with a stand-in for gqlgen: next reads the
// value the stream put into feed, as gqlgen's stream field does, and writes it into a
// buffer it reuses, as gqlgen's executor does.
type testStream struct {
	*hubStream[*dispute.Event, string]
	ctx      context.Context
	cancel   context.CancelFunc
	released int
	executed int
	fail     bool // executions add an error
	buf      []byte
}

func newTestStream(t *testing.T) *testStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), streamEndKey{}, &streamEnd{}))
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Name: "resolutionEventAdded"}}})
	ts := &testStream{ctx: ctx, cancel: cancel}
	s, err := newHubStream(ctx, pubsub.EventBuffer, func() { ts.released++ },
		func(e *dispute.Event) string { return e.ID }, func(e *dispute.Event) string { return fmt.Sprint("cursor-", e.Position) })
	if err != nil {
		t.Fatal(err)
	}
	ts.hubStream = s
	return ts
}

func (ts *testStream) next(ctx context.Context) *graphql.Response {
	select {
	case v := <-ts.feed:
		if ctx.Err() != nil {
			return nil
		}
		ts.executed++
		ts.buf = append(ts.buf[:0], `{"e":"`+v+`"}`...)
		r := &graphql.Response{Data: ts.buf}
		if ts.fail {
			r.Errors = gqlerror.List{{Message: "field failed"}}
		}
		return r
	case <-ctx.Done():
		return nil
	}
}

func (ts *testStream) respond() (string, bool) {
	r, computed := ts.hubStream.respond(ts.ctx, ts.next)
	if r == nil {
		return "<end>", computed
	}
	return string(r.Data), computed
}

func ev(pos int) *dispute.Event { return &dispute.Event{ID: fmt.Sprint("revt_", pos), Position: pos} }

// TestHubStreamSharesOneExecution: subscribers handed one Share execute the selection
// once; the others send a copy of the first one's bytes, which its executor's buffer
// reuse does not change.
func TestHubStreamSharesOneExecution(t *testing.T) {
	a, b := newTestStream(t), newTestStream(t)
	sh1, sh2 := &pubsub.Share{}, &pubsub.Share{}
	for _, s := range []*testStream{a, b} {
		if !s.deliver(ev(1), sh1) || !s.deliver(ev(2), sh2) {
			t.Fatal("deliver refused")
		}
	}
	// a executes both events, reusing its buffer; b sends what a's executions were.
	for i, want := range []string{`{"e":"revt_1"}`, `{"e":"revt_2"}`} {
		if got, computed := a.respond(); got != want || !computed {
			t.Errorf("first of the class, event %d: %s, computed %v", i+1, got, computed)
		}
	}
	for i, want := range []string{`{"e":"revt_1"}`, `{"e":"revt_2"}`} {
		if got, computed := b.respond(); got != want || computed {
			t.Errorf("second of the class, event %d: %s, computed %v; want the first's bytes, not computed", i+1, got, computed)
		}
	}
	if a.executed != 2 || b.executed != 0 {
		t.Errorf("executions: %d and %d, want 2 and 0", a.executed, b.executed)
	}
}

// TestHubStreamLeaverDoesNotSpoilTheShare: an execution cut short by its subscriber
// leaving is not kept; the next subscriber of the class executes.
func TestHubStreamLeaverDoesNotSpoilTheShare(t *testing.T) {
	gone, stays := newTestStream(t), newTestStream(t)
	sh := &pubsub.Share{}
	gone.deliver(ev(1), sh)
	stays.deliver(ev(1), sh)
	gone.cancel()
	if got, _ := gone.respond(); got != "<end>" {
		t.Errorf("the subscriber that left got %s", got)
	}
	if got, computed := stays.respond(); got != `{"e":"revt_1"}` || !computed {
		t.Errorf("the one that stays: %s, computed %v", got, computed)
	}
}

// TestHubStreamSlowConsumerEnd: a full stream refuses more (the hub keeps the event);
// ended as too slow, it still sends what it holds, then ends with SLOW_CONSUMER and
// the cursor of the last event it was handed, and releases its subscription slot once.
func TestHubStreamSlowConsumerEnd(t *testing.T) {
	s := newTestStream(t)
	for i := 1; i <= pubsub.EventBuffer; i++ {
		if !s.deliver(ev(i), nil) {
			t.Fatalf("event %d refused below the buffer", i)
		}
	}
	if s.deliver(ev(pubsub.EventBuffer+1), nil) {
		t.Fatal("a full stream took one more")
	}
	s.close(pubsub.ErrSlowConsumer)
	for i := 1; i <= pubsub.EventBuffer; i++ {
		if got, _ := s.respond(); got != fmt.Sprintf(`{"e":"revt_%d"}`, i) {
			t.Fatalf("after the end, event %d: %s", i, got)
		}
	}
	if got, _ := s.respond(); got != "<end>" {
		t.Fatalf("after the held events: %s", got)
	}
	e := s.end.err
	if e == nil || e.Extensions["code"] != CodeSlowConsumer || e.Extensions["cursor"] != fmt.Sprint("cursor-", pubsub.EventBuffer) {
		t.Fatalf("end error %+v", e)
	}
	if s.released != 1 {
		t.Errorf("released %d times", s.released)
	}
	// Shutdown and unsubscribing end without an error.
	for _, err := range []error{pubsub.ErrClosed, nil} {
		s := newTestStream(t)
		s.deliver(ev(1), nil)
		s.close(err)
		if s.end.err != nil {
			t.Errorf("ended by %v: error %v", err, s.end.err)
		}
	}
}

// TestHubStreamNeedsItsMiddleware: a subscription stream outside newServer's
// middleware would never send anything: it is refused.
func TestHubStreamNeedsItsMiddleware(t *testing.T) {
	ctx := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Name: "x"}}})
	_, err := newHubStream(ctx, 1, func() {}, func(e *dispute.Event) string { return "" }, nil)
	if err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

// TestHubStreamPreparedBytes: once a subscription's first response is out, a change
// whose class already has its response is handed to the transport as the bytes
// marshaled once for the class (what json.Marshal writes for the response it would
// otherwise get); a change not yet executed, or whose response carries errors, is
// left to respond, in order.
func TestHubStreamPreparedBytes(t *testing.T) {
	a, b := newTestStream(t), newTestStream(t)
	shares := []*pubsub.Share{{}, {}, {}, {}}
	for i, sh := range shares {
		a.deliver(ev(i+1), sh)
		b.deliver(ev(i+1), sh)
	}
	a.respond() // executes event 1
	if p, ok := b.prepared(b.ctx); ok {
		t.Fatalf("before its first response: prepared %s", p)
	}
	if got, computed := b.respond(); got != `{"e":"revt_1"}` || computed {
		t.Fatalf("first response: %s, computed %v", got, computed)
	}
	a.respond() // executes event 2
	p, ok := b.prepared(b.ctx)
	if want, _ := json.Marshal(&graphql.Response{Data: []byte(`{"e":"revt_2"}`)}); !ok || string(p) != string(want) {
		t.Fatalf("event 2 prepared: %s, %v; want %s", p, ok, want)
	}
	// Event 3 is not executed yet: held for respond, which executes it.
	if p, ok := b.prepared(b.ctx); ok {
		t.Fatalf("event 3, not executed: prepared %s", p)
	}
	if got, computed := b.respond(); got != `{"e":"revt_3"}` || !computed {
		t.Fatalf("event 3: %s, computed %v", got, computed)
	}
	// Event 4's response has an error: sent through the middleware, which counts it.
	a.respond() // event 3, from b's execution
	a.fail = true
	a.respond() // executes event 4
	if p, ok := b.prepared(b.ctx); ok {
		t.Fatalf("event 4, with an error: prepared %s", p)
	}
	r, _ := b.hubStream.respond(b.ctx, b.next)
	if r == nil || len(r.Errors) != 1 || string(r.Data) != `{"e":"revt_4"}` {
		t.Fatalf("event 4: %+v", r)
	}
	b.close(nil)
	if p, ok := b.prepared(b.ctx); ok {
		t.Fatalf("closed: prepared %s", p)
	}
	if got, _ := b.respond(); got != "<end>" {
		t.Fatalf("closed: %s", got)
	}
}

// TestHubStreamEndsWithItsContext: once the stream's context ends (the client left, or
// its token was revoked), nothing more is sent, though changes are still queued whose
// response another subscriber of the class already made: with both ready, the wait
// used to pick one at random and send such a change.
func TestHubStreamEndsWithItsContext(t *testing.T) {
	ts, other := newTestStream(t), newTestStream(t)
	for i := range pubsub.EventBuffer {
		sh := new(pubsub.Share)
		if !ts.deliver(ev(i+1), sh) || !other.deliver(ev(i+1), sh) {
			t.Fatal("the buffer is smaller than the test")
		}
	}
	for range pubsub.EventBuffer {
		other.respond()
	}
	if got, _ := ts.respond(); got != `{"e":"revt_1"}` {
		t.Fatalf("first response %s", got)
	}
	ts.cancel()
	for range pubsub.EventBuffer - 1 {
		if got, _ := ts.respond(); got != "<end>" {
			t.Fatalf("after the context ended: %s, want the end", got)
		}
	}
}
