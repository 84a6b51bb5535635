package graph

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"

	"resolutioncenter/graph/wsproto"
	"resolutioncenter/pubsub"
)

// hubStream is a subscription fed by the hub itself: no forwarding goroutine, so an
// idle subscription costs only its buffer. deliver and close run under the hub's lock
// and never block; they queue the change (E: a pointer the hub shares with every
// subscriber, read only) with its class's Share. The transport is woken
// after each value and at the end (wsproto.StreamWake), so over graphql-transport-ws an
// idle subscription holds no goroutine at all. The subscription ends when the client
// leaves (the resolver's context.AfterFunc unsubscribes) or when the hub ends it.
//
// The response middleware (sharedResponses) reads the queue, not gqlgen: for each
// change it takes the class's response from the Share, or, first in its class, puts the
// converted value into feed (the channel the resolver returned to gqlgen) and lets
// gqlgen execute and marshal it, and keeps the response in the Share for the others.
// gqlgen never reads feed on its own, so feed is never closed: the end of the stream
// (the hub closes the queue) reaches the transport as the middleware's nil response.
type hubStream[E, T any] struct {
	name    string // the subscription field, for metrics
	queue   chan streamItem[E]
	feed    chan T // what gqlgen reads: at most one value, put there by respond
	convert func(E) T
	cursor  func(E) string // the resume cursor of a change (nil: none)
	wake    *wsproto.Wake
	end     *streamEnd
	release func()
	last    E    // the last change handed over; hub-owned
	handed  bool // whether last is set
	// Owned by the goroutine reading the stream (one at a time):
	held      streamItem[E] // taken from the queue by prepared, left to respond
	holding   bool          // held is set
	responded bool          // respond ran: the operation's first response is out
}

// streamItem is a change queued for a subscription, with its class's Share.
type streamItem[E any] struct {
	v     E
	share *pubsub.Share
}

func newHubStream[E, T any](ctx context.Context, buffer int, release func(), convert func(E) T,
	cursor func(E) string) (*hubStream[E, T], error) {
	end, ok := ctx.Value(streamEndKey{}).(*streamEnd)
	if !ok {
		// The operation did not pass through newServer's middleware, which reads the
		// stream: nothing would ever be sent.
		return nil, errors.New("subscription stream without its response middleware")
	}
	s := &hubStream[E, T]{name: graphql.GetFieldContext(ctx).Field.Name, queue: make(chan streamItem[E], buffer),
		feed: make(chan T, 1), convert: convert, cursor: cursor, wake: wsproto.StreamWake(ctx), end: end, release: release}
	end.stream = s
	s.wake.Prepare(s.prepared)
	return s, nil
}

// deliver queues e unless the queue is full (then the hub keeps it and tries again);
// the hub is the only sender.
func (s *hubStream[E, T]) deliver(e E, sh *pubsub.Share) bool {
	if len(s.queue) == cap(s.queue) {
		return false
	}
	s.queue <- streamItem[E]{v: e, share: sh}
	s.last, s.handed = e, true
	s.wake.Ready()
	return true
}

// close ends the stream, recording why for the final response (with the cursor of the
// last change handed over, to resume from).
func (s *hubStream[E, T]) close(err error) {
	cursor := ""
	if s.handed && s.cursor != nil {
		cursor = s.cursor(s.last)
	}
	s.end.set(err, cursor)
	s.release()
	close(s.queue)
	s.wake.Closed()
}

// take returns the next queued change, waiting for one unless the transport was woken
// for it; false at the end of the stream or when ctx ends, even with changes queued (a
// select with both ready picks one at random: a stream ended for its token's
// revocation could send what was queued).
func (s *hubStream[E, T]) take(ctx context.Context) (streamItem[E], bool) {
	if ctx.Err() != nil {
		return streamItem[E]{}, false
	}
	if s.holding {
		s.holding = false
		return s.held, true
	}
	select {
	case it, ok := <-s.queue:
		return it, ok && ctx.Err() == nil
	case <-ctx.Done():
		return streamItem[E]{}, false
	}
}

// respond returns the response for the next queued change; nil at the end of the
// stream or when ctx ends. computed reports whether this call executed the selection
// (first in its class).
func (s *hubStream[E, T]) respond(ctx context.Context, next graphql.ResponseHandler) (resp *graphql.Response, computed bool) {
	s.responded = true
	it, ok := s.take(ctx)
	if !ok {
		return nil, false
	}
	v, ok, computed := it.share.Get(func() (any, bool) {
		select {
		case <-s.feed: // left by an execution that its context cut short
		default:
		}
		s.feed <- s.convert(it.v)
		r := next(freshLoaders(ctx))
		if r == nil || ctx.Err() != nil {
			return nil, false
		}
		return keepResponse(r), true
	})
	if !ok {
		return nil, computed
	}
	return reuseResponse(v.(*keptResponse).resp), computed
}

// prepared is the graphql-transport-ws shortcut (wsproto.Wake.Prepare): when the
// next change's class already has its response, and it carries no error (the
// observation middleware counts errors per response), the transport sends the bytes
// marshaled once for the class, without running the response middleware for each
// subscriber. The operation's first response always runs it (the operation's
// observation ends there); anything else is left to respond.
func (s *hubStream[E, T]) prepared(ctx context.Context) ([]byte, bool) {
	if !s.responded || s.holding || ctx.Err() != nil {
		return nil, false
	}
	var it streamItem[E]
	select {
	case v, ok := <-s.queue:
		if !ok {
			return nil, false // closed: respond ends the stream
		}
		it = v
	default:
		return nil, false
	}
	if v, ok := it.share.Value(); ok {
		if k := v.(*keptResponse); k.payload != nil {
			return k.payload, true
		}
	}
	s.held, s.holding = it, true
	return nil, false
}

func (s *hubStream[E, T]) field() string { return s.name }
