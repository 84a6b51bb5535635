package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// introspectionCost adds the cost of an operation's introspection fields (__schema,
// __type) to the complexity the cost limit computed, and refuses the operation when the
// sum passes the limit; the rate limit then charges the sum. gqlgen's complexity walker
// skips __schema altogether (and prices __type's lists as one element), so GraphiQL's
// introspection query, 135 KB of answer, cost nothing, and a document of 60 aliases of
// it held a CPU for a second for one unit of any caller's budget, a caller without a
// token included.
//
// The schema is fixed, so the cost is exact: each field of the selection costs 1 for
// every value it returns (a list once per element), as the rest of the cost model
// prices what a field can return. GraphiQL's query costs about 11,000 (gqlgen's own
// count of __type, which takes lists as one element, stays on top: a slight
// overcount). Counting stops past the limit, so hostile nesting costs no more to price
// than the limit.
type introspectionCost struct {
	limit  int
	schema *ast.Schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = introspectionCost{}

func (introspectionCost) ExtensionName() string                   { return "IntrospectionCost" }
func (introspectionCost) Validate(graphql.ExecutableSchema) error { return nil }

func (c introspectionCost) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	op := oc.Doc.Operations.ForName(oc.OperationName)
	if op == nil {
		return nil
	}
	st := extension.GetComplexityStats(graphql.WithOperationContext(ctx, oc))
	if st == nil {
		return nil
	}
	w := introWalker{s: c.schema, vars: oc.Variables, left: c.limit - st.Complexity + 1}
	w.root(op.SelectionSet)
	if w.cost == 0 {
		return nil
	}
	st.Complexity += w.cost
	if st.Complexity > c.limit {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d (introspection included)", st.Complexity, c.limit)
		errcode.Set(err, "COMPLEXITY_LIMIT_EXCEEDED")
		return err
	}
	return nil
}

// introWalker counts the values an introspection selection returns, until left runs out.
type introWalker struct {
	s    *ast.Schema
	vars map[string]any
	cost int
	left int
}

func (w *introWalker) spend(n int) bool {
	w.cost += n
	w.left -= n
	return w.left > 0
}

// root finds the introspection fields of the query root (through fragments).
func (w *introWalker) root(set ast.SelectionSet) {
	for _, sel := range set {
		if w.left <= 0 {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			switch s.Name {
			case "__schema":
				w.field(s.SelectionSet, w.s)
			case "__type":
				name, _ := s.ArgumentMap(w.vars)["name"].(string)
				if def := w.s.Types[name]; def != nil {
					w.field(s.SelectionSet, &ast.Type{NamedType: def.Name})
				}
			}
		case *ast.FragmentSpread:
			if s.Definition != nil {
				w.root(s.Definition.SelectionSet)
			}
		case *ast.InlineFragment:
			w.root(s.SelectionSet)
		}
	}
}

// field counts one object value v (a *ast.Schema, a type as *ast.Type, *ast.FieldDefinition
// for a field or an input value, *ast.EnumValueDefinition or *ast.DirectiveDefinition)
// with the selection set.
func (w *introWalker) field(set ast.SelectionSet, v any) {
	for _, sel := range set {
		if w.left <= 0 {
			return
		}
		switch s := sel.(type) {
		case *ast.FragmentSpread:
			if s.Definition != nil {
				w.field(s.Definition.SelectionSet, v)
			}
			continue
		case *ast.InlineFragment:
			w.field(s.SelectionSet, v)
			continue
		case *ast.Field:
			if !w.spend(1) {
				return
			}
			for _, child := range w.children(s.Name, v) {
				w.field(s.SelectionSet, child)
				if w.left <= 0 {
					return
				}
			}
		}
	}
}

// children are the object values a field of v returns (none for a scalar).
func (w *introWalker) children(name string, v any) []any {
	var out []any
	switch v := v.(type) {
	case *ast.Schema:
		switch name {
		case "types":
			for _, d := range v.Types {
				out = append(out, &ast.Type{NamedType: d.Name})
			}
		case "queryType", "mutationType", "subscriptionType":
			out = append(out, &ast.Type{NamedType: "Query"}) // one type, or null
		case "directives":
			for _, d := range v.Directives {
				out = append(out, d)
			}
		}
	case *ast.Type:
		if v.NamedType == "" || v.NonNull {
			if name == "ofType" {
				if v.NonNull {
					out = append(out, &ast.Type{NamedType: v.NamedType, Elem: v.Elem})
				} else {
					out = append(out, v.Elem)
				}
			}
			return out
		}
		def := w.s.Types[v.NamedType]
		if def == nil {
			return nil
		}
		switch name {
		case "fields", "inputFields":
			for _, f := range def.Fields {
				out = append(out, f)
			}
		case "interfaces":
			for _, i := range def.Interfaces {
				out = append(out, &ast.Type{NamedType: i})
			}
		case "possibleTypes":
			for _, p := range w.s.GetPossibleTypes(def) {
				out = append(out, &ast.Type{NamedType: p.Name})
			}
		case "enumValues":
			for _, e := range def.EnumValues {
				out = append(out, e)
			}
		}
	case *ast.FieldDefinition:
		switch name {
		case "args":
			for _, a := range v.Arguments {
				out = append(out, &ast.FieldDefinition{Name: a.Name, Type: a.Type})
			}
		case "type":
			out = append(out, v.Type)
		}
	case *ast.DirectiveDefinition:
		switch name {
		case "args":
			for _, a := range v.Arguments {
				out = append(out, &ast.FieldDefinition{Name: a.Name, Type: a.Type})
			}
		case "locations":
			w.spend(len(v.Locations))
		}
	}
	return out
}
