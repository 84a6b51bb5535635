package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
)

// graphiqlIntrospection is the introspection query GraphiQL and code generators send.
const graphiqlIntrospection = `query IntrospectionQuery { __schema { description queryType { name } mutationType { name } subscriptionType { name }
 types { ...FullType } directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } } } }
fragment FullType on __Type { kind name description specifiedByURL isOneOf fields(includeDeprecated: true) { name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
 inputFields(includeDeprecated: true) { ...InputValue } interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } }
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } } }`

// TestIntrospectionIsPriced: an introspection field costs what it returns, as every
// other field does, in the cost limit and in the rate limit. The cost model skipped
// __schema (gqlgen's complexity walker does): GraphiQL's introspection query (135 KB
// of answer, about 10 ms of work) was charged 1 unit, and a document of 60 aliases of
// it (1.3 s of the server's CPU, refused only after it was built, for its size) 1 unit
// too, to any caller, without a token: a handful of such requests at once held the
// server's CPUs, and the rate limit let an address send 50,000 a second.
func TestIntrospectionIsPriced(t *testing.T) {
	s := apptest.Start(t, apptest.Options{Env: map[string]string{"RATE_LIMIT": "0.001"}})
	ask := func(query string) apptest.Response {
		t.Helper()
		r, err := apptest.Send(context.Background(), s.URL, apptest.Request{Query: query})
		if err != nil && r.Status == 0 {
			t.Fatal(err)
		}
		return r
	}

	// Aliases of the whole schema: refused before anything runs.
	frags := graphiqlIntrospection[strings.Index(graphiqlIntrospection, "fragment"):]
	var b strings.Builder
	b.WriteString("{")
	for i := range 60 {
		fmt.Fprintf(&b, " a%d: __schema { types { ...FullType } directives { name args { ...InputValue } } }", i)
	}
	b.WriteString("}\n" + frags)
	start := time.Now()
	r := ask(b.String())
	if r.HasData() || r.FirstCode() != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(r.Errors[0].Message, "complexity") {
		t.Errorf("60 aliases of the schema: %d %s, want a complexity refusal (GRAPHQL_VALIDATION_FAILED)", r.Status, apptest.Trunc(r.Raw, 300))
	}
	t.Logf("60 aliases of the schema answered in %v", time.Since(start))

	// GraphiQL's own query still answers, and spends the caller's budget: RATE_BURST
	// (250,000) allows some, not hundreds.
	n := 0
	for ; n < 200; n++ {
		r = ask(graphiqlIntrospection)
		if r.Status == http.StatusTooManyRequests {
			break
		}
		if r.Status != 200 || len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"queryType"`) {
			t.Fatalf("GraphiQL's introspection query: %d %s", r.Status, apptest.Trunc(r.Raw, 300))
		}
	}
	t.Logf("%d introspection queries before the rate limit: %s", n, apptest.Trunc(r.Raw, 300))
	if n == 200 || n == 0 {
		t.Errorf("%d introspection queries ran from one address on a budget of 250,000 units, want a few, then 429", n)
	}
}
