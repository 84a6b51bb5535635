package graph

import (
	"context"
	"fmt"
	"math"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"resolutioncenter/auth"
	"resolutioncenter/dispute"
	"resolutioncenter/ratelimit"
)

// rateLimit charges each operation its computed complexity against the caller's budget
// (per principal; per client address without a token). It runs after the complexity limit,
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
	ok, wait := l.limiter.Take(rateKey(ctx), float64(cost))
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
