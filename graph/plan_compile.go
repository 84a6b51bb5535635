package graph

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// A plan is a query operation compiled against the read schema: for each selection set,
// the fields gqlgen's CollectFields would execute there (fragments spread, @skip and
// @include applied, same response names merged), each with what computes it, its
// nullability, the source location errors name, and its arguments. A plan depends on
// the document, the operation and the values of the operation's Boolean variables
// (the only ones that can reach @skip and @include); other variables are read per
// request.

// selPlan is a compiled selection set on one object type.
type selPlan struct {
	typ    objType
	fields []*fieldPlan
}

// fieldPlan is one response field of a selection set.
type fieldPlan struct {
	id    int    // slot of its per-request arguments
	key   string // `"alias":`
	alias string
	kind  fieldKind
	// nonNull: the value may not be null; elemNonNull: nor may a list's elements.
	nonNull, elemNonNull bool
	loc                  gqlerror.Location
	// sel is the selection on the field's object type (element type for lists).
	sel *selPlan
	// byType holds, for a Node position, the selection applied to each concrete type.
	byType [numObjTypes]*selPlan
	// args are the coerced arguments when they use no variables; else argsOf computes
	// them per request from field.
	args    map[string]any
	dynamic bool
	field   graphql.CollectedField
}

// plan is a compiled operation.
type plan struct {
	root    *selPlan
	dynamic []*fieldPlan // fields whose arguments use variables
	fields  int          // number of fieldPlans (argument slots)
	// sizeHint is the size of the last response, to allocate the buffer once.
	sizeHint atomic.Int64
}

// unsupported is why an operation cannot be planned: the fallback metric's reason.
type unsupported string

const (
	reasonUnsupportedField unsupported = "unsupported_field"
	reasonIntrospection    unsupported = "introspection"
	reasonDefer            unsupported = "defer"
	reasonArgument         unsupported = "argument_error"
	reasonMissingRow       unsupported = "missing_row"
	reasonDatabase         unsupported = "db_error"
	reasonTooLarge         unsupported = "response_budget"
	reasonPanic            unsupported = "panic"
)

// fallbackReasons lists every reason, so the metric shows each at zero from the start.
var fallbackReasons = []unsupported{reasonUnsupportedField, reasonIntrospection, reasonDefer, reasonArgument,
	reasonMissingRow, reasonDatabase, reasonTooLarge, reasonPanic}

// compiler builds one plan.
type compiler struct {
	rs     *readSchema
	opCtx  *graphql.OperationContext
	ec     *executionContext
	plan   *plan
	reason unsupported
}

// compile plans the operation of opCtx, or says why it cannot.
func (rs *readSchema) compile(ctx context.Context, ec *executionContext, opCtx *graphql.OperationContext) (*plan, unsupported) {
	c := &compiler{rs: rs, opCtx: opCtx, ec: ec, plan: &plan{}}
	c.plan.root = c.selection(ctx, tQuery, opCtx.Operation.SelectionSet)
	if c.reason != "" {
		return nil, c.reason
	}
	return c.plan, ""
}

func (c *compiler) fail(r unsupported) *selPlan {
	if c.reason == "" {
		c.reason = r
	}
	return nil
}

// selection compiles a selection set applied to an object of type t.
func (c *compiler) selection(ctx context.Context, t objType, set ast.SelectionSet) *selPlan {
	if c.reason != "" {
		return nil
	}
	specs := c.rs.fields[typeNames[t]]
	sp := &selPlan{typ: t}
	for _, f := range graphql.CollectFields(c.opCtx, set, c.rs.implementor[t]) {
		if f.IsDeferred() {
			return c.fail(reasonDefer)
		}
		fp := &fieldPlan{id: c.plan.fields, key: `"` + f.Alias + `":`, alias: f.Alias, field: f}
		c.plan.fields++
		if f.Position != nil {
			fp.loc = gqlerror.Location{Line: f.Position.Line, Column: f.Position.Column}
		}
		if f.Name == "__typename" {
			fp.kind, fp.nonNull = fTypename, true
			sp.fields = append(sp.fields, fp)
			continue
		}
		if strings.HasPrefix(f.Name, "__") {
			return c.fail(reasonIntrospection)
		}
		spec, ok := specs[f.Name]
		if !ok || f.Definition == nil {
			return c.fail(reasonUnsupportedField)
		}
		fp.kind = spec.kind
		typ := f.Definition.Type
		fp.nonNull = typ.NonNull
		if typ.Elem != nil {
			fp.elemNonNull = typ.Elem.NonNull
		}
		if len(spec.args) > 0 && !c.arguments(ctx, fp) {
			return nil
		}
		if child := objTypeNamed(typ.Name()); child == tNode {
			for _, nt := range nodeTypes {
				if fp.byType[nt] = c.selection(ctx, nt, f.Selections); c.reason != "" {
					return nil
				}
			}
		} else if child != tNone {
			if fp.sel = c.selection(ctx, child, f.Selections); c.reason != "" {
				return nil
			}
		}
		sp.fields = append(sp.fields, fp)
	}
	return sp
}

// arguments coerces fp's arguments now when they use no variables; otherwise they are
// coerced per request.
func (c *compiler) arguments(ctx context.Context, fp *fieldPlan) bool {
	for _, a := range fp.field.Arguments {
		if usesVariables(a.Value) {
			fp.dynamic = true
			c.plan.dynamic = append(c.plan.dynamic, fp)
			return true
		}
	}
	args, err := argsFuncs[fp.kind](c.ec, ctx, fp.field.ArgumentMap(nil))
	if err != nil {
		c.fail(reasonArgument)
		return false
	}
	fp.args = args
	return true
}

// usesVariables reports whether a value is or contains a variable.
func usesVariables(v *ast.Value) bool {
	if v == nil {
		return false
	}
	if v.Kind == ast.Variable {
		return true
	}
	for _, ch := range v.Children {
		if usesVariables(ch.Value) {
			return true
		}
	}
	return false
}

// argumentsOf returns the coerced arguments of every field for this request, or false
// when one does not coerce (gqlgen then reports it its own way).
func (p *plan) argumentsOf(ctx context.Context, ec *executionContext, vars map[string]any) ([]map[string]any, bool) {
	if len(p.dynamic) == 0 {
		return nil, true
	}
	out := make([]map[string]any, p.fields)
	for _, fp := range p.dynamic {
		args, err := argsFuncs[fp.kind](ec, ctx, fp.field.ArgumentMap(vars))
		if err != nil {
			return nil, false
		}
		out[fp.id] = args
	}
	return out, true
}
