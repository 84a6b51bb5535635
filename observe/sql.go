package observe

import (
	"context"

	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// QueryHook counts SQL statements and, when tracing, opens a span per statement as a
// child of the operation's span.
type QueryHook struct {
	Metrics *Metrics
	Tracer  trace.Tracer
}

var _ bun.QueryHook = QueryHook{}

type spanKey struct{}

// BeforeQuery starts the statement's span.
func (h QueryHook) BeforeQuery(ctx context.Context, ev *bun.QueryEvent) context.Context {
	if h.Tracer == nil {
		return ctx
	}
	ctx, span := h.Tracer.Start(ctx, "sql "+ev.Operation(), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.operation.name", ev.Operation())))
	return context.WithValue(ctx, spanKey{}, span)
}

// AfterQuery counts the statement and ends its span.
func (h QueryHook) AfterQuery(ctx context.Context, ev *bun.QueryEvent) {
	if h.Metrics != nil {
		h.Metrics.SQLStatements.Inc()
	}
	if span, ok := ctx.Value(spanKey{}).(trace.Span); ok {
		if ev.Err != nil {
			span.SetStatus(codes.Error, "error")
		}
		span.End()
	}
}
