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
