package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
	"resolutioncenter/webhook"
)

// depthLimit refuses operations whose selections nest deeper than max, counting through
// fragments (validation has already refused fragment cycles).
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                          { return "DepthLimit" }
func (depthLimit) Validate(schema graphql.ExecutableSchema) error { return nil }

func (d depthLimit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Doc.Operations.ForName(opCtx.OperationName)
	if op == nil {
		return nil
	}
	if depth := selectionDepth(op.SelectionSet, d.max+1); depth > d.max {
		err := gqlerror.Errorf("operation nests %d levels deep or more, which exceeds the limit of %d", depth, d.max)
		errcode.Set(err, errcode.ValidationFailed)
		return err
	}
	return nil
}

// selectionDepth returns the depth of a selection set, stopping once it reaches stop.
func selectionDepth(set ast.SelectionSet, stop int) int {
	if stop <= 0 {
		return 0
	}
	best := 0
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.SelectionSet) == 0 {
				d = 1
			} else {
				d = 1 + selectionDepth(s.SelectionSet, stop-1)
			}
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, stop)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				d = selectionDepth(s.Definition.SelectionSet, stop)
			}
		}
		if d > best {
			best = d
			if best >= stop {
				return best
			}
		}
	}
	return best
}

// pageCost is the page size a connection field will return, for complexity. A size
// out of 0..100 never gets here (argumentCheck refuses the operation first, as the field
// would); the clamp only keeps the price bounded whatever it is given.
func pageCost(first, last *int) int {
	n := defaultPageSize
	if first != nil {
		n = *first
	}
	if last != nil {
		n = *last
	}
	if n < 1 {
		n = 1
	}
	if n > maxPageSize {
		n = maxPageSize
	}
	return n
}

// countCost is the cost of counting cases (resolutionSummary, a connection's
// totalCount): like a page of cases with a few fields, as a count with a date
// condition reads the matching cases, however few are returned.
const countCost = 100

// The cost model (complexity): what an operation may return, priced before it runs.
// Every field costs one unit, and a text field one more unit per textUnit characters it
// may hold (by its size limit: a 10,000-character message costs 101, not 1). A list
// costs its length times its selection: a connection its page size, resolutionEvents
// 50, nodes(ids) the IDs asked for. Fields under different aliases are priced each
// time, as they are each resolved and written. So the cost bounds both the rows read
// and the size of the answer: MAX_COMPLEXITY 50,000 allows about 5 million characters
// of text; MAX_RESPONSE_BYTES bounds the answer's bytes exactly.
const textUnit = 100

// textCost is the cost of a text field of at most maxChars characters.
func textCost(maxChars int) int { return 1 + maxChars/textUnit }

// setComplexity sets the cost model's per-field prices (see textUnit).
func setComplexity(c *ComplexityRoot) {
	c.Query.Resolutions = func(child int, first *int, _ *string, last *int, _ *string, _ *model.ResolutionFilter, _ *model.ResolutionOrder) int {
		return 1 + pageCost(first, last)*child
	}
	c.Resolution.Events = func(child int, first *int, _ *string, last *int, _ *string, _ *model.ResolutionEventOrder) int {
		return 1 + pageCost(first, last)*child
	}
	// Counting reads the counts (a few dozen rows per company) or, with a date
	// condition, the matching cases: priced like a page of cases' scalars.
	c.ResolutionConnection.TotalCount = func(int) int { return countCost }
	c.Query.ResolutionSummary = func(child int, _ *model.ResolutionFilter) int { return countCost + child }
	// One batched count per page of cases, or none for the platform.
	c.ResolutionEventConnection.TotalCount = func(int) int { return 1 }
	c.Resolution.ResolutionEvents = func(child int) int { return 1 + recentCount*child }
	c.Query.Nodes = func(child int, list []string) int { return 1 + len(list)*child }
	c.Query.Tokens = func(child int, first *int, _ *string, _ *model.APITokenFilter) int {
		return 1 + pageCost(first, nil)*child
	}
	// Webhooks: endpoints and deliveries are connections like the others, a delivery's
	// attempts a list of at most attemptsShown, its payload a text as long as the case
	// it carries (webhook.MaxPayloadChars: up to 50 events, their messages within 64 Ki characters).
	c.Query.WebhookEndpoints = func(child int, _ *string, first *int, _ *string) int {
		return 1 + pageCost(first, nil)*child
	}
	c.WebhookEndpoint.Deliveries = func(child int, _ *model.WebhookDeliveryStatus, _ *string, first *int, _ *string) int {
		return 1 + pageCost(first, nil)*child
	}
	c.WebhookDelivery.Attempts = func(child int) int { return 1 + attemptsShown*child }

	text := func(maxChars int) func(int) int {
		cost := textCost(maxChars)
		return func(int) int { return cost }
	}
	c.ResolutionEvent.Details = text(dispute.MaxMessageLength)
	c.Company.Title = text(maxTitleLen)
	c.Company.Route = text(maxRouteLen)
	c.User.Name = text(maxNameLen)
	c.User.Username = text(maxUsernameLen)
	c.User.Email = text(maxEmailLen)
	c.WebhookDelivery.Payload = text(webhook.MaxPayloadChars)
	c.WebhookAttempt.ResponseExcerpt = text(webhook.ExcerptBytes)
	c.WebhookAttempt.Error = text(webhook.MaxErrorLength)
	c.WebhookDelivery.LastError = text(webhook.MaxErrorLength)
	c.WebhookEndpoint.URL = text(webhook.MaxURLLength)
	c.WebhookEndpoint.Description = text(webhook.MaxDescription)
	c.WebhookEndpoint.DisabledReason = text(webhook.MaxDescription)
}
