package graph_test

// Production features of the /graphql endpoint, on servers built by app exactly as
// production builds them, with settings given as the environment would: rate limiting, automatic persisted queries, CSRF
// refusals, CORS, introspection and suggestions switches, metrics, tracing and the
// per-operation log line. Where the database matters the tests run on both engines.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/observe"
)

// prodLogs reads the server's JSON log.
type prodLogs struct{ out *apptest.Output }

// Lines decodes every log record.
func (l prodLogs) Lines(t *testing.T) []map[string]any { return l.out.JSONLines() }

// String is everything the server printed.
func (l prodLogs) String() string { return l.out.String() }

// prodServer is a server built by app, as production builds it: request IDs, metrics,
// the SQL query hook, the hub with its metrics hooks, a deadline sweeper, /metrics.
type prodServer struct {
	URL     string // base URL
	GQL     string // the /graphql endpoint
	DB      *db.DB
	Metrics *observe.Metrics
	Logs    prodLogs
}

type prodOptions struct {
	env    map[string]string // settings over apptest's defaults
	now    func() time.Time
	tracer trace.Tracer
}

func newProdServer(t *testing.T, d *db.DB, po prodOptions) *prodServer {
	t.Helper()
	env := map[string]string{"SWEEP_INTERVAL": "50ms"}
	for k, v := range po.env {
		env[k] = v
	}
	s := apptest.New(t, d, apptest.Options{Env: env, Now: po.now, Tracer: po.tracer})
	return &prodServer{URL: s.Base, GQL: s.URL, DB: s.DB, Metrics: s.Metrics, Logs: prodLogs{s.Out}}
}

// prodResp is a raw HTTP answer with its decoded GraphQL body.
type prodResp struct {
	Status int
	Header http.Header
	Body   []byte
	apptest.Response
}

func (r prodResp) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// send performs a request; body may be nil.
func send(t *testing.T, method, u, contentType string, body []byte, hdr map[string]string) prodResp {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := prodResp{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	if len(raw) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &r.Response); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
	}
	return r
}

// gql posts a JSON GraphQL request as token.
func gql(t *testing.T, u, token string, body map[string]any, hdr map[string]string) prodResp {
	t.Helper()
	b, _ := json.Marshal(body)
	h := map[string]string{"Accept": "application/json"}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	for k, v := range hdr {
		h[k] = v
	}
	return send(t, http.MethodPost, u, "application/json", b, h)
}

func TestProdRateLimit(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		u, c := dbtest.MustUser(t, d), dbtest.MustCompany(t, d)
		customer := dbtest.MustToken(t, d, db.TokenUser, u.ID, false)
		merchant := dbtest.MustToken(t, d, db.TokenCompany, c.ID, false)
		// 3 units saved up, 1 earned per second.
		now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		var clockMu sync.Mutex
		clock := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
		s := newProdServer(t, d, prodOptions{now: clock,
			env: map[string]string{"RATE_LIMIT": "1", "RATE_BURST": "3", "MAX_COMPLEXITY": "3"}})
		q := map[string]any{"query": "{ __typename }"} // costs 1

		for i := 1; i <= 3; i++ {
			if r := gql(t, s.GQL, customer, q, nil); r.Status != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("request %d within the burst: %s", i, r)
			}
		}
		r := gql(t, s.GQL, customer, q, nil)
		if r.Status != http.StatusTooManyRequests {
			t.Fatalf("request 4: %s, want 429", r)
		}
		if r.Header.Get("Retry-After") != "1" {
			t.Errorf("Retry-After = %q, want 1", r.Header.Get("Retry-After"))
		}
		if r.FirstCode() != "RATE_LIMITED" || len(r.Data) > 0 && string(r.Data) != "null" {
			t.Errorf("request 4: %s, want RATE_LIMITED without data", r)
		}
		if ra, _ := r.Errors[0].Extensions["retryAfter"].(float64); ra != 1 {
			t.Errorf("extensions.retryAfter = %v, want 1", r.Errors[0].Extensions["retryAfter"])
		}
		// Also under the GraphQL-over-HTTP media type, and for mutations.
		r = gql(t, s.GQL, customer, q, map[string]string{"Accept": "application/graphql-response+json"})
		if r.Status != http.StatusTooManyRequests || r.FirstCode() != "RATE_LIMITED" {
			t.Errorf("graphql-response+json: %s, want 429 RATE_LIMITED", r)
		}
		// Other principals have their own budgets: another token, and callers without
		// a token (keyed by address).
		for i := 1; i <= 3; i++ {
			if r := gql(t, s.GQL, merchant, q, nil); r.Status != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("merchant request %d: %s", i, r)
			}
			if r := gql(t, s.GQL, "", q, nil); r.Status != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("anonymous request %d: %s", i, r)
			}
		}
		if r := gql(t, s.GQL, "", q, nil); r.Status != http.StatusTooManyRequests {
			t.Errorf("anonymous request 4: %s, want 429", r)
		}
		// A costlier operation is charged its complexity: with 1 unit earned back, a
		// query costing 2 waits 1 s more.
		clockMu.Lock()
		now = now.Add(time.Second)
		clockMu.Unlock()
		r = gql(t, s.GQL, customer, map[string]any{"query": "{ viewer { role } }"}, nil)
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "1" {
			t.Errorf("a query costing 2 with 1 unit left: %s Retry-After %q, want 429 after 1 s", r, r.Header.Get("Retry-After"))
		}
		if r := gql(t, s.GQL, customer, q, nil); r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Errorf("after a second, one unit is back: %s", r)
		}
		// The refusals are counted.
		if got := testCounter(t, s, "rc_rate_limited_total", nil); got != 4 {
			t.Errorf("rc_rate_limited_total = %v, want 4", got)
		}
		if got := testCounter(t, s, "rc_graphql_errors_total", map[string]string{"code": "RATE_LIMITED"}); got != 4 {
			t.Errorf("rc_graphql_errors_total{code=RATE_LIMITED} = %v, want 4", got)
		}
	})
}

// TestGETMutationNotCharged: a mutation sent over GET is answered 405 before any
// budget is charged: neither the cost budget (RATE_LIMIT) nor the mutation budget
// (MUTATION_RATE_LIMIT) of its caller changes, however many are sent. Before, the
// 405 came after the rate limits had charged it, so GET links (an <img>, a crawler
// following one) spent a user's budget, and past it answered 429 instead of 405.
func TestGETMutationNotCharged(t *testing.T) {
	d := dbtest.MustSQLite(t)
	u := dbtest.MustUser(t, d)
	customer := dbtest.MustToken(t, d, db.TokenUser, u.ID, true)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now } // no budget comes back meanwhile
	const mutation = `mutation { respondToResolution(input: {resolutionId: "res_00000000000000000000000000", message: "hi"}) { userErrors { code } } }`
	getMutation := func(s *prodServer, mutation string) {
		t.Helper()
		for range 5 {
			r := send(t, http.MethodGet, s.GQL+"?query="+url.QueryEscape(mutation), "", nil, map[string]string{"Authorization": "Bearer " + customer})
			if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != http.MethodPost || r.FirstCode() != "INVALID_ARGUMENT" {
				t.Fatalf("GET mutation: %s (Allow %q), want 405 INVALID_ARGUMENT with Allow: POST", r, r.Header.Get("Allow"))
			}
		}
	}
	t.Run("cost budget", func(t *testing.T) {
		s := newProdServer(t, d, prodOptions{now: clock,
			env: map[string]string{"RATE_LIMIT": "1", "RATE_BURST": "3", "MAX_COMPLEXITY": "3", "MUTATION_RATE_LIMIT": "0"}})
		getMutation(s, `mutation { __typename }`) // each would cost 1
		// Each costs 1.
		q := map[string]any{"query": "{ __typename }"}
		for i := 1; i <= 3; i++ {
			if r := gql(t, s.GQL, customer, q, nil); r.Status != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("query %d of a budget of 3 after GET mutations: %s, want 200: the GET mutations were charged", i, r)
			}
		}
		if r := gql(t, s.GQL, customer, q, nil); r.Status != http.StatusTooManyRequests {
			t.Errorf("query 4 of a budget of 3: %s, want 429", r)
		}
	})
	t.Run("mutation budget", func(t *testing.T) {
		s := newProdServer(t, d, prodOptions{now: clock,
			env: map[string]string{"MUTATION_RATE_LIMIT": "0.01", "MUTATION_RATE_BURST": "1"}})
		getMutation(s, mutation)
		m := map[string]any{"query": mutation}
		if r := gql(t, s.GQL, customer, m, nil); r.Status != http.StatusOK || r.FirstCode() == "RATE_LIMITED" {
			t.Fatalf("the one mutation of the budget after GET mutations: %s, want it run: the GET mutations were charged", r)
		}
		if r := gql(t, s.GQL, customer, m, nil); r.Status != http.StatusTooManyRequests {
			t.Errorf("a second mutation with a budget of 1: %s, want 429", r)
		}
	})
}

func sha(q string) string {
	h := sha256.Sum256([]byte(q))
	return hex.EncodeToString(h[:])
}

func TestProdAPQ(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s := newProdServer(t, d, prodOptions{env: map[string]string{"APQ_CACHE_SIZE": "100"}})
	tok := apptest.PlatformToken
	query := `query Persisted { viewer { role } }`
	hash := sha(query)
	ext := func(h string) map[string]any {
		return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": h}}
	}

	// A miss: Apollo clients recognise it by message and code, then send the query.
	r := gql(t, s.GQL, tok, map[string]any{"extensions": ext(hash)}, nil)
	// Apollo's persisted-query link retries with the full query when an error has the
	// message PersistedQueryNotFound or the code PERSISTED_QUERY_NOT_FOUND.
	if len(r.Errors) != 1 || (r.Errors[0].Message != "PersistedQueryNotFound" && r.FirstCode() != "PERSISTED_QUERY_NOT_FOUND") {
		t.Errorf("hash miss: %s, want the error PersistedQueryNotFound / PERSISTED_QUERY_NOT_FOUND (Apollo APQ protocol)", r)
	} else if code := r.FirstCode(); code == "INTERNAL" || code == "" {
		t.Errorf("hash miss: extensions.code %q, want a client error code", code)
	}
	if len(r.Data) > 0 && string(r.Data) != "null" {
		t.Errorf("hash miss carries data: %s", r)
	}

	// Register: query and hash together.
	r = gql(t, s.GQL, tok, map[string]any{"query": query, "extensions": ext(hash)}, nil)
	if r.Status != 200 || len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"PLATFORM"`) {
		t.Fatalf("register: %s", r)
	}
	// Hit: the hash alone, over POST and over GET (what Apollo sends for queries).
	r = gql(t, s.GQL, tok, map[string]any{"extensions": ext(hash)}, nil)
	if r.Status != 200 || len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"PLATFORM"`) {
		t.Errorf("hit over POST: %s", r)
	}
	extJSON, _ := json.Marshal(ext(hash))
	r = send(t, http.MethodGet, s.GQL+"?extensions="+url.QueryEscape(string(extJSON)), "", nil,
		map[string]string{"Authorization": "Bearer " + tok})
	if r.Status != 200 || len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"PLATFORM"`) {
		t.Errorf("hit over GET: %s", r)
	}

	// A hash that does not match its query is refused as the client's mistake, and
	// nothing is registered under it.
	wrong := sha("something else")
	r = gql(t, s.GQL, tok, map[string]any{"query": query, "extensions": ext(wrong)}, nil)
	if len(r.Errors) == 0 || (len(r.Data) > 0 && string(r.Data) != "null") {
		t.Errorf("wrong hash: %s, want an error and no data", r)
	} else if code := r.FirstCode(); code != "INVALID_ARGUMENT" {
		t.Errorf("wrong hash: %s, want extensions.code INVALID_ARGUMENT (a client error, not %s)", r, code)
	}
	r = gql(t, s.GQL, tok, map[string]any{"extensions": ext(wrong)}, nil)
	if len(r.Errors) == 0 || strings.Contains(string(r.Data), "PLATFORM") {
		t.Errorf("a wrong hash got registered: %s", r)
	}
	// Malformed extension data is a client error too.
	r = gql(t, s.GQL, tok, map[string]any{"query": query, "extensions": map[string]any{"persistedQuery": map[string]any{"version": 2, "sha256Hash": hash}}}, nil)
	if len(r.Errors) == 0 || r.FirstCode() != "INVALID_ARGUMENT" {
		t.Errorf("unsupported APQ version: %s, want INVALID_ARGUMENT", r)
	}
	// None of these client mistakes is logged as an internal error.
	for _, l := range s.Logs.Lines(t) {
		if l["msg"] == "internal error" {
			t.Errorf("a client's APQ request was logged as an internal error: %v", l)
		}
	}
}

func TestProdAPQDisabled(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s := newProdServer(t, d, prodOptions{env: map[string]string{"APQ_CACHE_SIZE": "0"}})
	query := `{ __typename }`
	r := gql(t, s.GQL, "", map[string]any{"query": query,
		"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha(query)}}}, nil)
	if r.Status != 200 || len(r.Errors) > 0 {
		t.Errorf("with APQ off, a query with the extension still runs: %s", r)
	}
}

func TestProdCSRF(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := newProdServer(t, d, prodOptions{})
		hdr := map[string]string{"Authorization": "Bearer " + apptest.PlatformToken}
		mutation := func(route string) string {
			return fmt.Sprintf(`mutation { createCompany(input: {title: "CSRF", route: %q}) { company { id } userErrors { code } } }`, route)
		}
		count := func(route string) int {
			var n int
			_, err := s.DB.Raw(context.Background(), &n, "SELECT count(*) FROM companies WHERE route = ?", route)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
		// Control: the same mutation as JSON does run.
		if r := gql(t, s.GQL, apptest.PlatformToken, map[string]any{"query": mutation("csrf-control")}, nil); r.Status != 200 || len(r.Errors) > 0 || count("csrf-control") != 1 {
			t.Fatalf("control mutation: %s", r)
		}

		var multi bytes.Buffer
		mw := multipart.NewWriter(&multi)
		_ = mw.WriteField("operations", `{"query":`+mustQuote(mutation("csrf-multipart"))+`}`)
		_ = mw.WriteField("map", `{}`)
		mw.Close()
		cases := []struct {
			name, ct, route string
			body            []byte
		}{
			{"form", "application/x-www-form-urlencoded", "csrf-form",
				[]byte("query=" + url.QueryEscape(mutation("csrf-form")))},
			{"multipart", mw.FormDataContentType(), "csrf-multipart", multi.Bytes()},
			{"text/plain", "text/plain", "csrf-text", []byte(`{"query":` + mustQuote(mutation("csrf-text")) + `}`)},
			{"text/plain;charset=utf-8", "text/plain;charset=UTF-8", "csrf-text-cs", []byte(`{"query":` + mustQuote(mutation("csrf-text-cs")) + `}`)},
		}
		opsBefore := testCounter(t, s, "rc_graphql_operations_total", nil)
		for _, c := range cases {
			r := send(t, http.MethodPost, s.GQL, c.ct, c.body, hdr)
			if r.Status != http.StatusUnsupportedMediaType {
				t.Errorf("%s: %s, want 415", c.name, r)
			}
			if r.FirstCode() != "INVALID_ARGUMENT" || (len(r.Data) > 0 && string(r.Data) != "null") {
				t.Errorf("%s: %s, want INVALID_ARGUMENT without data", c.name, r)
			}
			if n := count(c.route); n != 0 {
				t.Errorf("%s: the mutation ran (%d companies with route %s)", c.name, n, c.route)
			}
		}
		// A mutation over GET (a link or an <img>) is refused too.
		r := send(t, http.MethodGet, s.GQL+"?query="+url.QueryEscape(mutation("csrf-get")), "", nil, hdr)
		if r.Status != http.StatusMethodNotAllowed || count("csrf-get") != 0 {
			t.Errorf("GET mutation: %s, want 405 and nothing changed", r)
		}
		if after := testCounter(t, s, "rc_graphql_operations_total", nil); after != opsBefore {
			t.Errorf("refused requests were executed: operations %v -> %v", opsBefore, after)
		}
	})
}

func mustQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestProdCORS(t *testing.T) {
	d := dbtest.MustSQLite(t)
	const app, evil = "https://app.example.com", "https://evil.example.net"
	open := newProdServer(t, d, prodOptions{env: map[string]string{"CORS_ORIGINS": app}})
	closed := newProdServer(t, d, prodOptions{})
	q := map[string]any{"query": "{ __typename }"}
	preflight := func(s *prodServer, origin string) prodResp {
		return send(t, http.MethodOptions, s.GQL, "", nil, map[string]string{"Origin": origin,
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"})
	}

	r := gql(t, open.GQL, "", q, map[string]string{"Origin": app})
	if r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != app {
		t.Errorf("allowed origin: %d ACAO %q, want %q", r.Status, r.Header.Get("Access-Control-Allow-Origin"), app)
	}
	if !strings.Contains(strings.Join(r.Header.Values("Vary"), ","), "Origin") {
		t.Errorf("allowed origin: Vary %q should name Origin", r.Header.Values("Vary"))
	}
	r = preflight(open, app)
	if r.Status != http.StatusNoContent || r.Header.Get("Access-Control-Allow-Origin") != app {
		t.Errorf("preflight from the allowed origin: %d ACAO %q, want 204 %q", r.Status, r.Header.Get("Access-Control-Allow-Origin"), app)
	}
	if m := r.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "POST") {
		t.Errorf("preflight: Access-Control-Allow-Methods %q lacks POST", m)
	}
	if h := strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(h, "authorization") || !strings.Contains(h, "content-type") {
		t.Errorf("preflight: Access-Control-Allow-Headers %q lacks Authorization or Content-Type", h)
	}
	if r.Header.Get("Access-Control-Allow-Credentials") == "true" {
		t.Errorf("credentials must not be allowed cross-origin (bearer tokens only)")
	}

	for _, c := range []struct {
		name   string
		s      *prodServer
		origin string
	}{{"other origin", open, evil}, {"default (closed)", closed, app}, {"default (closed), other", closed, evil}} {
		r := gql(t, c.s.GQL, "", q, map[string]string{"Origin": c.origin})
		if v := r.Header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("%s: POST got Access-Control-Allow-Origin %q", c.name, v)
		}
		r = preflight(c.s, c.origin)
		if v := r.Header.Get("Access-Control-Allow-Origin"); v != "" || r.Status == http.StatusNoContent {
			t.Errorf("%s: preflight %d with Access-Control-Allow-Origin %q, want no CORS approval", c.name, r.Status, v)
		}
	}
}

func TestProdIntrospectionOff(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s := newProdServer(t, d, prodOptions{env: map[string]string{"INTROSPECTION": "false"}})
	for _, q := range []string{`{ __schema { queryType { name } types { name } } }`, `{ __type(name: "Query") { fields { name } } }`} {
		r := gql(t, s.GQL, apptest.PlatformToken, map[string]any{"query": q}, nil)
		if len(r.Errors) == 0 {
			t.Errorf("%s: answered with introspection off: %s", q, r)
			continue
		}
		if strings.Contains(string(r.Data), `"name"`) {
			t.Errorf("%s: schema data leaked: %s", q, r)
		}
		// The refusal is the client's business, with a code from the closed set that
		// says so, and no internal-error alarm in the logs.
		if code := r.FirstCode(); code == "INTERNAL" || code == "" {
			t.Errorf("%s: refused with %q (%s), want a client error code such as FORBIDDEN or INVALID_ARGUMENT", q, code, r.Errors[0].Message)
		}
	}
	for _, l := range s.Logs.Lines(t) {
		if l["msg"] == "internal error" {
			t.Errorf("an introspection query was logged as an internal error: %v", l)
		}
	}
	// __typename is not introspection.
	if r := gql(t, s.GQL, "", map[string]any{"query": "{ __typename }"}, nil); r.Status != 200 || len(r.Errors) > 0 {
		t.Errorf("__typename: %s", r)
	}
	// Control: on by default.
	on := newProdServer(t, d, prodOptions{})
	if r := gql(t, on.GQL, "", map[string]any{"query": `{ __schema { queryType { name } } }`}, nil); len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"Query"`) {
		t.Errorf("introspection on: %s", r)
	}
}

func TestProdSuggestionsOff(t *testing.T) {
	d := dbtest.MustSQLite(t)
	off := newProdServer(t, d, prodOptions{env: map[string]string{"SUGGESTIONS": "false"}})
	on := newProdServer(t, d, prodOptions{})
	// Each misspelling below gets a "Did you mean" hint from a different validation
	// rule (or from variable coercion) when suggestions are on.
	cases := []struct {
		query string
		vars  map[string]any
	}{
		{`{ viewr { role } }`, nil},                                                                          // field
		{`{ viewer { role { name } } }`, nil},                                                                // scalar leaf
		{`{ resolutions(frist: 5) { pageInfo { hasNextPage } } }`, nil},                                      // argument name
		{`query($f: ResolutionFiltr) { resolutions(filter: $f) { pageInfo { hasNextPage } } }`, nil},         // type name
		{`{ resolutions(filter: {statuss: [MERCHANT_RESPONSE_NEEDED]}) { pageInfo { hasNextPage } } }`, nil}, // input field
		{`{ resolutions(filter: {statuses: [MERCHANT_RESPONSE_NEEDE]}) { pageInfo { hasNextPage } } }`, nil}, // enum value
		{`query($s: [ResolutionStatus!]) { resolutions(filter: {statuses: $s}) { pageInfo { hasNextPage } } }`, // enum value in a variable
			map[string]any{"s": []string{"MERCHANT_RESPONSE_NEEDE"}}},
	}
	for _, c := range cases {
		q := c.query
		r := gql(t, on.GQL, apptest.PlatformToken, map[string]any{"query": q, "variables": c.vars}, nil)
		if len(r.Errors) == 0 {
			t.Errorf("control: %s: %s, want an error", q, r)
		}
		if !strings.Contains(string(r.Body), "Did you mean") {
			t.Logf("(control, suggestions on: %s answers without a hint: %s)", q, r.Body)
		}
		r = gql(t, off.GQL, apptest.PlatformToken, map[string]any{"query": q, "variables": c.vars}, nil)
		if len(r.Errors) == 0 || r.FirstCode() != "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("suggestions off: %s: %s, want GRAPHQL_VALIDATION_FAILED", q, r)
		}
		if strings.Contains(strings.ToLower(string(r.Body)), "did you mean") {
			t.Errorf("suggestions off: %s: %s", q, r)
		}
	}
}

// scrape reads /metrics (with the token, if any) and parses it.
func scrape(t *testing.T, s *prodServer, token string) map[string]*dtoFamily {
	t.Helper()
	if token == "" {
		token = apptest.MetricsToken
	}
	r := send(t, http.MethodGet, s.URL+"/metrics", "", nil, map[string]string{"Authorization": "Bearer " + token})
	if r.Status != 200 {
		t.Fatalf("/metrics: %d %s", r.Status, r.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := map[string]*dtoFamily{}
	for name, f := range fams {
		df := &dtoFamily{}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			var v float64
			switch {
			case m.Counter != nil:
				v = m.GetCounter().GetValue()
			case m.Gauge != nil:
				v = m.GetGauge().GetValue()
			case m.Untyped != nil:
				v = m.GetUntyped().GetValue()
			case m.Histogram != nil:
				v = float64(m.GetHistogram().GetSampleCount())
				df.sums = append(df.sums, m.GetHistogram().GetSampleSum())
			case m.Summary != nil:
				v = float64(m.GetSummary().GetSampleCount())
			}
			df.samples = append(df.samples, dtoSample{labels, v})
		}
		out[name] = df
	}
	return out
}

type dtoSample struct {
	labels map[string]string
	value  float64
}

type dtoFamily struct {
	samples []dtoSample
	sums    []float64 // histograms: the sums of observations
}

// Sum adds the samples whose labels include want.
func (f *dtoFamily) Sum(want map[string]string) float64 {
	var total float64
	for _, s := range f.samples {
		ok := true
		for k, v := range want {
			if s.labels[k] != v {
				ok = false
			}
		}
		if ok {
			total += s.value
		}
	}
	return total
}

// testCounter returns a metric's value over the samples matching labels (0 if absent),
// read from the registry through the handler.
func testCounter(t *testing.T, s *prodServer, name string, labels map[string]string) float64 {
	t.Helper()
	f, ok := scrape(t, s, "")[name]
	if !ok {
		return 0
	}
	return f.Sum(labels)
}

func TestProdMetrics(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		biz, u := dbtest.MustCompany(t, d), dbtest.MustUser(t, d)
		opened := dbtest.MustOpen(t, d, dbtest.MustPayment(t, d, u, biz, ""), dispute.IssueItemNotReceived, dbtest.Now())
		ct := dbtest.MustToken(t, d, db.TokenUser, u.ID, true)
		const token = "metrics-secret-0123456789abcdefghijkl"
		s := newProdServer(t, d, prodOptions{env: map[string]string{"METRICS_TOKEN": token}})

		// The token protects the endpoint.
		if r := send(t, http.MethodGet, s.URL+"/metrics", "", nil, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("/metrics without a token: %d, want 401", r.Status)
		}
		if r := send(t, http.MethodGet, s.URL+"/metrics", "", nil, map[string]string{"Authorization": "Bearer nope"}); r.Status != http.StatusUnauthorized {
			t.Errorf("/metrics with a wrong token: %d, want 401", r.Status)
		}

		ws := apptest.DialWS(t, s.GQL, map[string]any{"Authorization": "Bearer " + ct})
		ws.Subscribe("1", `subscription($id: ID!) { resolutionEventAdded(resolutionId: $id) { cursor } }`, map[string]any{"id": opened.Case.ID})
		time.Sleep(200 * time.Millisecond)
		for range 3 {
			if r := gql(t, s.GQL, ct, map[string]any{"query": `query Mine { resolutions(first: 5) { edges { node { id company { title } } } } }`}, nil); len(r.Errors) > 0 {
				t.Fatalf("query: %s", r)
			}
		}
		gql(t, s.GQL, ct, map[string]any{"query": `{ resolution(id: "nope") { id } }`}, nil)
		gql(t, s.GQL, ct, map[string]any{"query": `{ nope }`}, nil)
		r := gql(t, s.GQL, ct, map[string]any{"query": `mutation Say($id: ID!) { respondToResolution(input: {resolutionId: $id, message: "hello"}) { userErrors { code } } }`,
			"variables": map[string]any{"id": opened.Case.ID}}, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("mutation: %s", r)
		}
		if m := ws.Read(10 * time.Second); m.Type != "next" {
			t.Fatalf("subscription: %+v", m)
		}
		time.Sleep(150 * time.Millisecond) // a few deadline sweeps

		fams := scrape(t, s, token)
		want := func(name string, labels map[string]string, ok func(float64) bool, what string) {
			t.Helper()
			f, found := fams[name]
			if !found {
				t.Errorf("%s is missing", name)
				return
			}
			if v := f.Sum(labels); !ok(v) {
				t.Errorf("%s%v = %v, want %s", name, labels, v, what)
			}
		}
		eq := func(n float64) func(float64) bool { return func(v float64) bool { return v == n } }
		pos := func(v float64) bool { return v > 0 }
		want("rc_graphql_operations_total", map[string]string{"operation": "Mine", "type": "query"}, eq(3), "3")
		want("rc_graphql_operations_total", map[string]string{"operation": "Say", "type": "mutation"}, eq(1), "1")
		want("rc_graphql_operations_total", map[string]string{"type": "subscription"}, eq(1), "1")
		want("rc_graphql_errors_total", map[string]string{"code": "INVALID_ARGUMENT"}, eq(1), "1")
		want("rc_graphql_errors_total", map[string]string{"code": "GRAPHQL_VALIDATION_FAILED"}, eq(1), "1")
		want("rc_graphql_operation_duration_seconds", map[string]string{"operation": "Mine"}, eq(3), "3 observations")
		want("rc_sql_statements_total", nil, pos, "> 0")
		want("rc_fanout_lag_seconds", nil, pos, "> 0 deliveries")
		want("rc_subscribers_dropped_total", nil, eq(0), "0")
		want("rc_deadline_sweeps_total", map[string]string{"result": "ok"}, pos, "> 0")
		want("rc_http_requests_total", map[string]string{"route": "graphql", "status": "2xx"}, pos, "> 0")
		want("go_goroutines", nil, func(v float64) bool { return v > 3 && v < 100000 }, "plausible")
		want("go_memstats_alloc_bytes", nil, func(v float64) bool { return v > 1<<20 && v < 8<<30 }, "plausible")
		want("go_gc_duration_seconds", nil, func(v float64) bool { return v >= 0 }, "present")
		want("process_resident_memory_bytes", nil, func(v float64) bool { return v > 1<<20 && v < 16<<30 }, "plausible")
		want("process_cpu_seconds_total", nil, pos, "> 0")
		want("process_start_time_seconds", nil, func(v float64) bool {
			return v > float64(time.Now().Add(-24*time.Hour).Unix()) && v <= float64(time.Now().Unix()+1)
		}, "within the last day")
		if f := fams["rc_fanout_lag_seconds"]; f != nil && len(f.sums) > 0 {
			if n := f.Sum(nil); n > 0 && (f.sums[0] < 0 || f.sums[0]/n > 5) {
				t.Errorf("rc_fanout_lag_seconds: mean lag %v s is implausible", f.sums[0]/n)
			}
		}
		if sql := fams["rc_sql_statements_total"].Sum(nil); sql > 1000 {
			t.Errorf("rc_sql_statements_total = %v after a handful of operations", sql)
		}
	})
}

// TestProdTrace: an operation's trace holds its SQL statements under the operation's
// span, with a span per loader batch (gqlgen's executor) or per level read (the planned
// executor).
func TestProdTrace(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		u, c := dbtest.MustUser(t, d), dbtest.MustCompany(t, d)
		for range 3 {
			dbtest.MustOpen(t, d, dbtest.MustPayment(t, d, u, c, ""), dispute.IssueItemNotReceived, dbtest.Now())
		}
		// One server at a time: each adds its own SQL hook to the shared database.
		t.Run("planned", func(t *testing.T) { prodTrace(t, d, true) })
		t.Run("gqlgen", func(t *testing.T) { prodTrace(t, d, false) })
	})
}

func prodTrace(t *testing.T, d *db.DB, planned bool) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	s := newProdServer(t, d, prodOptions{tracer: tp.Tracer("resolutioncenter-test"),
		env: map[string]string{"QUERY_PLANNER": strconv.FormatBool(planned)}})
	// The list, then (gqlgen) one batch per loader: company, user, payment, or
	// (planned) one level read of three statements (one round trip on PostgreSQL).
	batchSpan, batches := "graphql.plan.read", 1
	if !planned {
		batchSpan, batches = "dataloadgen.fetch", 3
	}

	r := gql(t, s.GQL, apptest.PlatformToken, map[string]any{"query": `query Traced { resolutions(first: 5) { edges { node { id company { title } user { username } payment { status } } } } }`}, nil)
	if r.Status != 200 || len(r.Errors) > 0 {
		t.Fatalf("query: %s", r)
	}
	var op tracetest.SpanStub
	var sqlSpans, loaderSpans []tracetest.SpanStub
	deadline := time.Now().Add(5 * time.Second)
	for {
		spans := exp.GetSpans()
		op = tracetest.SpanStub{}
		for _, sp := range spans {
			if sp.Name == "graphql.query Traced" {
				op = sp
			}
		}
		sqlSpans, loaderSpans = nil, nil
		for _, sp := range spans {
			if !op.SpanContext.IsValid() || sp.SpanContext.TraceID() != op.SpanContext.TraceID() {
				continue
			}
			switch {
			case strings.HasPrefix(sp.Name, "sql "):
				sqlSpans = append(sqlSpans, sp)
			case strings.HasPrefix(sp.Name, batchSpan):
				loaderSpans = append(loaderSpans, sp)
			}
		}
		if len(sqlSpans) >= 4 && len(loaderSpans) >= batches || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !op.SpanContext.IsValid() {
		t.Fatalf("no operation span among %d spans", len(exp.GetSpans()))
	}
	if len(sqlSpans) < 4 {
		t.Errorf("%d SQL spans in the operation's trace, want at least 4 (list + 3 reads)", len(sqlSpans))
	}
	if len(loaderSpans) < batches {
		t.Errorf("%d %s spans in the operation's trace, want at least %d", len(loaderSpans), batchSpan, batches)
	}
	// Every SQL span descends from the operation span.
	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, sp := range exp.GetSpans() {
		byID[sp.SpanContext.SpanID()] = sp
	}
	for _, sp := range sqlSpans {
		cur, ok := sp, false
		for i := 0; i < 20 && cur.Parent.IsValid(); i++ {
			if cur.Parent.SpanID() == op.SpanContext.SpanID() {
				ok = true
				break
			}
			cur = byID[cur.Parent.SpanID()]
		}
		if !ok {
			t.Errorf("SQL span %q does not descend from the operation span", sp.Name)
		}
		if sp.EndTime.Before(sp.StartTime) || sp.StartTime.Before(op.StartTime) {
			t.Errorf("SQL span %q has implausible times", sp.Name)
		}
	}
	for _, kv := range op.Attributes {
		if kv.Key == "graphql.operation.name" && kv.Value.AsString() != "Traced" {
			t.Errorf("operation span attribute %s = %s", kv.Key, kv.Value.AsString())
		}
	}
}

func TestProdLogs(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		biz, u := dbtest.MustCompany(t, d), dbtest.MustUser(t, d)
		opened := dbtest.MustOpen(t, d, dbtest.MustPayment(t, d, u, biz, ""), dispute.IssueItemNotReceived, dbtest.Now())
		ct := dbtest.MustToken(t, d, db.TokenUser, u.ID, true)
		mt := dbtest.MustToken(t, d, db.TokenCompany, biz.ID, true)
		s := newProdServer(t, d, prodOptions{})
		const secretMessage = "SECRET-MESSAGE-7f3a9 my card number is 4111"

		type call struct {
			id, token, query string
			vars             map[string]any
			op, typ, kind    string
		}
		calls := []call{
			{"req-1", ct, `query Mine { viewer { user { email } } resolutions(first: 5) { edges { node { id user { email } } } } }`, nil, "Mine", "query", "user"},
			{"req-2", mt, `mutation Say($id: ID!, $m: String!) { respondToResolution(input: {resolutionId: $id, message: $m}) { event { details } userErrors { code } } }`,
				map[string]any{"id": opened.Case.ID, "m": secretMessage}, "Say", "mutation", "company"},
			{"req-3", ct, `query Timeline($id: ID!) { resolution(id: $id) { events(first: 10) { nodes { details } } } }`, map[string]any{"id": opened.Case.ID}, "Timeline", "query", "user"},
			{"req-4", ct, `{ resolution(id: "nope") { id } }`, nil, "anonymous", "query", "user"},
			{"req-5", "", `{ __typename }`, nil, "anonymous", "query", "none"},
			{"req-6", apptest.PlatformToken, `query P { viewer { role } }`, nil, "P", "query", "platform"},
		}
		for _, c := range calls {
			r := gql(t, s.GQL, c.token, map[string]any{"query": c.query, "variables": c.vars}, map[string]string{"X-Request-ID": c.id})
			if r.Status != 200 {
				t.Fatalf("%s: %s", c.id, r)
			}
			if got := r.Header.Get("X-Request-ID"); got != c.id {
				t.Errorf("%s: X-Request-ID echoed as %q", c.id, got)
			}
		}
		// A bad token and a generated request ID.
		r := gql(t, s.GQL, "not-a-real-token-but-secret-looking", map[string]any{"query": "{ __typename }"}, nil)
		if r.Status != http.StatusUnauthorized || r.Header.Get("X-Request-ID") == "" {
			t.Errorf("bad token: %d, X-Request-ID %q", r.Status, r.Header.Get("X-Request-ID"))
		}
		// A malformed X-Request-ID is replaced, not propagated.
		r = gql(t, s.GQL, ct, map[string]any{"query": "{ __typename }"}, map[string]string{"X-Request-ID": "bad id\u00e9"})
		// (Not "contains bad": a generated hex ID contains it one time in a few hundred.)
		if got := r.Header.Get("X-Request-ID"); got == "" || strings.ContainsAny(got, " \u00e9") || strings.Contains(got, "bad id") {
			t.Errorf("malformed X-Request-ID: echoed %q, want a generated one", got)
		}

		lines := s.Logs.Lines(t)
		for _, c := range calls {
			var found []map[string]any
			for _, l := range lines {
				if l["msg"] == "graphql" && l["request_id"] == c.id {
					found = append(found, l)
				}
			}
			if len(found) != 1 {
				t.Errorf("%s: %d operation log lines, want exactly 1: %v", c.id, len(found), found)
				continue
			}
			l := found[0]
			if l["operation"] != c.op || l["type"] != c.typ || l["principal"] != c.kind {
				t.Errorf("%s: log line %v, want operation %s type %s principal %s", c.id, l, c.op, c.typ, c.kind)
			}
			if _, ok := l["duration_ms"].(float64); !ok {
				t.Errorf("%s: duration_ms missing or not a number: %v", c.id, l)
			}
			if l["level"] != "INFO" {
				t.Errorf("%s: level %v", c.id, l["level"])
			}
		}
		if n := len(lines); n > 40 {
			t.Errorf("%d log lines for %d requests", n, len(calls)+2)
		}
		// No token, e-mail or message text in any log line.
		all := s.Logs.String()
		for what, secret := range map[string]string{"customer token": ct, "merchant token": mt, "bad token": "not-a-real-token-but-secret-looking",
			"platform token": apptest.PlatformToken, "e-mail": u.Email, "message text": "SECRET-MESSAGE", "opening message": "It never arrived"} {
			if strings.Contains(all, secret) {
				t.Errorf("the log contains the %s", what)
			}
		}
	})
}

// TestProdUnsupportedMethod: every answer of the endpoint is JSON with an
// extensions.code, including to methods no transport serves.
func TestProdUnsupportedMethod(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s := newProdServer(t, d, prodOptions{})
	for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch} {
		r := send(t, m, s.GQL, "application/json", []byte(`{"query":"{ __typename }"}`), nil)
		if r.Status != http.StatusMethodNotAllowed && r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 405 (or 400)", m, r.Status)
		}
		if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, "json") {
			t.Errorf("%s: Content-Type %q, want JSON: %s", m, ct, r.Body)
		}
		var body apptest.Response
		if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Errors) == 0 || body.FirstCode() != "INVALID_ARGUMENT" {
			t.Errorf("%s: %s, want an error with extensions.code INVALID_ARGUMENT", m, r.Body)
		}
	}
}
