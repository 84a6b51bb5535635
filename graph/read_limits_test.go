package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/graph"
	"resolutioncenter/ids"
)

// rdNested returns an introspection query nesting depth levels of selections: __type,
// fields, type, then ofType until the depth is reached, then name.
func rdNested(depth int) string {
	var b strings.Builder
	b.WriteString(`{ __type(name: "Query") { fields { type { `)
	for range depth - 4 {
		b.WriteString("ofType { ")
	}
	b.WriteString("name")
	b.WriteString(strings.Repeat(" }", depth-1))
	b.WriteString(" }")
	return b.String()
}

// rdNestedFragments nests the same depth through named fragments, one level each.
func rdNestedFragments(depth int) string {
	var b strings.Builder
	b.WriteString(`{ __type(name: "Query") { fields { type { ...F0 } } } }`)
	n := depth - 3 // levels left below type
	for i := range n - 1 {
		b.WriteString("\nfragment F")
		b.WriteString(strconv.Itoa(i))
		b.WriteString(" on __Type { ofType { ...F")
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(" } }")
	}
	b.WriteString("\nfragment F")
	b.WriteString(strconv.Itoa(n - 1))
	b.WriteString(" on __Type { name }")
	return b.String()
}

func TestReadLimits(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		u, c := dbtest.MustUser(t, d), dbtest.MustCompany(t, d)
		for i := range 3 {
			dbtest.MustOpen(t, d, dbtest.MustPayment(t, d, u, c, ""), dispute.IssueItemNotReceived, rdPageBase.Add(time.Duration(i)*time.Minute))
		}
		lim := graph.DefaultLimits
		lim.MaxBodyBytes = 4096
		lim.MaxComplexity = 2000
		small := apptest.New(t, d, apptest.Options{Limits: &lim})
		def := apptest.New(t, d)
		tok := apptest.PlatformToken

		t.Run("body over the cap", func(t *testing.T) {
			q := `{ viewer { role } } # ` + strings.Repeat("x", 5000)
			body, _ := json.Marshal(map[string]any{"query": q})
			hdr := map[string]string{"Authorization": "Bearer " + tok}
			status, raw := rdPost(t, small.URL, hdr, bytes.NewReader(body), int64(len(body)))
			if status != http.StatusRequestEntityTooLarge {
				t.Fatalf("declared length: %d %s", status, raw)
			}
			// Without a declared length (chunked), the reader cap must catch it too.
			status, raw = rdPost(t, small.URL, hdr, io.MultiReader(bytes.NewReader(body)), -1)
			if status != http.StatusRequestEntityTooLarge {
				t.Fatalf("chunked: %d %s", status, raw)
			}
			// Just under the cap is fine.
			ok := `{ viewer { role } } # ` + strings.Repeat("x", 3900)
			body, _ = json.Marshal(map[string]any{"query": ok})
			status, raw = rdPost(t, small.URL, hdr, bytes.NewReader(body), int64(len(body)))
			if status != http.StatusOK || !strings.Contains(string(raw), `"PLATFORM"`) {
				t.Fatalf("under the cap: %d %s", status, raw)
			}
			rdMustHealthy(t, small)
		})

		t.Run("parser token limit", func(t *testing.T) {
			q := "{ " + strings.Repeat("__typename ", graph.DefaultLimits.MaxTokens+10) + "}"
			r := def.Do(t, tok, q, nil)
			rdWantCode(t, r, "GRAPHQL_PARSE_FAILED") // the lexer stops: the document does not parse
			rdWantNoData(t, r)
			rdMustHealthy(t, def)
			// Well under the limit, the same shape answers (up to the shape limit on
			// repeated response names, 50).
			var out struct {
				Typename string `json:"__typename"`
			}
			def.MustData(t, tok, "{ "+strings.Repeat("__typename ", 50)+"}", nil, &out)
		})

		t.Run("depth", func(t *testing.T) {
			for _, q := range []string{rdNested(20), rdNestedFragments(20), rdNested(graph.DefaultLimits.MaxDepth + 1)} {
				for _, token := range []string{tok, ""} {
					r := def.Do(t, token, q, nil)
					rdWantCode(t, r, "GRAPHQL_VALIDATION_FAILED")
					rdWantNoData(t, r)
				}
			}
			// At the limit the same query answers.
			for _, q := range []string{rdNested(graph.DefaultLimits.MaxDepth), rdNestedFragments(graph.DefaultLimits.MaxDepth)} {
				def.MustData(t, tok, q, nil, nil)
			}
			rdMustHealthy(t, def)
		})

		t.Run("repeated response names through fragments", func(t *testing.T) {
			// gqlgen merges inline fragments, fragment spreads and the selections of
			// fields of one response name into one selection set, and validation
			// compares its fields of one name pairwise: the limits count the merged set,
			// before validation runs.
			a := func(n int) string { return strings.Repeat("a: __typename ", n) }
			name := func(n int) string { return strings.Repeat("a: name ", n) }
			// Validation checks every operation of a document with its fragments.
			manyOps := `fragment F on Query { x: __type(name: "Query") { ` + name(50) + `} y: __type(name: "Query") { ` + name(50) + "} }\n"
			for i := range 8 {
				manyOps += "query Q" + strconv.Itoa(i) + " { ...F }\n"
			}
			const sameName = `field "a" is selected more than 50 times in one selection set`
			refused := []struct{ name, query, msg string }{
				{"51 fields", "{ " + a(51) + "}", sameName},
				{"inline fragments 26 + 25", "{ ...{ " + a(26) + "} ...{ " + a(25) + "} }", sameName},
				{"96 inline fragments of 50", "{ " + strings.Repeat("...{ "+a(50)+"} ", 96) + "}", sameName},
				{"a field beside a fragment of 50", "{ a: __typename ...F } fragment F on Query { " + a(50) + "}", sameName},
				{"two fragments 26 + 25", "{ ...F ...G } fragment F on Query { " + a(26) + "} fragment G on Query { " + a(25) + "}", sameName},
				{"nested fragments 17 x 3", "{ ...F } fragment F on Query { " + a(17) + "...{ ...G } } fragment G on Query { " + a(17) +
					"...H } fragment H on Query { " + a(17) + "}", sameName},
				{"fields of one name merge their selections", `{ t: __type(name: "Query") { ` + name(26) + `} t: __type(name: "Query") { ` +
					name(25) + "} }", sameName},
				{"one fragment spread 51 times", "{ " + strings.Repeat("...F ", 51) + "} fragment F on Query { a: __typename }",
					"more than 50 fragment spreads in one selection set"},
				{"96 spreads of a fragment of 50", "{ " + strings.Repeat("...F ", 96) + "} fragment F on Query { " + a(50) + "}",
					"more than 50 fragment spreads in one selection set"},
				{"inline fragments nested 500 deep", "{ " + strings.Repeat("...{ ", 500) + a(50) + strings.Repeat("} ", 500) + "}",
					"too costly to validate"},
				{"8 operations sharing a fragment", manyOps, "too costly to validate"},
				{"a fragment cycle through a field", `{ __type(name: "Query") { ...T } } fragment T on __Type { ofType { ...T } }`,
					"nested more than 1000 deep"},
			}
			for _, c := range refused {
				t.Run(c.name, func(t *testing.T) {
					for _, token := range []string{tok, ""} {
						r := def.Do(t, token, c.query, nil)
						rdWantCode(t, r, "GRAPHQL_VALIDATION_FAILED")
						rdWantNoData(t, r)
						if !strings.Contains(r.Errors[0].Message, c.msg) {
							t.Fatalf("want %q, got %+v", c.msg, r.Errors)
						}
					}
				})
			}
			// At the limit the same shapes answer; a fragment spread twice into one set
			// is merged once (validation does not compare a fragment with itself).
			for _, q := range []string{
				"{ ...{ " + a(25) + "} ...{ " + a(25) + "} }",
				"{ ...F ...F } fragment F on Query { " + a(50) + "}",
			} {
				var out struct{ A string }
				def.MustData(t, tok, q, nil, &out)
				if out.A != "Query" {
					t.Fatalf("%s: a = %q", q, out.A)
				}
			}
			rdMustHealthy(t, def)
		})

		t.Run("complexity", func(t *testing.T) {
			heavy := `{ resolutions(first: 100) { edges { node { events(first: 100) { edges { node { id } } } } } } }`
			r := small.Do(t, tok, heavy, nil)
			rdWantCode(t, r, "GRAPHQL_VALIDATION_FAILED")
			rdWantNoData(t, r)
			// The page size counts when it comes from a variable too.
			q := `query($n: Int, $m: Int) { resolutions(first: $n) { edges { node { events(first: $m) { edges { node { id } } } } } } }`
			r = small.Do(t, tok, q, map[string]any{"n": 100, "m": 100})
			rdWantCode(t, r, "GRAPHQL_VALIDATION_FAILED")
			var out struct {
				Resolutions struct {
					Edges []struct{} `json:"edges"`
				} `json:"resolutions"`
			}
			small.MustData(t, tok, q, map[string]any{"n": 3, "m": 5}, &out)
			if len(out.Resolutions.Edges) != 3 {
				t.Fatalf("small query returned %d cases", len(out.Resolutions.Edges))
			}
			// resolutionEvents counts as a list of 50, nodes as a list of its IDs.
			r = small.Do(t, tok, `{ resolutions(first: 50) { nodes { resolutionEvents { id details } } } }`, nil)
			rdWantCode(t, r, "GRAPHQL_VALIDATION_FAILED")
			many := make([]string, 100)
			for i := range many {
				many[i] = ids.New(ids.Resolution)
			}
			r = small.Do(t, tok, `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Resolution { events(first: 100) { nodes { id } } } } }`,
				map[string]any{"ids": many})
			rdWantCode(t, r, "GRAPHQL_VALIDATION_FAILED")
			rdMustHealthy(t, small)
		})

		caseID := ids.New(ids.Resolution)
		bad := []struct {
			name  string
			query string
			vars  map[string]any
			code  string
		}{
			{"unknown field", `{ resolutions { edges { node { id secret } } } }`, nil, "GRAPHQL_VALIDATION_FAILED"},
			{"unknown root field", `{ cases { id } }`, nil, "GRAPHQL_VALIDATION_FAILED"},
			{"syntax error", `{ resolutions { edges { node { id } }`, nil, "GRAPHQL_PARSE_FAILED"},
			{"unknown argument", `{ resolutions(limit: 5) { nodes { id } } }`, nil, "GRAPHQL_VALIDATION_FAILED"},
			{"bad enum", `{ resolutions(filter: {statuses: [OPEN]}) { nodes { id } } }`, nil, "GRAPHQL_VALIDATION_FAILED"},
			{"wrong variable type (string for Int)", `query($n: Int) { resolutions(first: $n) { nodes { id } } }`,
				map[string]any{"n": "five"}, "GRAPHQL_VALIDATION_FAILED"},
			{"wrong variable type (object for ID)", `query($id: ID!) { resolution(id: $id) { id } }`,
				map[string]any{"id": map[string]any{"x": 1}}, "GRAPHQL_VALIDATION_FAILED"},
			{"Int beyond 32 bits", `query($n: Int) { resolutions(first: $n) { nodes { id } } }`,
				map[string]any{"n": int64(1) << 40}, "INVALID_ARGUMENT"},
			{"missing required variable", `query($id: ID!) { resolution(id: $id) { id } }`, nil, "GRAPHQL_VALIDATION_FAILED"},
			{"variable of the wrong declared type", `query($id: Int!) { resolution(id: $id) { id } }`,
				map[string]any{"id": 5}, "GRAPHQL_VALIDATION_FAILED"},
			{"bad DateTime", `query($f: ResolutionFilter) { resolutions(filter: $f) { nodes { id } } }`,
				map[string]any{"f": map[string]any{"createdBefore": "yesterday"}}, "INVALID_ARGUMENT"},
			{"bad DateTime literal", `{ resolutions(filter: {dueBefore: "2026-13-45"}) { nodes { id } } }`, nil, "INVALID_ARGUMENT"},
			{"DateTime of the wrong JSON type", `query($f: ResolutionFilter) { resolutionSummary(filter: $f) { total } }`,
				map[string]any{"f": map[string]any{"createdAfter": 1700000000}}, "INVALID_ARGUMENT"},
			{"bad enum variable", `query($f: ResolutionFilter) { resolutions(filter: $f) { nodes { id } } }`,
				map[string]any{"f": map[string]any{"outcome": "LOST"}}, "GRAPHQL_VALIDATION_FAILED"},
			{"malformed resolution ID", `query($id: ID!) { resolution(id: $id) { id } }`, map[string]any{"id": "reso_nope"}, "INVALID_ARGUMENT"},
			{"resolution ID of another type", `query($id: ID!) { resolution(id: $id) { id } }`, map[string]any{"id": ids.New(ids.Company)}, "INVALID_ARGUMENT"},
			{"empty resolution ID", `query($id: ID!) { resolution(id: $id) { id } }`, map[string]any{"id": ""}, "INVALID_ARGUMENT"},
			{"malformed node ID", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "garbage"}, "INVALID_ARGUMENT"},
			{"node ID with a bad ULID", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "reso_" + strings.Repeat("z", 26)}, "INVALID_ARGUMENT"},
			{"token ID as node", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": ids.New(ids.Token)}, "INVALID_ARGUMENT"},
			{"one malformed ID among nodes", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
				map[string]any{"ids": []string{caseID, "x"}}, "INVALID_ARGUMENT"},
			{"malformed filter.companyId", `query($f: ResolutionFilter) { resolutions(filter: $f) { nodes { id } } }`,
				map[string]any{"f": map[string]any{"companyId": "acme"}}, "INVALID_ARGUMENT"},
			{"filter.companyId of another type", `query($f: ResolutionFilter) { resolutions(filter: $f) { nodes { id } } }`,
				map[string]any{"f": map[string]any{"companyId": u.ID}}, "INVALID_ARGUMENT"},
			{"malformed filter.userId", `query($f: ResolutionFilter) { resolutions(filter: $f) { nodes { id } } }`,
				map[string]any{"f": map[string]any{"userId": c.ID}}, "INVALID_ARGUMENT"},
			{"malformed summary filter", `query($f: ResolutionFilter) { resolutionSummary(filter: $f) { total } }`,
				map[string]any{"f": map[string]any{"companyId": "acme"}}, "INVALID_ARGUMENT"},
			{"101 node IDs", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": rdIDs(101)}, "INVALID_ARGUMENT"},
		}
		for _, b := range bad {
			t.Run(b.name, func(t *testing.T) {
				r := def.Do(t, tok, b.query, b.vars)
				rdWantCode(t, r, b.code)
				if strings.Contains(string(r.Data), `"id"`) {
					t.Fatalf("data leaked alongside the error: %s", r.Data)
				}
				rdMustHealthy(t, def)
			})
		}
		t.Run("100 node IDs are fine", func(t *testing.T) {
			var out struct {
				Nodes []*struct{ ID string } `json:"nodes"`
			}
			def.MustData(t, tok, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": rdIDs(100)}, &out)
			if len(out.Nodes) != 100 {
				t.Fatalf("nodes returned %d entries", len(out.Nodes))
			}
			for _, n := range out.Nodes {
				if n != nil {
					t.Fatalf("an unknown ID resolved: %+v", n)
				}
			}
		})
	})
}

// rdIDs returns n fresh IDs of mixed types, none of which exists.
func rdIDs(n int) []string {
	kinds := []string{ids.Resolution, ids.Payment, ids.Membership, ids.User, ids.Company, ids.Event}
	out := make([]string, n)
	for i := range out {
		out[i] = ids.New(kinds[i%len(kinds)])
	}
	return out
}
