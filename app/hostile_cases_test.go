package app_test

// The hostile requests of TestHostileQueries: abusive shapes of GraphQL documents,
// variables and bodies, each with the refusal it must get.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
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
	// maxLatency, when set, replaces refusalBudget (for requests that must run a
	// while before they can be refused).
	maxLatency time.Duration
}

// sizeAttack is what the size attacks need: a customer's token and two of its cases
// with long timelines (see fillForSizeAttacks).
type sizeAttack struct {
	token string
	// ascii has 300 messages of 10,000 ASCII characters; wide 110 of 10,000
	// four-byte characters (40 KB each).
	ascii, wide string
}

// fillForSizeAttacks appends, as issue 11 did through the API, 300 messages of
// 10,000 characters to one of the customer's cases, and 110 messages of 10,000
// four-byte characters to another, straight into the database (the API now refuses
// a party's 21st message in an hour).
func fillForSizeAttacks(tb testing.TB, dbURL string, fx fixture) sizeAttack {
	tb.Helper()
	d, err := db.Open(context.Background(), dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer d.Close()
	at := dbtest.Now()
	for i := range 300 {
		dbtest.MustApply(tb, d, fx.Cases[0], dispute.ActorCustomer, dispute.ActionRespond, strings.Repeat("m", 10000), at.Add(time.Duration(i)*time.Millisecond))
	}
	for i := range 110 {
		dbtest.MustApply(tb, d, fx.Cases[1], dispute.ActorCustomer, dispute.ActionRespond, strings.Repeat("😀", 10000), at.Add(time.Duration(i)*time.Millisecond))
	}
	return sizeAttack{token: fx.CustomerToken, ascii: fx.Cases[0], wide: fx.Cases[1]}
}

// aliasAttack is issue 11's query: n aliases of a case's 100 first events' details.
func aliasAttack(n int) string {
	var b strings.Builder
	b.WriteString("query($id: ID!) { resolution(id: $id) { ")
	for i := range n {
		fmt.Fprintf(&b, "a%d: events(first: 100) { nodes { details } } ", i)
	}
	b.WriteString("} }")
	return b.String()
}

// wideWindows asks for four different 100-event windows of one case (four fetches: a
// loader shares identical ones), at a cost just under MAX_COMPLEXITY.
const wideWindows = `query($id: ID!) { resolution(id: $id) {
  a: events(first: 100) { nodes { details } } b: events(last: 100) { nodes { details } }
  c: events(first: 99) { nodes { details } } d: events(last: 99) { nodes { details } } } }`

// windowsAndRecent is wideWindows plus the 50 latest events (cost 45,906): on the
// case of 10,000-character ASCII messages, a 4.5 MB answer.
const windowsAndRecent = `query($id: ID!) { resolution(id: $id) {
  a: events(first: 100) { nodes { details } } b: events(last: 100) { nodes { details } }
  c: events(first: 99) { nodes { details } } d: events(last: 99) { nodes { details } }
  resolutionEvents { details } } }`

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
func hostileCases(big sizeAttack) []hostileCase {
	jsonReq := func(body []byte) func(string) []byte {
		return func(host string) []byte { return apptest.RawPost(host, apptest.PlatformToken, nil, body, false) }
	}
	asCustomer := func(body []byte) func(string) []byte {
		return func(host string) []byte { return apptest.RawPost(host, big.token, nil, body, false) }
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
		// Issue 11: 245 aliases of 100 messages of 10,000 characters scored 49,245
		// (a message priced as one unit) and answered 238 MB. Priced by what it can
		// return, it costs 2.5 million and is refused before it runs.
		{name: "245 aliases x 100 messages (238 MB)", req: asCustomer(requestBody(aliasAttack(245), map[string]any{"id": big.ascii})),
			wantStatus: 400, wantCode: "GRAPHQL_VALIDATION_FAILED", wantMsg: "exceeds the limit of 50000"},
		// Under the cost limit, but 450 messages of 10,000 characters (4.5 MB): refused
		// once the answer passes MAX_RESPONSE_BYTES, before it is built whole. (The
		// soak runs the 16 MB variant of four-byte characters.)
		{name: "450 messages of 10,000 chars (4.5 MB)", req: asCustomer(requestBody(windowsAndRecent, map[string]any{"id": big.ascii})),
			wantStatus: 200, wantCode: "RESPONSE_TOO_LARGE", wantMsg: "would exceed 4194304 bytes", maxLatency: 5 * time.Second},
	}
}
