package graph

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
	"resolutioncenter/graph/wsproto"
	"resolutioncenter/ids"
	"resolutioncenter/pubsub"
)

// Subscriptions: the resolvers register with the hub, which hands each event or case
// to gqlgen's channel itself, never waiting for it, and tells the transport when there
// is something to read (wsproto.StreamWake). The subscription ends when the client
// leaves, through context.AfterFunc, or when the hub ends it (slow consumer, shutdown).

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
	if !ids.Is(caseID, ids.Resolution) {
		return nil, dispute.Invalid("resolutionId", "not a resolution ID")
	}
	cases, err := db.GetResolutions(ctx, r.DB.Bun, p.Scope(), []string{caseID})
	if err != nil {
		return nil, err
	}
	c, ok := cases[caseID]
	if !ok {
		return nil, dispute.NotFound("no resolution with this ID")
	}
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
	// The hub hands events straight to gqlgen's channel (no forwarding goroutine: an
	// idle subscription then costs only its buffer), and the subscription ends when the
	// client leaves through context.AfterFunc, which starts no goroutine until then.
	// Over graphql-transport-ws the transport, too, reads the channel only when woken
	// (see wsproto.StreamWake), so an idle subscription holds no goroutine at all.
	end := streamEndFrom(ctx)
	wake := wsproto.StreamWake(ctx)
	out := make(chan *model.ResolutionEventEdge, pubsub.EventBuffer)
	var lastCursor string // written only by the hub, under its lock
	deliver := func(e dispute.Event) bool {
		edge := &model.ResolutionEventEdge{Cursor: eventCursor(e), Node: model.NewEvent(e)}
		select {
		case out <- edge:
			lastCursor = edge.Cursor
			wake.Ready()
			return true
		default:
			return false
		}
	}
	onEnd := func(err error) {
		end.set(err, lastCursor)
		release()
		close(out)
		wake.Closed()
	}
	sub := r.Hub.SubscribeEventsFunc(caseID, p.RoleOn(c), from, deliver, onEnd)
	context.AfterFunc(ctx, func() { r.Hub.UnsubscribeEvents(sub) })
	return out, nil
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
		if filter.CompanyID != nil {
			if !ids.Is(*filter.CompanyID, ids.Company) {
				return nil, dispute.Invalid("filter.companyId", "not a company ID")
			}
			f.CompanyID = *filter.CompanyID
		}
		if filter.UserID != nil {
			if !ids.Is(*filter.UserID, ids.User) {
				return nil, dispute.Invalid("filter.userId", "not a user ID")
			}
			f.Customer = *filter.UserID
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
	// As for events: the hub converts and hands over each case itself (only when the
	// channel has room, so a full subscriber costs no conversion), and the transport
	// is woken when there is something to send.
	end := streamEndFrom(ctx)
	wake := wsproto.StreamWake(ctx)
	out := make(chan *model.Resolution, pubsub.UpdateBuffer)
	deliver := func(c dispute.Case) bool {
		if len(out) == cap(out) { // the hub is the only sender
			return false
		}
		out <- r.toResolution(c, p)
		wake.Ready()
		return true
	}
	onEnd := func(err error) {
		end.set(err, "")
		release()
		close(out)
		wake.Closed()
	}
	sub := r.Hub.SubscribeUpdatesFunc(f, deliver, onEnd)
	context.AfterFunc(ctx, func() { r.Hub.UnsubscribeUpdates(sub) })
	return out, nil
}

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

// streamEnd carries why a subscription stream ended, from the forwarding goroutine to
// the response middleware, which sends it as a final error before completing.
type streamEnd struct {
	err  *gqlerror.Error
	sent bool
}

type streamEndKey struct{}

func streamEndFrom(ctx context.Context) *streamEnd {
	if e, ok := ctx.Value(streamEndKey{}).(*streamEnd); ok {
		return e
	}
	return &streamEnd{}
}

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
