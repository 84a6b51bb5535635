package gqlhttp_test

// Fuzz target for the HTTP transports over the real schema and middleware (the whole
// handler of a server built by app on SQLite: CORS, timeout, body limit,
// authentication, gqlhttp GET and POST, APQ): whatever the method, URL query, headers and body, the endpoint never
// panics, never answers 5xx, and every non-empty answer is a JSON object with "data"
// or "errors".
//
//	go test -run '^$' -fuzz '^FuzzHTTPHandler$' -fuzztime 5s ./graph/gqlhttp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

const fzPlatformToken = apptest.PlatformToken

var fzMethods = []string{http.MethodPost, http.MethodGet, http.MethodOptions, http.MethodHead, http.MethodPut, http.MethodDelete, "PATCH"}

// fzHandler is the whole handler of a server on a fresh SQLite database with one case.
func fzHandler(f *testing.F) (http.Handler, string) {
	d := dbtest.MustSQLite(f)
	u, c := dbtest.MustUser(f, d), dbtest.MustCompany(f, d)
	dbtest.MustOpen(f, d, dbtest.MustPayment(f, d, u, c, ""), dispute.IssueItemNotReceived, dbtest.Now())
	customer := dbtest.MustToken(f, d, db.TokenUser, u.ID, true)
	s := apptest.New(f, d, apptest.Options{Env: map[string]string{"MAX_BODY_BYTES": "65536", "APQ_CACHE_SIZE": "16",
		"CORS_ORIGINS": "https://app.example.com", "REQUEST_TIMEOUT": "5s", "LOG_FORMAT": "text"}})
	return s.Handler(), customer
}

func fzValidHeader(v string) bool { return !strings.ContainsAny(v, "\r\n\x00") }

func FuzzHTTPHandler(f *testing.F) {
	h, customer := fzHandler(f)
	type seed struct {
		method      uint8
		query       string
		contentType string
		accept      string
		auth        uint8
		origin      string
		body        string
	}
	q := `{"query":"{ viewer { role } resolutions(first: 2) { edges { cursor node { id status events(first: 2) { nodes { action } } } } } }"}`
	for _, s := range []seed{
		{0, "", "application/json", "application/json", 1, "", q},
		{0, "", "application/json", "application/graphql-response+json", 3, "", q},
		{0, "", "application/json; charset=utf-8", "*/*", 0, "", `{"query":"{ __typename }"}`},
		{0, "", "application/json", "", 1, "", `{"query":"mutation { createCompany(input: {title: \"F\", route: \"fz\"}) { userErrors { code } } }"}`},
		{0, "", "application/json", "", 3, "", `{"query":"query($id: ID!) { node(id: $id) { id } }","variables":{"id":"reso_01jd2k7q1x4m8n9p0r3s5t6v7w"}}`},
		{0, "", "application/json", "", 3, "", `{"query":"query($a: String) { resolutions(after: $a) { pageInfo { hasNextPage } } }","variables":{"a":"cjF8Y3JlYXRlZF9hdA"}}`},
		{0, "", "application/json", "", 1, "", `{"query":"{ __typename }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"}}}`},
		{0, "", "application/json", "", 1, "", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"00"}}}`},
		{0, "", "application/json", "", 0, "", `[{"query":"{ __typename }"},{"query":"{ __typename }"}]`},
		{0, "", "application/json", "", 0, "", `{"query":"{ __typename }"} {"query":"x"}`},
		{0, "", "application/json", "", 0, "", `{"query":1,"variables":[],"extensions":"x","operationName":{}}`},
		{0, "", "application/json", "", 0, "", `{"query":"{ __typename"}`},
		{0, "", "application/json", "", 0, "", `{"query":"subscription { resolutionUpdated { id } }"}`},
		{0, "", "application/json; charset=latin1", "", 0, "", `{"query":"{ __typename }"}`},
		{0, "", "text/plain", "", 1, "", `{"query":"{ __typename }"}`},
		{0, "", "application/x-www-form-urlencoded", "", 1, "", `query=%7B__typename%7D`},
		{0, "", "multipart/form-data; boundary=x", "", 1, "", "--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--x--\r\n"},
		{0, "", "application/json", "text/html", 0, "", `{"query":"{ __typename }"}`},
		{0, "", "application/json", "application/json;q=0, application/graphql-response+json;q=0", 0, "", `{"query":"{ __typename }"}`},
		{0, "", "", "", 0, "", ``},
		{0, "", "application/json", "", 2, "", `{"query":"{ viewer { role } }"}`},
		{1, "query=%7B+viewer+%7B+role+%7D+%7D", "", "application/json", 3, "", ``},
		{1, "query=mutation+%7B+__typename+%7D", "", "", 1, "", ``},
		{1, "query=%7B__typename%7D&variables=%5B%5D", "", "", 0, "", ``},
		{1, "query=%7B__typename%7D&variables=%7B%7D&extensions=null&operationName=", "", "", 0, "", ``},
		{1, "query=%zz", "", "", 0, "", ``},
		{1, "", "", "", 0, "", ``},
		{2, "", "", "", 0, "https://app.example.com", ``},
		{2, "", "", "", 0, "https://evil.example.net", ``},
		{3, "", "", "", 0, "", ``},
		{4, "", "application/json", "", 0, "", `{"query":"{ __typename }"}`},
		{0, "", "application/json", "", 1, "", `{"query":"{ __schema { types { name fields { name type { name ofType { name } } } } } }"}`},
		{0, "", "application/json", "", 1, "", `{"query":"query A { __typename } query B { __typename }","operationName":"C"}`},
		{0, "", "application/json", "", 3, "", `{"query":"mutation($i: ResolutionMessageInput!) { respondToResolution(input: $i) { userErrors { code } } }","variables":{"i":{"resolutionId":"reso_01jd2k7q1x4m8n9p0r3s5t6v7w","message":"\u0000"}}}`},
	} {
		f.Add(s.method, s.query, s.contentType, s.accept, s.auth, s.origin, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method uint8, rawQuery, contentType, accept string, authKind uint8, origin string, body []byte) {
		m := fzMethods[int(method)%len(fzMethods)]
		req := httptest.NewRequest(m, "/graphql", bytes.NewReader(body))
		req.URL.RawQuery = rawQuery
		// What the HTTP server would have refused on the wire is dropped; streaming
		// (SSE, WebSocket upgrades) is out of scope: those are not JSON exchanges.
		if fzValidHeader(contentType) && contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if fzValidHeader(accept) && accept != "" && !strings.Contains(accept, "text/event-stream") {
			req.Header.Set("Accept", accept)
		}
		if fzValidHeader(origin) && origin != "" {
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
		}
		switch authKind % 4 {
		case 1:
			req.Header.Set("Authorization", "Bearer "+fzPlatformToken)
		case 2:
			req.Header.Set("Authorization", "Bearer not-a-token")
		case 3:
			req.Header.Set("Authorization", "Bearer "+customer)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		out := rec.Body.Bytes()
		if res.StatusCode >= 500 {
			t.Fatalf("%s ?%s (%q, accept %q): %d %s", m, rawQuery, contentType, accept, res.StatusCode, out)
		}
		if len(out) == 0 || m == http.MethodHead {
			return
		}
		// PUT, DELETE, PATCH... fall through to gqlgen's "transport not supported",
		// written without a Content-Type: a known bug with its own test
		// (TestProdUnsupportedMethod in graph/prod_test.go), not re-reported here.
		knownUntyped := m != http.MethodGet && m != http.MethodPost && m != http.MethodOptions
		if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, "json") && !knownUntyped {
			t.Fatalf("%s ?%s: Content-Type %q for %d %q", m, rawQuery, ct, res.StatusCode, out)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(out, &obj); err != nil {
			t.Fatalf("%s ?%s: not a JSON object: %d %q", m, rawQuery, res.StatusCode, out)
		}
		if _, ok := obj["errors"]; !ok {
			if _, ok := obj["data"]; !ok {
				t.Fatalf("%s ?%s: neither data nor errors: %d %s", m, rawQuery, res.StatusCode, out)
			}
		}
	})
}
