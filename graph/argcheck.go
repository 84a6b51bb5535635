package graph

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
)

// argumentCheck refuses, before anything runs, an operation in which a connection field
// would refuse its arguments when it resolves: first or last out of 0..100, both of
// them, a cursor that is malformed or of another list, a filter ID of the wrong kind, an
// argument that does not coerce (a DateTime that is not RFC 3339...). Wherever the field
// is: a mutation's payload reaches Resolution.events and WebhookEndpoint.deliveries,
// which resolve only after the change committed, and a refusal there answered the
// payload as null with the error while the change stood (a client retrying without an
// idempotency key acted twice). The whole operation is refused instead, as a request
// error (no data): the field's error (INVALID_ARGUMENT with extensions.field, or the
// coercion error), with the field's path (response names, without list indexes) and
// location. Queries and subscriptions are checked the same way.
//
// The check coerces the arguments with the generated functions gqlgen's executor and
// the planner use, variables resolved, and validates them with the functions the
// resolvers call (toResolutionPage, checkEventArgs, toTokenPage, toEndpointPage,
// toDeliveryPage), so the rules cannot drift. An event cursor names its case: on the
// resolution of an action's payload the case is the action's input.resolutionId (for
// openResolution, the case it opens, which no cursor can name yet), so a cursor of
// another case's timeline is refused there too (no other field of a payload leads to a
// case). In queries and subscriptions the case is known only from the data, and events
// refuses such a cursor when it resolves, before anything changed.
// Fields under @skip(if: true) or @include(if: false) are not checked; each fragment is
// walked once.
type argumentCheck struct{ es *executableSchema }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = argumentCheck{}

func (argumentCheck) ExtensionName() string                   { return "ArgumentCheck" }
func (argumentCheck) Validate(graphql.ExecutableSchema) error { return nil }

// connectionCheck checks one connection field's coerced arguments.
type connectionCheck struct {
	coerce argsFunc
	check  func(args map[string]any) error
}

// connectionChecks are the connection fields by "Type.field".
var connectionChecks = map[string]connectionCheck{
	"Query.resolutions": {(*executionContext).field_Query_resolutions_args, func(a map[string]any) error {
		_, _, _, err := toResolutionPage(a["first"].(*int), a["after"].(*string), a["last"].(*int), a["before"].(*string),
			a["filter"].(*model.ResolutionFilter), a["orderBy"].(*model.ResolutionOrder))
		return err
	}},
	"Resolution.events": {(*executionContext).field_Resolution_events_args, func(a map[string]any) error {
		return checkEventArgs(a["first"].(*int), a["after"].(*string), a["last"].(*int), a["before"].(*string))
	}},
	"Query.tokens": {(*executionContext).field_Query_tokens_args, func(a map[string]any) error {
		_, _, err := toTokenPage(a["first"].(*int), a["after"].(*string), a["filter"].(*model.APITokenFilter))
		return err
	}},
	"Query.webhookEndpoints": {(*executionContext).field_Query_webhookEndpoints_args, func(a map[string]any) error {
		_, _, _, err := toEndpointPage(a["companyId"].(*string), a["first"].(*int), a["after"].(*string))
		return err
	}},
	"WebhookEndpoint.deliveries": {(*executionContext).field_WebhookEndpoint_deliveries_args, func(a map[string]any) error {
		_, _, _, err := toDeliveryPage(a["status"].(*model.WebhookDeliveryStatus), a["resolutionId"].(*string),
			a["first"].(*int), a["after"].(*string))
		return err
	}},
}

func (c argumentCheck) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil {
		return nil
	}
	w := &argWalk{ctx: ctx, es: c.es, opCtx: opCtx}
	return w.selections(opCtx.Operation.SelectionSet)
}

// argWalk walks an operation's selections, checking the connection fields it meets.
type argWalk struct {
	ctx    context.Context
	es     *executableSchema
	opCtx  *graphql.OperationContext
	ec     *executionContext // made at the first connection field
	walked map[string]bool   // fragments walked, by name and the cases below (their checks depend only on those and the variables)
	// actionCase is the case of the mutation field being walked (its input.resolutionId);
	// caseHere is the case of the Resolution whose fields are being walked, when known
	// before execution: actionCase on the action's payload, "" anywhere else.
	actionCase, caseHere string
	// path is the response names down to the field being walked: one stack, copied only
	// into an error (this runs on every operation, the list page's included).
	path ast.Path
}

func (w *argWalk) selections(set ast.SelectionSet) *gqlerror.Error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if ok, err := w.included(s.Directives); err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
			w.path = append(w.path, ast.PathName(s.Alias))
			outer := w.caseHere
			w.caseHere = ""
			if s.ObjectDefinition != nil {
				switch s.ObjectDefinition.Name {
				case "Mutation":
					w.actionCase = w.inputCase(s)
				case "ResolutionPayload":
					if s.Name == "resolution" {
						w.caseHere = w.actionCase
					}
				}
				if cc, ok := connectionChecks[s.ObjectDefinition.Name+"."+s.Name]; ok {
					if err := w.check(s, cc, outer); err != nil {
						return err
					}
				}
			}
			if err := w.selections(s.SelectionSet); err != nil {
				return err
			}
			w.caseHere = outer
			w.path = w.path[:len(w.path)-1]
		case *ast.InlineFragment:
			if ok, err := w.included(s.Directives); err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
			if err := w.selections(s.SelectionSet); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			key := s.Name
			if w.actionCase != "" {
				key += "\x00" + w.actionCase + "\x00" + w.caseHere
			}
			if ok, err := w.included(s.Directives); err != nil || !ok || s.Definition == nil || w.walked[key] {
				if err != nil {
					return err
				}
				continue
			}
			if w.walked == nil {
				w.walked = map[string]bool{}
			}
			w.walked[key] = true
			if err := w.selections(s.Definition.SelectionSet); err != nil {
				return err
			}
		}
	}
	return nil
}

// newCase stands for the case openResolution opens: no event cursor can name it before
// it exists (a replayed open writes nothing, so refusing its cursor costs nothing).
const newCase = "(the case this mutation opens)"

// inputCase returns the case a mutation field acts on: its input.resolutionId, newCase
// for openResolution, or "" when it has none.
func (w *argWalk) inputCase(f *ast.Field) string {
	if f.Name == "openResolution" {
		return newCase
	}
	arg := f.Arguments.ForName("input")
	if arg == nil {
		return ""
	}
	v, err := arg.Value.Value(w.opCtx.Variables)
	if err != nil {
		return ""
	}
	in, _ := v.(map[string]any)
	id, _ := in["resolutionId"].(string)
	return id
}

// check coerces and validates one connection field's arguments; the error is the one
// the field would report, at its path. caseID, when not "", is the case of the
// Resolution the field is on.
func (w *argWalk) check(f *ast.Field, cc connectionCheck, caseID string) *gqlerror.Error {
	if w.ec == nil {
		w.ec = newExecutionContext(w.opCtx, w.es, nil)
	}
	// Coercion errors name their argument's path under the field's, as they do when
	// the field resolves.
	ctx := w.ctx
	for _, el := range w.path {
		ctx = graphql.WithPathContext(ctx, graphql.NewPathWithField(string(el.(ast.PathName))))
	}
	args, err := cc.coerce(w.ec, ctx, f.ArgumentMap(w.opCtx.Variables))
	if err == nil {
		err = cc.check(args)
	}
	if err == nil && caseID != "" && f.ObjectDefinition.Name == "Resolution" && f.Name == "events" {
		for _, c := range []any{args["after"], args["before"]} {
			if c, _ := c.(*string); c != nil && err == nil {
				_, err = decodeEventCursor(*c, caseID)
			}
		}
	}
	if err == nil {
		return nil
	}
	var ge *gqlerror.Error
	if errors.As(err, &ge) {
		return ge
	}
	out := &gqlerror.Error{Err: err, Message: err.Error(), Path: append(ast.Path(nil), w.path...)}
	if f.Position != nil {
		out.Locations = []gqlerror.Location{{Line: f.Position.Line, Column: f.Position.Column}}
	}
	return out
}

// included evaluates @skip and @include as gqlgen's executor does. Their "if" is a
// Boolean!, but a variable of type Boolean with a default may stand for it and still be
// sent as null: that is refused here, as the argument's INVALID_ARGUMENT, since gqlgen's
// CollectFields (and the planner's compilation, which calls it) panics on it.
func (w *argWalk) included(dirs ast.DirectiveList) (bool, *gqlerror.Error) {
	cond := func(name string) (value, set bool, _ *gqlerror.Error) {
		d := dirs.ForName(name)
		if d == nil {
			return false, false, nil
		}
		arg := d.Arguments.ForName("if")
		if arg == nil {
			return false, false, nil
		}
		v, err := arg.Value.Value(w.opCtx.Variables)
		b, ok := v.(bool)
		if err == nil && !ok {
			de := dispute.Invalid("if", "the argument if of @"+name+" may not be null")
			out := &gqlerror.Error{Err: de, Message: de.Error(), Path: append(ast.Path(nil), w.path...)}
			if d.Position != nil {
				out.Locations = []gqlerror.Location{{Line: d.Position.Line, Column: d.Position.Column}}
			}
			return false, false, out
		}
		return b, err == nil && ok, nil
	}
	// Both are evaluated, as gqlgen does, whatever the first says.
	skip, skipSet, err := cond("skip")
	if err != nil {
		return false, err
	}
	include, includeSet, err := cond("include")
	if err != nil {
		return false, err
	}
	return !(skipSet && skip) && !(includeSet && !include), nil
}
