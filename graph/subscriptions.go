package graph

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"resolutioncenter/auth"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
	"resolutioncenter/graph/wsproto"
	"resolutioncenter/ids"
	"resolutioncenter/pubsub"
)

// Subscriptions: the resolvers register with the hub, which hands each event or case
// to the subscription's stream itself, never waiting for it, and tells the transport
// when there is something to read (wsproto.StreamWake). The subscription ends when the
// client leaves, through context.AfterFunc, or when the hub ends it (slow consumer,
// shutdown). Each subscription registers with a class (see shared.go): subscribers of a
// class receive the same bytes for the same change, which is executed and marshaled
// once for all of them.

// CodeSlowConsumer is the extensions.code of the error that ends a subscription whose
// client did not keep up.
const CodeSlowConsumer = "SLOW_CONSUMER"

// maxSubscriptionCases bounds resolutionUpdated's list of case IDs.
const maxSubscriptionCases = 100

func (r *Resolver) subscribeEvents(ctx context.Context, caseID string, after *string) (<-chan *model.ResolutionEventEdge, error) {
	p, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	if r.Hub == nil {
		return nil, dispute.Unavailable("subscriptions are not enabled")
	}
	res, err := r.resolution(ctx, p, "resolutionId", caseID)
	if err != nil {
		return nil, err
	}
	c := res.Case
	from := c.EventCount
	if after != nil {
		if from, err = decodeEventCursor(*after, caseID); err != nil {
			return nil, err
		}
		if from > c.EventCount {
			return nil, dispute.Invalid("after", "the cursor is past the end of the case's timeline")
		}
	}
	release, err := r.acquireSubscription(p)
	if err != nil {
		return nil, err
	}
	st, err := newHubStream(ctx, pubsub.EventBuffer, release, func(e *dispute.Event) *model.ResolutionEventEdge {
		return &model.ResolutionEventEdge{Cursor: eventCursor(*e), Node: model.NewEvent(*e)}
	}, func(e *dispute.Event) string { return eventCursor(*e) })
	if err != nil {
		release()
		return nil, err
	}
	sub := r.Hub.SubscribeEventsFunc(caseID, res.Role, from, subscriptionClass(ctx, eventViewerClass(p, res.Role)),
		st.deliver, st.close)
	context.AfterFunc(ctx, func() { r.Hub.UnsubscribeEvents(sub) })
	return st.feed, nil
}

func (r *Resolver) subscribeUpdates(ctx context.Context, filter *model.ResolutionUpdatesFilter) (<-chan *model.Resolution, error) {
	p, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	if r.Hub == nil {
		return nil, dispute.Unavailable("subscriptions are not enabled")
	}
	s := p.Scope()
	f := pubsub.UpdateFilter{All: s.All, UserID: s.UserID, CompanyIDs: s.CompanyIDs}
	if filter != nil {
		if f.CompanyID, err = optionalID(filter.CompanyID, ids.Company, "filter.companyId", "company"); err != nil {
			return nil, err
		}
		if f.Customer, err = optionalID(filter.UserID, ids.User, "filter.userId", "user"); err != nil {
			return nil, err
		}
		if len(filter.ResolutionIds) > maxSubscriptionCases {
			return nil, dispute.Invalid("filter.resolutionIds", "at most 100 IDs")
		}
		for _, id := range filter.ResolutionIds {
			if !ids.Is(id, ids.Resolution) {
				return nil, dispute.Invalid("filter.resolutionIds", "not a resolution ID")
			}
		}
		f.CaseIDs = filter.ResolutionIds
	}
	release, err := r.acquireSubscription(p)
	if err != nil {
		return nil, err
	}
	st, err := newHubStream(ctx, pubsub.UpdateBuffer, release, func(c *dispute.Case) *model.Resolution {
		return r.toResolution(*c, p)
	}, nil)
	if err != nil {
		release()
		return nil, err
	}
	sub := r.Hub.SubscribeUpdatesFunc(f, subscriptionClass(ctx, updateViewerClass(p)), st.deliver, st.close)
	context.AfterFunc(ctx, func() { r.Hub.UnsubscribeUpdates(sub) })
	return st.feed, nil
}

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
// for it; false at the end of the stream or when ctx ends.
func (s *hubStream[E, T]) take(ctx context.Context) (streamItem[E], bool) {
	if s.holding {
		s.holding = false
		return s.held, true
	}
	select {
	case it, ok := <-s.queue:
		return it, ok
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

// acquireSubscription counts a new subscription against the principal's limit and
// returns the function that releases it.
func (r *Resolver) acquireSubscription(p *auth.Principal) (func(), error) {
	limit := r.MaxSubscriptionsPerPrincipal
	if limit <= 0 {
		limit = 1000
	}
	key := principalKey(p)
	r.subsMu.Lock()
	defer r.subsMu.Unlock()
	if r.subs == nil {
		r.subs = map[string]int{}
	}
	if r.subs[key] >= limit {
		return nil, &dispute.Error{Code: dispute.CodeLimitReached, Message: fmt.Sprintf("at most %d concurrent subscriptions per token", limit)}
	}
	r.subs[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			r.subsMu.Lock()
			defer r.subsMu.Unlock()
			if r.subs[key]--; r.subs[key] <= 0 {
				delete(r.subs, key)
			}
		})
	}, nil
}

// streamEnd is a subscription operation's state for the response middleware: its
// stream (set by the resolver), and why the stream ended, which streamEndResponse sends
// as a final error before completing.
type streamEnd struct {
	stream responder
	err    *gqlerror.Error
	sent   bool
}

type streamEndKey struct{}

func (e *streamEnd) set(err error, cursor string) {
	switch {
	case errors.Is(err, pubsub.ErrSlowConsumer):
		ext := map[string]any{"code": CodeSlowConsumer}
		if cursor != "" {
			ext["cursor"] = cursor
		}
		e.err = &gqlerror.Error{Message: err.Error(), Extensions: ext}
	}
	// ErrClosed (server shutdown) and nil (unsubscribed) end the stream with a plain
	// complete: the client may reconnect to another replica with its last cursor.
}

// withStreamEnd is the operation and response middleware pair that reports why a
// subscription ended: after the stream's last value, one final response carrying the
// error, then the end of the stream.
func withStreamEnd(ctx context.Context) context.Context {
	if graphql.GetOperationContext(ctx).Operation.Operation != "subscription" {
		return ctx
	}
	return context.WithValue(ctx, streamEndKey{}, &streamEnd{})
}

func streamEndResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp != nil {
		return resp
	}
	e, ok := ctx.Value(streamEndKey{}).(*streamEnd)
	if !ok || e.err == nil || e.sent {
		return nil
	}
	e.sent = true
	return &graphql.Response{Errors: gqlerror.List{e.err}}
}
