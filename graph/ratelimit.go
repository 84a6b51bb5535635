package graph

import (
	"context"
	"fmt"
	"math"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"resolutioncenter/auth"
	"resolutioncenter/dispute"
	"resolutioncenter/ratelimit"
)

// rateLimit charges each operation its computed complexity against the caller's budget
// (per principal; per client address without a token, and for an IPv6 client's /64
// also its /48's aggregate, aggregateKey). It runs after the complexity limit,
// whose figure it reuses. A refusal is RATE_LIMITED with the seconds to wait in
// extensions.retryAfter; the HTTP transport answers it with 429 and Retry-After.
type rateLimit struct {
	limiter *ratelimit.Limiter
	onLimit func()
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = rateLimit{}

func (rateLimit) ExtensionName() string                   { return "RateLimit" }
func (rateLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (l rateLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	cost := 1
	if st := extension.GetComplexityStats(graphql.WithOperationContext(ctx, oc)); st != nil {
		cost = st.Complexity
	}
	ok, wait := l.limiter.TakeWithin(rateKey(ctx), aggregateKey(ctx), auth.AggregateFactor, float64(cost))
	if ok {
		return nil
	}
	if l.onLimit != nil {
		l.onLimit()
	}
	secs := int(math.Ceil(wait.Seconds()))
	return &gqlerror.Error{
		Message:    fmt.Sprintf("rate limit exceeded: this operation costs %d; retry in %d s", cost, secs),
		Extensions: map[string]any{"code": string(dispute.CodeRateLimited), "retryAfter": secs, "cost": cost},
	}
}

// WithClientAddr records the client's address for rate limiting callers without a
// token and throttling failed authentications.
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return auth.WithClientAddr(ctx, addr)
}

func rateKey(ctx context.Context) string {
	if p := auth.FromContext(ctx); p != nil {
		return "principal:" + principalKey(p)
	}
	return "addr:" + auth.ClientAddr(ctx)
}

// aggregateKey is the aggregate budget over rateKey's, or "": without a token, an IPv6
// client's /48 (auth.AggregateAddr), which its 65,536 /64s share at
// auth.AggregateFactor times one's budget. The same for the WebSocket connections
// counted by address (connectionKey).
func aggregateKey(ctx context.Context) string {
	if auth.FromContext(ctx) != nil {
		return ""
	}
	if a := auth.AggregateAddr(auth.ClientAddr(ctx)); a != "" {
		return "addr:" + a
	}
	return ""
}

// writeLimit charges each mutation operation one unit per mutation it runs (its root
// fields) against the budget of the caller's principal: the user or the company,
// whichever of its tokens it uses. It bounds how fast one tenant can write across all
// its cases (the per-case message budget bounds each case). The platform is not
// limited: it is staff and the upstream systems that feed reference data, which share
// one principal; the cost limiter still applies to each of its tokens. A refusal is
// RATE_LIMITED, like rateLimit's.
type writeLimit struct {
	limiter *ratelimit.Limiter
	onLimit func()
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = writeLimit{}

func (writeLimit) ExtensionName() string                   { return "WriteLimit" }
func (writeLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (l writeLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Mutation {
		return nil
	}
	if p := auth.FromContext(ctx); p != nil && p.Kind == auth.KindPlatform {
		return nil
	}
	n := len(graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Mutation"}))
	if n == 0 {
		return nil
	}
	ok, wait := l.limiter.Take(writeKey(ctx), float64(n))
	if ok {
		return nil
	}
	if l.onLimit != nil {
		l.onLimit()
	}
	secs := int(math.Ceil(wait.Seconds()))
	return &gqlerror.Error{
		Message: fmt.Sprintf("mutation rate limit exceeded: at most %g mutations per second per principal (bursts of %g); retry in %d s",
			l.limiter.Rate, l.limiter.Burst, secs),
		Extensions: map[string]any{"code": string(dispute.CodeRateLimited), "retryAfter": secs, "cost": n},
	}
}

// writeKey is the principal a mutation is charged to: one budget for all the tokens of
// a user, or of a company (a mutation without a token is charged to its address, and
// refused anyway). It is rateKey's key: the principal, not the token.
func writeKey(ctx context.Context) string { return rateKey(ctx) }
