package graph

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"resolutioncenter/dispute"
)

// ResponseBudget bounds the bytes of one response (Limits.MaxResponseBytes). Whatever
// writes the response spends from it as it goes and stops at the first refusal, so a
// response over the budget is never built whole: the request ends with the one error
// ResponseTooLarge returns and nothing of the partial body.
//
// With gqlgen's executor, the responseBudget extension gives each response a budget
// in its context, charges every long text as its field resolves (the values that make
// a response large: shorter ones are bounded by the cost model), stops the fetches
// still running once the budget is spent, and checks the marshalled size exactly at
// the end. Another writer (a planned executor writing JSON into one buffer) takes the
// budget from the context with ResponseBudgetFrom and calls Spend with what it writes.
type ResponseBudget struct {
	max    int64
	used   atomic.Int64
	over   atomic.Bool
	cancel context.CancelFunc
}

// NewResponseBudget returns a budget of max bytes.
func NewResponseBudget(max int64) *ResponseBudget { return &ResponseBudget{max: max} }

// Max is the budget's size in bytes.
func (b *ResponseBudget) Max() int64 { return b.max }

// Spend records n more bytes of the response. Once the total passes the budget it
// returns the RESPONSE_TOO_LARGE error (and does on every later call), and cancels the
// response's context when the budget has one, so that work still running stops.
func (b *ResponseBudget) Spend(n int) error {
	if b.used.Add(int64(n)) <= b.max && !b.over.Load() {
		return nil
	}
	if !b.over.Swap(true) && b.cancel != nil {
		b.cancel()
	}
	return ResponseTooLarge(b.max)
}

// Exceeded reports whether the budget was passed.
func (b *ResponseBudget) Exceeded() bool { return b.over.Load() }

// ResponseTooLarge is the error of a response over a budget of max bytes: code
// RESPONSE_TOO_LARGE, with the budget in extensions.maxBytes.
func ResponseTooLarge(max int64) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    fmt.Sprintf("the response would exceed %d bytes: ask for less (smaller pages, fewer fields or aliases)", max),
		Extensions: map[string]any{"code": string(dispute.CodeResponseTooLarge), "maxBytes": max},
	}
}

type responseBudgetKey struct{}

// WithResponseBudget gives the response of ctx the budget b.
func WithResponseBudget(ctx context.Context, b *ResponseBudget) context.Context {
	return context.WithValue(ctx, responseBudgetKey{}, b)
}

// ResponseBudgetFrom returns the budget of the response of ctx, or nil when it has none.
func ResponseBudgetFrom(ctx context.Context) *ResponseBudget {
	b, _ := ctx.Value(responseBudgetKey{}).(*ResponseBudget)
	return b
}

// minCountedText is the shortest text a field's value is charged for as it resolves.
// Shorter values (IDs, enums, names) would cost a context lookup each for little: the
// cost model bounds how many there are, and the final check counts them exactly.
const minCountedText = 64

// responseBudget is the gqlgen extension enforcing MaxResponseBytes (see
// ResponseBudget). It runs inside the other response middleware, so what they see
// (metrics, logs) is the RESPONSE_TOO_LARGE answer actually sent.
type responseBudget struct{ max int64 }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
	graphql.FieldInterceptor
} = responseBudget{}

func (responseBudget) ExtensionName() string                   { return "ResponseBudget" }
func (responseBudget) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse gives each response (each value of a subscription) a budget and a
// context that ends when the budget is spent, and swaps a response over the budget for
// the error alone.
func (r responseBudget) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	b := NewResponseBudget(r.max)
	ctx, cancel := context.WithCancel(WithResponseBudget(ctx, b))
	defer cancel()
	b.cancel = cancel
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	if b.Exceeded() || int64(len(resp.Data)) > r.max {
		return &graphql.Response{Errors: gqlerror.List{ResponseTooLarge(r.max)}}
	}
	return resp
}

// InterceptField charges a long text value, as it resolves, at its JSON size.
func (responseBudget) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	if err != nil {
		return res, err
	}
	var s string
	switch v := res.(type) {
	case string:
		s = v
	case *string:
		if v == nil {
			return res, nil
		}
		s = *v
	default:
		return res, nil
	}
	if len(s) < minCountedText {
		return res, nil
	}
	if b := ResponseBudgetFrom(ctx); b != nil {
		if err := b.Spend(jsonStringSize(s)); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// jsonStringSize is the size of s written as a JSON string the way gqlgen writes it:
// quoted, with control characters, quotes and backslashes escaped.
func jsonStringSize(s string) int {
	n := len(s) + 2
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\' || c == '\t' || c == '\r' || c == '\n':
			n++
		case c < 0x20:
			n += 5
		}
	}
	return n
}
