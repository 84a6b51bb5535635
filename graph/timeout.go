package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// operationTimeout bounds the execution of every query and mutation by REQUEST_TIMEOUT,
// whatever the transport carries it: a POST or GET (which withRequestTimeout bounds as
// a whole as well), a request that asks for text/event-stream (SSE), or a subscribe
// message on a WebSocket. The HTTP middleware cannot tell them apart: it sees an Accept
// header or an upgrade, not the operation, and a query sent over SSE or a WebSocket ran
// unbounded. Subscriptions are not bounded: they last as long as their client wants.
//
// The deadline is a context deadline, so it ends the operation's SQL statements as it
// does for a POST, and the error presenter answers what they return with the same
// UNAVAILABLE "request timed out". A mutation is one transaction: one that runs out of
// time before its commit is rolled back and reports the error; what it committed
// stays committed and is reported as a POST's would be.
type operationTimeout struct{ d time.Duration }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = operationTimeout{}

func (operationTimeout) ExtensionName() string                   { return "OperationTimeout" }
func (operationTimeout) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse runs a query's or mutation's execution (all of it happens while its
// one response is produced: the server offers no incremental delivery) under the
// deadline.
func (t operationTimeout) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if t.d <= 0 || !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation == ast.Subscription {
		return next(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	return next(ctx)
}
