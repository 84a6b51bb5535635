package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// Shape limits, checked before validation: validation is quadratic in fields sharing a
// response name, and depth and complexity expand every fragment spread each time it
// appears, so hostile documents must be refused before either runs.
const (
	// maxSameResponseKey bounds fields with one response name in one selection set.
	maxSameResponseKey = 50
	// maxExpandedSelections bounds the selections of an operation with every fragment
	// spread expanded.
	maxExpandedSelections = 20000
)

// shapeLimit refuses documents whose shape is abusive. It parses with a linear parser
// (gqlgen parses again, from its cache), and remembers documents it accepted.
type shapeLimit struct {
	maxTokens int
	accepted  *lru.LRU[bool]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = shapeLimit{}

func newShapeLimit(maxTokens int) shapeLimit {
	return shapeLimit{maxTokens: maxTokens, accepted: lru.New[bool](1000)}
}

func (shapeLimit) ExtensionName() string                   { return "ShapeLimit" }
func (shapeLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (s shapeLimit) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if params.Query == "" {
		return nil
	}
	if _, ok := s.accepted.Get(ctx, params.Query); ok {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: params.Query}, s.maxTokens)
	if err != nil {
		return nil // gqlgen reports parse errors itself
	}
	if msg := checkShape(doc); msg != "" {
		e := gqlerror.Errorf("%s", msg)
		errcode.Set(e, errcode.ValidationFailed)
		return e
	}
	s.accepted.Add(ctx, params.Query, true)
	return nil
}

// checkShape returns why a document is refused, or "".
func checkShape(doc *ast.QueryDocument) string {
	frags := map[string]*ast.FragmentDefinition{}
	for _, f := range doc.Fragments {
		frags[f.Name] = f
	}
	for _, op := range doc.Operations {
		if msg := sameKeys(op.SelectionSet); msg != "" {
			return msg
		}
	}
	for _, f := range doc.Fragments {
		if msg := sameKeys(f.SelectionSet); msg != "" {
			return msg
		}
	}
	memo := map[string]int{}
	visiting := map[string]bool{}
	for _, op := range doc.Operations {
		if n := expanded(op.SelectionSet, frags, memo, visiting); n > maxExpandedSelections {
			return fmt.Sprintf("operation expands to more than %d selections through its fragments", maxExpandedSelections)
		}
	}
	return ""
}

// sameKeys checks every selection set below set for repeated response names.
func sameKeys(set ast.SelectionSet) string {
	counts := map[string]int{}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			if counts[key]++; counts[key] > maxSameResponseKey {
				return fmt.Sprintf("field %q is selected more than %d times in one selection set", key, maxSameResponseKey)
			}
			if msg := sameKeys(s.SelectionSet); msg != "" {
				return msg
			}
		case *ast.InlineFragment:
			if msg := sameKeys(s.SelectionSet); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// expanded counts the selections of set with fragment spreads expanded, memoized per
// fragment and saturating past the limit; cycles count as nothing (validation refuses
// them).
func expanded(set ast.SelectionSet, frags map[string]*ast.FragmentDefinition, memo map[string]int, visiting map[string]bool) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			n += 1 + expanded(s.SelectionSet, frags, memo, visiting)
		case *ast.InlineFragment:
			n += expanded(s.SelectionSet, frags, memo, visiting)
		case *ast.FragmentSpread:
			if v, ok := memo[s.Name]; ok {
				n += v
				break
			}
			f := frags[s.Name]
			if f == nil || visiting[s.Name] {
				break
			}
			visiting[s.Name] = true
			v := expanded(f.SelectionSet, frags, memo, visiting)
			visiting[s.Name] = false
			memo[s.Name] = v
			n += v
		}
		if n > maxExpandedSelections {
			return n
		}
	}
	return n
}

// rulesWithoutSuggestions is the default validation rule set with the rules that name
// schema elements in "did you mean" hints replaced by their quiet versions.
func rulesWithoutSuggestions() *rules.Rules {
	r := rules.NewDefaultRules()
	for _, q := range []core.Rule{rules.FieldsOnCorrectTypeRuleWithoutSuggestions, rules.KnownArgumentNamesRuleWithoutSuggestions,
		rules.KnownTypeNamesRuleWithoutSuggestions, rules.ValuesOfCorrectTypeRuleWithoutSuggestions, rules.ScalarLeafsRuleWithoutSuggestions} {
		r.RemoveRule(strings.TrimSuffix(q.Name, "WithoutSuggestions"))
		r.AddRule(q.Name, q.RuleFunc)
	}
	return r
}

// introspectionOff refuses __schema and __type when introspection is disabled, as a
// client error rather than gqlgen's execution-time failure.
type introspectionOff struct{}

func (introspectionOff) ExtensionName() string                   { return "IntrospectionOff" }
func (introspectionOff) Validate(graphql.ExecutableSchema) error { return nil }

func (introspectionOff) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	op := oc.Doc.Operations.ForName(oc.OperationName)
	if op == nil {
		return nil
	}
	if usesIntrospection(op.SelectionSet, map[string]bool{}) {
		return &gqlerror.Error{Message: "introspection is disabled on this server",
			Extensions: map[string]any{"code": "FORBIDDEN"}}
	}
	return nil
}

func usesIntrospection(set ast.SelectionSet, seen map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if usesIntrospection(s.SelectionSet, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && !seen[s.Name] {
				seen[s.Name] = true
				if usesIntrospection(s.Definition.SelectionSet, seen) {
					return true
				}
			}
		}
	}
	return false
}
