package graph

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// compileFor compiles query against schema s with the planner's table rs.
func compileFor(t *testing.T, s *ast.Schema, rs *readSchema, query string, vars map[string]any) (*plan, unsupported) {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(s, query)
	if errs != nil {
		t.Fatalf("invalid query: %v", errs)
	}
	opCtx := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: vars, RawQuery: query}
	ec := newExecutionContext(opCtx, NewExecutableSchema(Config{}).(*executableSchema), nil)
	return rs.compile(context.Background(), ec, opCtx)
}

func TestCompileCoversTheReadSchema(t *testing.T) {
	s := NewExecutableSchema(Config{}).Schema()
	rs := newReadSchema(s)
	// Every field of readFields is in the schema as written there.
	for typ, fields := range readFields {
		for name := range fields {
			if _, ok := rs.fields[typ][name]; !ok {
				t.Errorf("%s.%s: the schema declares it differently (type or arguments): the planner would fall back", typ, name)
			}
		}
	}
	cases := []struct {
		query  string
		vars   map[string]any
		reason unsupported
	}{
		{`{ resolutions(first: 2) { edges { node { id company { title } } } } }`, nil, ""},
		{`{ __schema { types { name } } }`, nil, reasonIntrospection},
		{`{ __type(name: "Node") { name } }`, nil, reasonIntrospection},
		{`{ __typename viewer { __typename role } }`, nil, ""},
		{`{ resolutions { nodes { id ... @defer { status } } } }`, nil, reasonDefer},
		{`{ resolutions(filter: {createdBefore: "not a date"}) { nodes { id } } }`, nil, reasonArgument},
		{`query($b: Boolean!) { viewer { role @include(if: $b) } }`, map[string]any{"b": false}, ""},
		{`{ resolutions(first: 20, filter: {waitingOnMe: true}) { totalCount nodes { events(first: 5) { totalCount } } }
			resolutionSummary { total open waitingOnMe } }`, nil, ""},
		{`{ tokens(first: 5, filter: {includeRevoked: true}) { edges { cursor node { id label user { email } company { id } } }
			pageInfo { hasNextPage } } }`, nil, ""},
		// Webhook endpoints are left to gqlgen's executor (README, "Planned execution").
		{`{ webhookEndpoints { nodes { id url } } }`, nil, reasonUnsupportedField},
	}
	for _, c := range cases {
		p, reason := compileFor(t, s, rs, c.query, c.vars)
		if reason != c.reason || (reason == "") != (p != nil) {
			t.Errorf("%s: compiled %v, reason %q; want reason %q", c.query, p != nil, reason, c.reason)
		}
	}
}

// TestPlannerKnowsTheReadSchema: every field a query can reach is in the planner's
// table, but those under the webhook endpoints' root fields, which gqlgen's executor
// answers (README, "Planned execution"). A field added to the schema fails this test
// until the planner learns it (plan_schema.go says how) or it is listed here.
func TestPlannerKnowsTheReadSchema(t *testing.T) {
	s := NewExecutableSchema(Config{}).Schema()
	rs := newReadSchema(s)
	leftToGqlgen := map[string]bool{"Query.webhookEndpoints": true, "Query.webhookEndpoint": true}
	seen := map[string]bool{}
	var walk func(name string)
	walk = func(name string) {
		def := s.Types[name]
		if seen[name] || def == nil {
			return
		}
		seen[name] = true
		switch def.Kind {
		case ast.Interface:
			for _, impl := range s.GetPossibleTypes(def) {
				walk(impl.Name)
			}
		case ast.Object:
			for _, f := range def.Fields {
				if strings.HasPrefix(f.Name, "__") || leftToGqlgen[name+"."+f.Name] {
					continue
				}
				if _, ok := rs.fields[name][f.Name]; !ok {
					t.Errorf("%s.%s (%s): the planner does not know it, so every query selecting it falls back", name, f.Name, f.Type)
				}
				walk(f.Type.Name())
			}
		}
	}
	walk("Query")
	if len(seen) < 20 {
		t.Fatalf("walked %d types only", len(seen))
	}
}

// TestUnknownFieldsFallBack: a field the planner does not know (the schema grew) makes
// the whole operation fall back, and a known field whose arguments changed is dropped
// from the planner's table when the server starts.
func TestUnknownFieldsFallBack(t *testing.T) {
	s := NewExecutableSchema(Config{}).Schema()
	rs := newReadSchema(s)
	delete(rs.fields["Company"], "title") // as if Company.title were new
	if _, reason := compileFor(t, s, rs, `{ resolutions { nodes { company { id title } } } }`, nil); reason != reasonUnsupportedField {
		t.Errorf("reason %q, want %q", reason, reasonUnsupportedField)
	}
	if _, reason := compileFor(t, s, rs, `{ node(id: "biz_x") { ... on Company { title } } }`, nil); reason != reasonUnsupportedField {
		t.Errorf("through Node: reason %q, want %q", reason, reasonUnsupportedField)
	}

	grown, err := gqlparser.LoadSchema(&ast.Source{Input: `
		interface Node { id: ID! }
		type Resolution implements Node { id: ID! events(first: Int, after: String, last: Int, before: String, orderBy: String): String! status: String! }
		type Query { resolution(id: ID!): Resolution }`})
	if err != nil {
		t.Fatal(err)
	}
	rs = newReadSchema(grown)
	if _, ok := rs.fields["Resolution"]["events"]; ok {
		t.Errorf("events with a new argument (and another type) kept")
	}
	if _, ok := rs.fields["Resolution"]["status"]; ok {
		t.Errorf("status of another type kept")
	}
	if _, ok := rs.fields["Resolution"]["id"]; !ok {
		t.Errorf("id dropped")
	}
}

func TestVariantKeys(t *testing.T) {
	doc, errs := gqlparser.LoadQuery(NewExecutableSchema(Config{}).Schema(),
		`query Q($a: Boolean!, $b: Boolean = true, $n: Int) { viewer { role @include(if: $a) scopes @skip(if: $a) user @include(if: $b) { id } } resolutions(first: $n) { nodes { id } } }`)
	if errs != nil {
		t.Fatal(errs)
	}
	op := doc.Operations[0]
	key := func(vars map[string]any) variantKey {
		k, ok := variantOf(&graphql.OperationContext{Operation: op, OperationName: "Q", Variables: vars})
		if !ok {
			t.Fatal("not cacheable")
		}
		return k
	}
	if key(map[string]any{"a": true, "n": 1}) != key(map[string]any{"a": true, "n": 5}) {
		t.Errorf("an Int variable changed the variant")
	}
	if key(map[string]any{"a": true}) == key(map[string]any{"a": false}) {
		t.Errorf("a Boolean variable did not change the variant")
	}
	if key(map[string]any{"a": true, "b": nil}) == key(map[string]any{"a": true, "b": false}) {
		t.Errorf("null and false share a variant")
	}
}

// TestPlannerPanicFallsBack: a panic in the planner is logged and becomes a fallback.
func TestPlannerPanicFallsBack(t *testing.T) {
	var logs strings.Builder
	s := &plannedSchema{r: &Resolver{Logger: slog.New(slog.NewTextHandler(&logs, nil))}}
	var reason unsupported
	var p *plan
	s.guard(context.Background(), &reason, func() {
		p = &plan{}
		var m map[string]int
		m["boom"]++ // a nil map write
	})
	if reason != reasonPanic || !strings.Contains(logs.String(), "planned execution panicked") {
		t.Errorf("reason %q, logs %q", reason, logs.String())
	}
	_ = p
}
