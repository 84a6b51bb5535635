package graph

import (
	"context"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"resolutioncenter/auth"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
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

// subscriptionKey is what MAX_SUBSCRIPTIONS counts against: the token (only the
// platform mints tokens, so a tenant cannot multiply its budget; the load tool spreads
// many subscribers over platform tokens), or the principal for credentials without a
// token ID (a sign-in JWT: the user; PLATFORM_TOKEN: the platform).
func subscriptionKey(p *auth.Principal) string {
	if p.TokenID != "" {
		return "token:" + p.TokenID
	}
	return principalKey(p)
}

// acquireSubscription counts a new subscription against the token's limit and
// returns the function that releases it.
func (r *Resolver) acquireSubscription(p *auth.Principal) (func(), error) {
	limit := r.maxSessions()
	release, ok := r.subs.take(subscriptionKey(p), limit)
	if !ok {
		return nil, &dispute.Error{Code: dispute.CodeLimitReached, Message: fmt.Sprintf("at most %d concurrent subscriptions per token", limit)}
	}
	return release, nil
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
	if !ok || e.sent {
		return nil
	}
	final := e.err
	if ce := credentialEnd(ctx); ce != nil {
		final = ce // the token was revoked or expired: say so before the stream ends
	}
	if final == nil {
		return nil
	}
	e.sent = true
	return &graphql.Response{Errors: gqlerror.List{final}}
}
