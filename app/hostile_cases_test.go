package app_test

// The hostile requests of TestHostileQueries: abusive shapes of GraphQL documents,
// variables and bodies, each with the refusal it must get.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"resolutioncenter/app/apptest"
)

// hostileCase is one abusive request and the refusal it must get.
type hostileCase struct {
	name string
	// req builds the raw HTTP request (built before the heap baseline is taken).
	req        func(host string) []byte
	wantStatus int
	wantCode   string
	wantMsg    string // a substring of the first error's message
	// isolate sends the case to a child process (see TestHostileQueries).
	isolate bool
}

// requestBody is a GraphQL request body.
func requestBody(query string, vars map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		panic(err)
	}
	return b
}

// deepQuery nests depth levels of selections through introspection types (valid at
// any depth, so only the depth limit can refuse it).
func deepQuery(depth int) string {
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

// fanoutQuery is a "billion laughs" document: fragment F(i) spreads F(i+1) twice,
// so the operation expands to 2^levels selections while the text stays tiny. It has
// no cycle, no depth, and merges to a single __typename at execution.
func fanoutQuery(levels int) string {
	var b strings.Builder
	b.WriteString("query Fanout { ...F0 }\n")
	for i := range levels {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { __typename }\n", levels)
	return b.String()
}

// hostileCases are the abusive requests; each builds its raw request for a host.
func hostileCases() []hostileCase {
	jsonReq := func(body []byte) func(string) []byte {
		return func(host string) []byte { return apptest.RawPost(host, apptest.PlatformToken, nil, body, false) }
	}
	var aliases strings.Builder
	aliases.WriteString("{ ")
	for i := range 10000 {
		fmt.Fprintf(&aliases, "a%d: __typename ", i)
	}
	aliases.WriteString("}")

	nestedList := strings.Repeat("[", 5000) + "MERCHANT_RESPONSE_NEEDED" + strings.Repeat("]", 5000)
	var nestedVar any = "MERCHANT_RESPONSE_NEEDED"
	for range 9000 {
		nestedVar = []any{nestedVar}
	}
	hugeIDs := make([]any, 60000)
	for i := range hugeIDs {
		hugeIDs[i] = "x" + strconv.Itoa(i%10)
	}
	five := strings.Repeat("x", 5<<20)
	var batch bytes.Buffer
	batch.WriteString("[")
	for i := range 1000 {
		if i > 0 {
			batch.WriteString(",")
		}
		fmt.Fprintf(&batch, `{"query":"query Q%d { __typename }"}`, i)
	}
	batch.WriteString("]")

	return []hostileCase{
		{name: "depth 100", req: jsonReq(requestBody(deepQuery(100), nil)),
			wantStatus: 400, wantCode: "GRAPHQL_VALIDATION_FAILED", wantMsg: "exceeds the limit of 15"},
		{name: "10,000 aliases", req: jsonReq(requestBody(aliases.String(), nil)),
			wantStatus: 400, wantCode: "GRAPHQL_PARSE_FAILED", wantMsg: "token limit"},
		{name: "same field x10,000", req: jsonReq(requestBody("{ viewer { "+strings.Repeat("role ", 10000)+"} }", nil)),
			wantStatus: 400, wantCode: "GRAPHQL_VALIDATION_FAILED", isolate: true},
		{name: "__typename x14,000", req: jsonReq(requestBody("{ "+strings.Repeat("__typename ", 14000)+"}", nil)),
			wantStatus: 400, wantCode: "GRAPHQL_VALIDATION_FAILED", isolate: true},
		{name: "fragment cycle", req: jsonReq(requestBody("query Cycle { ...A } fragment A on Query { __typename ...B } fragment B on Query { __typename ...A }", nil)),
			wantStatus: 400, wantCode: "GRAPHQL_VALIDATION_FAILED", wantMsg: "Cannot spread fragment"},
		{name: "fragment fan-out 2^40", req: jsonReq(requestBody(fanoutQuery(40), nil)),
			wantStatus: 400, wantCode: "GRAPHQL_VALIDATION_FAILED", isolate: true},
		{name: "5 MB query", req: jsonReq(requestBody("{ __typename } # "+five, nil)),
			wantStatus: 413, wantCode: "INVALID_ARGUMENT", wantMsg: "too large"},
		{name: "5 MB query, chunked", req: func(host string) []byte {
			return apptest.RawPost(host, apptest.PlatformToken, nil, requestBody("{ __typename } # "+five, nil), true)
		}, wantStatus: 413, wantCode: "INVALID_ARGUMENT", wantMsg: "too large"},
		{name: "list nested 5,000 deep in argument", req: jsonReq(requestBody(
			"{ resolutions(filter: {statuses: "+nestedList+"}) { pageInfo { hasNextPage } } }", nil)),
			wantStatus: 400, wantCode: "GRAPHQL_PARSE_FAILED"},
		{name: "variable nested 9,000 deep", req: jsonReq(requestBody(
			"query($s: [ResolutionStatus!]) { resolutions(filter: {statuses: $s}) { pageInfo { hasNextPage } } }", map[string]any{"s": nestedVar})),
			wantStatus: 400, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "variables array of 60,000 IDs", req: jsonReq(requestBody(
			"query($ids: [ID!]!) { nodes(ids: $ids) { id } }", map[string]any{"ids": hugeIDs})),
			wantStatus: 400, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "5 MB variables", req: jsonReq(requestBody("query($v: String) { __typename }", map[string]any{"v": five})),
			wantStatus: 413, wantCode: "INVALID_ARGUMENT", wantMsg: "too large"},
		{name: "batch of 1,000 operations", req: jsonReq(batch.Bytes()),
			wantStatus: 400, wantCode: "INVALID_ARGUMENT", wantMsg: "batched requests"},
	}
}
