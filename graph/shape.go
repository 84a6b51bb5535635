package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// Shape limits, checked before validation: validation is quadratic in fields sharing a
// response name and in fragment spreads, and depth and complexity expand every fragment
// spread each time it appears, so hostile documents must be refused before either runs.
const (
	// maxSameResponseKey bounds fields with one response name in one selection set as
	// validation and execution merge it (see mergedSets).
	maxSameResponseKey = 50
	// maxSpreadsInSet bounds the fragment spreads merged into one selection set:
	// validation compares the fragments spread into one set pairwise, whatever their
	// fields.
	maxSpreadsInSet = 50
	// maxExpandedSelections bounds the selections of an operation with every fragment
	// spread expanded.
	maxExpandedSelections = 20000
	// maxValidationWork bounds the work of validating a whole document, as mergedSets
	// counts it.
	maxValidationWork = 20000
)

// shapeLimit refuses documents whose shape is abusive. It parses with a linear parser
// (gqlgen parses again, from its cache), and remembers documents it accepted.
type shapeLimit struct {
	maxTokens int
	accepted  *docCache[bool]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = shapeLimit{}

func newShapeLimit(maxTokens int) shapeLimit {
	return shapeLimit{maxTokens: maxTokens, accepted: newDocCache[bool](1000, docCacheBytes)}
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
		if _, ok := frags[f.Name]; !ok { // the first of duplicate names, as validation
			frags[f.Name] = f
		}
	}
	memo := map[string]int{}
	visiting := map[string]bool{}
	for _, op := range doc.Operations {
		if n := expanded(op.SelectionSet, frags, memo, visiting); n > maxExpandedSelections {
			return fmt.Sprintf("operation expands to more than %d selections through its fragments", maxExpandedSelections)
		}
	}
	// Validation checks every operation, then every fragment definition on its own,
	// each with the fragments it spreads; so does this, under one work budget.
	m := mergedSets{frags: frags}
	for _, op := range doc.Operations {
		if msg := m.check([]ast.SelectionSet{op.SelectionSet}, 1); msg != "" {
			return msg
		}
	}
	for _, f := range doc.Fragments {
		if msg := m.check([]ast.SelectionSet{f.SelectionSet}, 1); msg != "" {
			return msg
		}
	}
	return ""
}

// mergedSets checks selection sets as gqlgen executes them and gqlparser's
// OverlappingFieldsCanBeMerged compares them: the fields of inline fragments and of
// spread fragments belong to the set they appear in, and the selection sets of every
// field with one response name merge into one set below it. That rule compares every
// two fields with one response name in such a set, and every two fragment spreads in
// it, so both are bounded per merged set. A fragment spread again into the same merged
// set is walked once (the rule does not compare a fragment with itself), but each
// spread counts. work adds up, over the whole document, what validation does: a
// selection costs 1, and a field 1 more for each earlier field of its response name
// in its merged set (the comparisons); all of it again for each inline fragment around
// it, because validation collects and compares each inline fragment's fields again.
type mergedSets struct {
	frags map[string]*ast.FragmentDefinition
	work  int
}

// mergedSet is one merged selection set being collected.
type mergedSet struct {
	counts   map[string]int                // fields per response name
	keys     []string                      // response names with sub-selections, in order
	children map[string][]ast.SelectionSet // their selection sets
	seen     map[string]bool               // fragments already walked into this set
	spreads  int
}

// check checks the set merged from sets, nested level deep, and every merged set below
// it. Only fragments nest selections deeper than the parser allows (far past the depth
// limit, which refuses them after validation); a fragment cycle through fields nests
// them forever.
func (m *mergedSets) check(sets []ast.SelectionSet, level int) string {
	if level > parser.MaxNestingDepth {
		return fmt.Sprintf("selections nested more than %d deep through fragments", parser.MaxNestingDepth)
	}
	c := mergedSet{counts: map[string]int{}, children: map[string][]ast.SelectionSet{}, seen: map[string]bool{}}
	for _, set := range sets {
		if msg := m.collect(&c, set, 0); msg != "" {
			return msg
		}
	}
	for _, key := range c.keys {
		if msg := m.check(c.children[key], level+1); msg != "" {
			return msg
		}
	}
	return ""
}

// collect adds set, found inside depth inline fragments, to the merged set c.
func (m *mergedSets) collect(c *mergedSet, set ast.SelectionSet, depth int) string {
	for _, sel := range set {
		cost := 1 + depth
		var inner ast.SelectionSet // what sel brings into c
		innerDepth := depth
		switch s := sel.(type) {
		case *ast.Field:
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			if c.counts[key]++; c.counts[key] > maxSameResponseKey {
				return fmt.Sprintf("field %q is selected more than %d times in one selection set", key, maxSameResponseKey)
			}
			cost *= c.counts[key]
			if len(s.SelectionSet) > 0 {
				if _, ok := c.children[key]; !ok {
					c.keys = append(c.keys, key)
				}
				c.children[key] = append(c.children[key], s.SelectionSet)
			}
		case *ast.InlineFragment:
			inner, innerDepth = s.SelectionSet, depth+1
		case *ast.FragmentSpread:
			if c.spreads++; c.spreads > maxSpreadsInSet {
				return fmt.Sprintf("more than %d fragment spreads in one selection set", maxSpreadsInSet)
			}
			if f := m.frags[s.Name]; f != nil && !c.seen[s.Name] {
				c.seen[s.Name] = true
				inner = f.SelectionSet
			}
		}
		if m.work += cost; m.work > maxValidationWork {
			return fmt.Sprintf("document too costly to validate: over %d selections and field comparisons with its fragments expanded", maxValidationWork)
		}
		if msg := m.collect(c, inner, innerDepth); msg != "" {
			return msg
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
