package observe

import (
	"context"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// PrincipalKind tells the log line what kind of caller made a request, without
// identifying it: "none" for a caller without a credential.
type PrincipalKind func(ctx context.Context) string

// Operations is a gqlgen extension that, per operation, counts it and its errors,
// times it, opens a tracing span, and writes one log line: operation name and type,
// principal kind, duration, error codes, request ID. Queries' texts and variables, tokens,
// e-mails and messages are never logged.
type Operations struct {
	Metrics   *Metrics
	Logger    *slog.Logger
	Tracer    trace.Tracer
	Principal PrincipalKind
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
} = Operations{}

// ExtensionName names the extension.
func (Operations) ExtensionName() string { return "Observe" }

// Validate accepts any schema.
func (Operations) Validate(graphql.ExecutableSchema) error { return nil }

type opStateKey struct{}

// opState is one operation's observation, finished at its first response (for a
// subscription: once it is set up).
type opState struct {
	start    time.Time
	span     trace.Span
	name     string
	typ      string
	finished bool
}

func (o Operations) tracer() trace.Tracer {
	if o.Tracer == nil {
		return noop.NewTracerProvider().Tracer("")
	}
	return o.Tracer
}

// InterceptOperation opens the operation's span, so resolver and SQL spans are its
// children.
func (o Operations) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	st := &opState{start: time.Now(), name: "anonymous", typ: "unknown"}
	if oc.OperationName != "" {
		st.name = oc.OperationName
	}
	if oc.Operation != nil {
		st.typ = string(oc.Operation.Operation)
		if oc.OperationName == "" && oc.Operation.Name != "" {
			st.name = oc.Operation.Name
		}
	}
	ctx, st.span = o.tracer().Start(ctx, "graphql."+st.typ+" "+st.name, trace.WithAttributes(
		attribute.String("graphql.operation.name", st.name), attribute.String("graphql.operation.type", st.typ)))
	return next(context.WithValue(ctx, opStateKey{}, st))
}

// InterceptResponse finishes the observation at the operation's first response and
// counts the errors of every response.
func (o Operations) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	st, ok := ctx.Value(opStateKey{}).(*opState)
	if !ok {
		// A request error (parse, validation, limits): no operation ran.
		if resp != nil && o.Metrics != nil {
			for _, e := range resp.Errors {
				code, _ := e.Extensions["code"].(string)
				if code == "" {
					code = "INTERNAL"
				}
				o.Metrics.Errors.WithLabelValues(code).Inc()
			}
		}
		return resp
	}
	var codesSeen []string
	if resp != nil {
		for _, e := range resp.Errors {
			code, _ := e.Extensions["code"].(string)
			if code == "" {
				code = "INTERNAL"
			}
			codesSeen = append(codesSeen, code)
			if o.Metrics != nil {
				o.Metrics.Errors.WithLabelValues(code).Inc()
			}
		}
	}
	if st.finished {
		return resp
	}
	st.finished = true
	dur := time.Since(st.start)
	if len(codesSeen) > 0 {
		st.span.SetStatus(codes.Error, codesSeen[0])
		st.span.SetAttributes(attribute.StringSlice("graphql.error.codes", codesSeen))
	}
	st.span.End()
	kind := "none"
	if o.Principal != nil {
		kind = o.Principal(ctx)
	}
	if o.Metrics != nil {
		label := o.Metrics.operationLabel(st.name, kind != "none")
		o.Metrics.Operations.WithLabelValues(label, st.typ).Inc()
		o.Metrics.OperationTime.WithLabelValues(label, st.typ).Observe(dur.Seconds())
	}
	if o.Logger != nil {
		attrs := []any{"operation", st.name, "type", st.typ, "principal", kind,
			"duration_ms", float64(dur.Microseconds()) / 1000, "request_id", RequestID(ctx)}
		if len(codesSeen) > 0 {
			attrs = append(attrs, "error_codes", codesSeen)
		}
		o.Logger.InfoContext(ctx, "graphql", attrs...)
	}
	return resp
}
