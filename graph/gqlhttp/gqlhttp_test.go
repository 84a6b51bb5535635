package gqlhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/executor/testexecutor"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"resolutioncenter/graph/gqlhttp"
)

const (
	jsonCT = "application/json; charset=utf-8"
	grCT   = "application/graphql-response+json; charset=utf-8"
	gr     = gqlhttp.MediaTypeGraphQLResponse
)

// presentedCode is what the test error presenter puts in place of gqlgen's codes, to
// show that request errors go through the presenter.
const presentedCode = "PRESENTED_INVALID"

// newServer serves gqlgen's test executor (Query{name, find(id: Int!), user},
// Mutation{name}, Subscription{name}) over the gqlhttp transports.
func newServer(t *testing.T, post gqlhttp.POST) http.Handler {
	t.Helper()
	srv := handler.New(testexecutor.New().Schema())
	srv.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if code, _ := gqlErr.Extensions["code"].(string); code == errcode.ParseFailed || code == errcode.ValidationFailed {
			gqlErr.Extensions["code"] = presentedCode
		}
		return gqlErr
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(gqlhttp.GET{})
	srv.AddTransport(post)
	return srv
}

type result struct {
	status int
	header http.Header
	body   []byte
	keys   map[string]json.RawMessage
	errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	}
}

func (r *result) hasData() bool { _, ok := r.keys["data"]; return ok }

func do(t *testing.T, h http.Handler, req *http.Request) *result {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := &result{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if err := json.Unmarshal(res.body, &res.keys); err != nil {
		t.Fatalf("response body is not a JSON object: %v: %s", err, res.body)
	}
	if raw, ok := res.keys["errors"]; ok {
		if err := json.Unmarshal(raw, &res.errors); err != nil {
			t.Fatalf("errors: %v: %s", err, raw)
		}
	}
	return res
}

func post(body, contentType, accept string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return req
}

func get(params url.Values, accept string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/graphql?"+params.Encode(), nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return req
}

func check(t *testing.T, res *result, status int, contentType string, data bool) {
	t.Helper()
	if res.status != status {
		t.Errorf("status %d, want %d (body %s)", res.status, status, res.body)
	}
	if got := res.header.Get("Content-Type"); got != contentType {
		t.Errorf("Content-Type %q, want %q", got, contentType)
	}
	if res.hasData() != data {
		t.Errorf("data entry present: %v, want %v (body %s)", res.hasData(), data, res.body)
	}
}

func TestPOSTSuccess(t *testing.T) {
	h := newServer(t, gqlhttp.POST{})
	body := `{"query":"{ name }"}`
	for _, tc := range []struct {
		accept, contentType string
	}{
		{"", jsonCT},
		{"application/json", jsonCT},
		{"*/*", jsonCT},
		{"application/*", jsonCT},
		{gr, grCT},
		{gr + ", application/json", grCT},
		{"application/json, " + gr, grCT},
		{gr + ";q=0.9, application/json", jsonCT},
		{"application/json;q=0.5, " + gr + ";q=0.8", grCT},
		{"text/html, */*;q=0.8", jsonCT},
		{"application/json;q=0, */*", grCT},
		{"application/json; charset=utf-8", jsonCT},
	} {
		t.Run("accept="+tc.accept, func(t *testing.T) {
			res := do(t, h, post(body, "application/json", tc.accept))
			check(t, res, http.StatusOK, tc.contentType, true)
			if _, ok := res.keys["errors"]; ok {
				t.Errorf("unexpected errors: %s", res.body)
			}
			if got := string(res.keys["data"]); got != `{"name":"test"}` {
				t.Errorf("data %s", got)
			}
			if got := res.header.Get("Vary"); got != "Accept" {
				t.Errorf("Vary %q", got)
			}
		})
	}
}

func TestNotAcceptable(t *testing.T) {
	h := newServer(t, gqlhttp.POST{})
	for _, accept := range []string{"text/html", "application/xml, text/*", gr + ";q=0, application/json;q=0", "*/*;q=0"} {
		res := do(t, h, post(`{"query":"{ name }"}`, "application/json", accept))
		check(t, res, http.StatusNotAcceptable, jsonCT, false)
		res = do(t, h, get(url.Values{"query": {"{ name }"}}, accept))
		check(t, res, http.StatusNotAcceptable, jsonCT, false)
	}
}

// Request errors: 200 under application/json, 400 under
// application/graphql-response+json, never a data entry, and the error presenter ran.
func TestRequestErrors(t *testing.T) {
	h := newServer(t, gqlhttp.POST{})
	for _, tc := range []struct {
		name, body, message string
	}{
		{"parse", `{"query":"{"}`, "Expected Name, found <EOF>"},
		{"validation", `{"query":"{ nope }"}`, `Cannot query field "nope" on type "Query".`},
		{"coercion null", `{"query":"query($id: Int!) { find(id: $id) }","variables":{"id":null}}`, ""},
		{"coercion type", `{"query":"query($id: Int!) { find(id: $id) }","variables":{"id":"x"}}`, ""},
		{"unknown operation", `{"query":"query A { name }","operationName":"B"}`, "operation B not found"},
		{"empty query", `{"query":""}`, "no operation provided"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, m := range []struct {
				accept, ct string
				status     int
			}{
				{"application/json", jsonCT, http.StatusOK},
				{"", jsonCT, http.StatusOK},
				{gr, grCT, http.StatusBadRequest},
			} {
				res := do(t, h, post(tc.body, "application/json", m.accept))
				check(t, res, m.status, m.ct, false)
				if len(res.errors) == 0 {
					t.Fatalf("no errors: %s", res.body)
				}
				if got := res.errors[0].Extensions["code"]; got != presentedCode {
					t.Errorf("code %v, want %s (presenter not applied?)", got, presentedCode)
				}
				if tc.message != "" && !strings.Contains(res.errors[0].Message, tc.message) {
					t.Errorf("message %q, want it to contain %q", res.errors[0].Message, tc.message)
				}
				if bytes.Contains(res.body, []byte(`\u003c`)) {
					t.Errorf("HTML-escaped body: %s", res.body)
				}
			}
		})
	}
}

// Malformed requests answer 400 whatever the media type.
func TestMalformedPOST(t *testing.T) {
	h := newServer(t, gqlhttp.POST{})
	for _, tc := range []struct{ name, body, message string }{
		{"not JSON", `{ "not a JSON`, "not valid JSON"},
		{"syntax", `{"query": }`, "not valid JSON"},
		{"empty body", ``, "empty"},
		{"trailing data", `{"query":"{ name }"} {}`, "single JSON object"},
		{"batch", `[{"query":"{ name }"}]`, "batched"},
		{"string body", `"{ name }"`, "JSON object"},
		{"missing query", `{"qeury":"{ name }"}`, "missing"},
		{"null query", `{"query":null}`, "missing"},
		{"object query", `{"query":{"obj":"ect"}}`, "must be a string"},
		{"number query", `{"query":0}`, "must be a string"},
		{"bool query", `{"query":false}`, "must be a string"},
		{"array query", `{"query":["array"]}`, "must be a string"},
		{"number operationName", `{"query":"{ name }","operationName":0}`, "operationName"},
		{"object operationName", `{"query":"{ name }","operationName":{}}`, "operationName"},
		{"string variables", `{"query":"{ name }","variables":"string"}`, "variables"},
		{"array variables", `{"query":"{ name }","variables":["array"]}`, "variables"},
		{"number variables", `{"query":"{ name }","variables":0}`, "variables"},
		{"string extensions", `{"query":"{ name }","extensions":"string"}`, "extensions"},
		{"bool extensions", `{"query":"{ name }","extensions":false}`, "extensions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, m := range []struct{ accept, ct string }{{"application/json", jsonCT}, {gr, grCT}} {
				res := do(t, h, post(tc.body, "application/json", m.accept))
				check(t, res, http.StatusBadRequest, m.ct, false)
				if len(res.errors) != 1 || !strings.Contains(res.errors[0].Message, tc.message) {
					t.Errorf("errors %+v, want one containing %q", res.errors, tc.message)
				}
				if len(res.errors) == 1 && res.errors[0].Extensions["code"] != gqlhttp.ErrorCode {
					t.Errorf("code %v, want %s", res.errors[0].Extensions["code"], gqlhttp.ErrorCode)
				}
			}
		})
	}
}

func TestNullAndMapParameters(t *testing.T) {
	h := newServer(t, gqlhttp.POST{})
	for _, body := range []string{
		`{"query":"{ name }","variables":null,"operationName":null,"extensions":null}`,
		`{"query":"query Q { name }","operationName":"Q"}`,
		`{"query":"query Q($id: Int!) { find(id: $id) }","variables":{"id":1}}`,
		`{"query":"{ name }","extensions":{"some":"value"}}`,
		`{"query":"{ name }","unknown":1}`,
		" \n\t{\"query\":\"{ name }\"}\n ",
	} {
		for _, accept := range []string{"application/json", gr} {
			res := do(t, h, post(body, "application/json", accept))
			if res.status != http.StatusOK || !res.hasData() || res.keys["errors"] != nil {
				t.Errorf("%s (%s): %d %s", body, accept, res.status, res.body)
			}
		}
	}
}

func TestUnsupportedContentType(t *testing.T) {
	h := newServer(t, gqlhttp.POST{})
	body := `{"query":"{ name }"}`
	for _, ct := range []string{"", "text/plain;charset=UTF-8", "application/graphql", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=iso-8859-1", "application/json; charset=utf-16", "not a media type"} {
		res := do(t, h, post(body, ct, gr))
		check(t, res, http.StatusUnsupportedMediaType, grCT, false)
		if res.errors[0].Extensions["code"] != gqlhttp.ErrorCode {
			t.Errorf("%q: code %v", ct, res.errors[0].Extensions["code"])
		}
	}
	for _, ct := range []string{"application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON"} {
		res := do(t, h, post(body, ct, ""))
		check(t, res, http.StatusOK, jsonCT, true)
	}
}

// Execution started: 200 and a data entry in both media types, even when data is null.
func TestExecutionErrors(t *testing.T) {
	h := newServer(t, gqlhttp.POST{})
	// The test executor answers every mutation with an error and no data.
	for _, m := range []struct{ accept, ct string }{{"application/json", jsonCT}, {gr, grCT}} {
		res := do(t, h, post(`{"query":"mutation { name }"}`, "application/json", m.accept))
		check(t, res, http.StatusOK, m.ct, true)
		if string(res.keys["data"]) != "null" || len(res.errors) != 1 {
			t.Errorf("body %s", res.body)
		}
		if _, ok := res.keys["errors"]; !ok || !strings.HasPrefix(string(res.body), `{"errors":`) {
			t.Errorf("errors should come first: %s", res.body)
		}
	}
}

func TestSubscriptionRefused(t *testing.T) {
	h := newServer(t, gqlhttp.POST{})
	res := do(t, h, post(`{"query":"subscription { name }"}`, "application/json", gr))
	check(t, res, http.StatusBadRequest, grCT, false)
	res = do(t, h, post(`{"query":"subscription { name }"}`, "application/json", "application/json"))
	check(t, res, http.StatusOK, jsonCT, false)
	if len(res.errors) != 1 {
		t.Errorf("body %s", res.body)
	}
}

func TestGET(t *testing.T) {
	h := newServer(t, gqlhttp.POST{})
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	t.Run("query", func(t *testing.T) {
		for _, m := range []struct{ accept, ct string }{{"", jsonCT}, {"application/json", jsonCT}, {gr, grCT}} {
			res := do(t, h, get(q("query", "{ name }"), m.accept))
			check(t, res, http.StatusOK, m.ct, true)
			res = do(t, h, get(q("query", "query Q($id: Int!) { find(id: $id) }", "variables", `{"id":1}`, "operationName", "Q", "extensions", `{"a":1}`), m.accept))
			check(t, res, http.StatusOK, m.ct, true)
		}
	})
	t.Run("mutation is 405", func(t *testing.T) {
		for _, m := range []struct{ accept, ct string }{{"application/json", jsonCT}, {gr, grCT}} {
			res := do(t, h, get(q("query", "mutation { name }"), m.accept))
			check(t, res, http.StatusMethodNotAllowed, m.ct, false)
			if got := res.header.Get("Allow"); got != "POST" {
				t.Errorf("Allow %q, want POST", got)
			}
			// The mutation picked by operationName among several operations.
			res = do(t, h, get(q("query", "query A { name } mutation B { name }", "operationName", "B"), m.accept))
			check(t, res, http.StatusMethodNotAllowed, m.ct, false)
			res = do(t, h, get(q("query", "query A { name } mutation B { name }", "operationName", "A"), m.accept))
			check(t, res, http.StatusOK, m.ct, true)
		}
	})
	t.Run("request errors", func(t *testing.T) {
		res := do(t, h, get(q("query", "{"), gr))
		check(t, res, http.StatusBadRequest, grCT, false)
		res = do(t, h, get(q("query", "{"), "application/json"))
		check(t, res, http.StatusOK, jsonCT, false)
		res = do(t, h, get(q("query", "query($id: Int!) { find(id: $id) }", "variables", `{"id":null}`), gr))
		check(t, res, http.StatusBadRequest, grCT, false)
	})
	t.Run("malformed", func(t *testing.T) {
		for _, v := range []url.Values{
			q(),
			q("operationName", "Q"),
			q("query", "{ name }", "variables", "not json"),
			q("query", "{ name }", "variables", `["array"]`),
			q("query", "{ name }", "variables", `{"a":1} x`),
			q("query", "{ name }", "extensions", `"string"`),
		} {
			res := do(t, h, get(v, gr))
			check(t, res, http.StatusBadRequest, grCT, false)
		}
		req := httptest.NewRequest(http.MethodGet, "/graphql?query=%zz", nil)
		check(t, do(t, h, req), http.StatusBadRequest, jsonCT, false)
	})
}

const tooLargeBody = `{"errors":[{"message":"request body too large","extensions":{"code":"INVALID_ARGUMENT"}}]}`

func TestBodyTooLarge(t *testing.T) {
	big := `{"query":"{ name }","variables":{"pad":"` + strings.Repeat("x", 4096) + `"}}`
	limited := func(h http.Handler, n int64) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, n)
			h.ServeHTTP(w, r)
		})
	}
	for name, h := range map[string]http.Handler{
		"caller's MaxBytesReader": limited(newServer(t, gqlhttp.POST{}), 1024),
		"POST.MaxBodyBytes":       newServer(t, gqlhttp.POST{MaxBodyBytes: 1024}),
	} {
		t.Run(name, func(t *testing.T) {
			for _, body := range []string{big, `{"query":"{ name }"}` + strings.Repeat(" ", 2048), `{ "not JSON ` + strings.Repeat("x", 2048)} {
				res := do(t, h, post(body, "application/json", ""))
				check(t, res, http.StatusRequestEntityTooLarge, jsonCT, false)
				if string(res.body) != tooLargeBody {
					t.Errorf("body %s, want %s", res.body, tooLargeBody)
				}
			}
			res := do(t, h, post(big, "application/json", gr))
			check(t, res, http.StatusRequestEntityTooLarge, grCT, false)
			// Under the limit still works.
			res = do(t, h, post(`{"query":"{ name }"}`, "application/json", ""))
			check(t, res, http.StatusOK, jsonCT, true)
		})
	}
}

// A POST of another content type reaches POST (and answers 415) only when no earlier
// transport claims it.
func TestTransportOrder(t *testing.T) {
	srv := handler.New(testexecutor.New().Schema())
	srv.AddTransport(transport.MultipartForm{})
	srv.AddTransport(gqlhttp.GET{})
	srv.AddTransport(gqlhttp.POST{})
	res := do(t, srv, post("{}", "text/plain", ""))
	check(t, res, http.StatusUnsupportedMediaType, jsonCT, false)
	req := post("--x--\r\n", "multipart/form-data; boundary=x", "")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code == http.StatusUnsupportedMediaType {
		t.Errorf("multipart request reached gqlhttp.POST")
	}
	// Upgrades are left to the WebSocket transport.
	req = httptest.NewRequest(http.MethodGet, "/graphql?query=%7Bname%7D", nil)
	req.Header.Set("Upgrade", "websocket")
	if (gqlhttp.GET{}).Supports(req) {
		t.Errorf("GET claims an upgrade")
	}
	req.Method = http.MethodPost
	if (gqlhttp.POST{}).Supports(req) {
		t.Errorf("POST claims an upgrade")
	}
}
