package graph_test

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"resolutioncenter/app"
	"resolutioncenter/app/apptest"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/graph"
	"resolutioncenter/graph/wsproto"
)

// The documents a frontend registered: a query with a variable, a mutation and a
// subscription.
const (
	tdViewer   = "query Viewer { viewer { role } }"
	tdCompany  = "query Company($id: ID!) { node(id: $id) { id ... on Company { title } } }"
	tdCreate   = "mutation CreateCompany($in: CreateCompanyInput!) { createCompany(input: $in) { company { id } userErrors { code } } }"
	tdUpdated  = "subscription Updated { resolutionUpdated { id status } }"
	tdNotFound = "PERSISTED_QUERY_NOT_FOUND"
	tdRefused  = "PERSISTED_QUERY_NOT_ALLOWED"
)

func tdHash(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// writeManifest writes a manifest in graphql-codegen's client-preset format (ID: the
// document's SHA-256) and returns its path.
func writeManifest(t *testing.T, docs ...string) string {
	t.Helper()
	m := map[string]string{}
	for _, d := range docs {
		m[tdHash(d)] = d
	}
	b, _ := json.Marshal(m)
	p := filepath.Join(t.TempDir(), "persisted-documents.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseDocumentsFormats(t *testing.T) {
	codegen, _ := json.Marshal(map[string]string{tdHash(tdViewer): tdViewer})
	relay, _ := json.Marshal(map[string]string{md5hex(tdViewer): tdViewer})
	apollo, _ := json.Marshal(map[string]any{"format": "apollo-persisted-query-manifest", "version": 1,
		"operations": []map[string]string{{"id": tdHash(tdViewer), "name": "Viewer", "type": "query", "body": tdViewer}}})
	for name, c := range map[string]struct {
		data []byte
		id   string
	}{"graphql-codegen client preset": {codegen, tdHash(tdViewer)}, "Relay": {relay, md5hex(tdViewer)}, "Apollo": {apollo, tdHash(tdViewer)}} {
		docs, err := graph.ParseDocuments(c.data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if doc, ok := docs.Lookup(c.id); !ok || doc != tdViewer || docs.Len() != 1 {
			t.Errorf("%s: Lookup(%s) = %q, %v", name, c.id, doc, ok)
		}
	}
	docs, _ := graph.ParseDocuments(codegen)
	if _, ok := docs.Lookup("sha256:" + tdHash(tdViewer)); !ok {
		t.Error("a sha256:-prefixed documentId does not find the bare hash")
	}
	for name, data := range map[string]string{
		"not JSON":                     `[`,
		"an array":                     `["{ viewer { role } }"]`,
		"a document that is no string": `{"a": 1}`,
		"a field the schema lacks":     `{"a": "{ viewer { secret } }"}`,
		"a syntax error":               `{"a": "{ viewer { role "}`,
		"another manifest format":      `{"format": "something-else", "version": 1}`,
		"an empty document":            `{"a": ""}`,
	} {
		if _, err := graph.ParseDocuments([]byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	_, err := graph.ParseDocuments([]byte(`{"ok": "{ viewer { role } }", "stale": "{ viewer { role renamed } }"}`))
	if err == nil || !strings.Contains(err.Error(), `"stale"`) {
		t.Errorf("a manifest for another schema: %v, want an error naming the document", err)
	}
}

func TestPersistedOnlyConfig(t *testing.T) {
	env := map[string]string{"PERSISTED_ONLY": "true"}
	if _, err := app.ParseConfig("serve", nil, func(k string) string { return env[k] }, &strings.Builder{}); err == nil ||
		!strings.Contains(err.Error(), "PERSISTED_DOCUMENTS") {
		t.Errorf("PERSISTED_ONLY without a manifest: %v, want a configuration error", err)
	}
}

// With PERSISTED_ONLY, registered documents run by ID over POST, GET and WebSocket, in
// every ID style clients use; nothing else runs (introspection aside).
func TestPersistedOnly(t *testing.T) {
	d := dbtest.MustSQLite(t)
	biz := dbtest.MustCompany(t, d)
	s := apptest.New(t, d, apptest.Options{Env: map[string]string{
		"PERSISTED_DOCUMENTS": writeManifest(t, tdViewer, tdCompany, tdCreate, tdUpdated), "PERSISTED_ONLY": "true"}})
	if !strings.Contains(s.Out.String(), "trusted documents: 4 from") {
		t.Errorf("the start-up lines do not report the manifest:\n%s", s.Out)
	}
	tok := apptest.PlatformToken
	send := func(r apptest.Request) apptest.Response {
		t.Helper()
		r.Token = tok
		resp, err := apptest.Send(t.Context(), s.URL, r)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	wantData := func(what string, r apptest.Response, want string) {
		t.Helper()
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data), want) {
			t.Errorf("%s: %s %+v, want data with %s", what, r.Data, r.Errors, want)
		}
	}
	wantCode := func(what string, r apptest.Response, code string) {
		t.Helper()
		if r.HasData() || r.FirstCode() != code {
			t.Errorf("%s: %s %+v, want %s and no data", what, r.Data, r.Errors, code)
		}
	}

	vars := map[string]any{"id": biz.ID}
	wantData("documentId", send(apptest.Request{DocumentID: tdHash(tdCompany), Variables: vars}), biz.Title)
	wantData("documentId sha256:", send(apptest.Request{DocumentID: "sha256:" + tdHash(tdCompany), Variables: vars}), biz.Title)
	wantData("persistedQuery.sha256Hash", send(apptest.Request{Variables: vars,
		Extensions: map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": tdHash(tdCompany)}}}), biz.Title)
	wantData("the registered text itself", send(apptest.Request{Query: tdViewer}), "PLATFORM")
	wantData("introspection", send(apptest.Request{Query: `{ __schema { queryType { name } } }`}), "Query")

	// Relay sends doc_id.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL, strings.NewReader(`{"doc_id": "`+tdHash(tdViewer)+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Errorf("doc_id: %v", err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `"PLATFORM"`) {
			t.Errorf("doc_id: %s", b)
		}
	}
	// GET with documentId and variables.
	status, body, err := apptest.Get(t.Context(), s.URL+"?documentId="+tdHash(tdCompany)+"&variables="+url.QueryEscape(`{"id":"`+biz.ID+`"}`),
		map[string]string{"Authorization": "Bearer " + tok})
	if err != nil || status != 200 || !strings.Contains(body, biz.Title) {
		t.Errorf("GET documentId: %d %s %v", status, body, err)
	}
	// A registered mutation runs over POST, and not over GET (405).
	wantData("a registered mutation", send(apptest.Request{DocumentID: tdHash(tdCreate),
		Variables: map[string]any{"in": map[string]any{"title": "Trusted", "route": "trusted"}}}), `"company":{"id"`)
	status, _, _ = apptest.Get(t.Context(), s.URL+"?documentId="+tdHash(tdCreate)+"&variables="+url.QueryEscape(`{"in":{"title":"T","route":"t"}}`),
		map[string]string{"Authorization": "Bearer " + tok})
	if status != 405 {
		t.Errorf("a mutation by documentId over GET: %d, want 405", status)
	}

	// Everything else is refused before it runs.
	wantCode("a free-form query", send(apptest.Request{Query: `{ viewer { role scopes } }`}), tdRefused)
	wantCode("a free-form mutation", send(apptest.Request{Query: `mutation { createCompany(input: {title: "X", route: "x"}) { company { id } } }`}), tdRefused)
	wantCode("introspection with a real field", send(apptest.Request{Query: `{ __typename viewer { role } }`}), tdRefused)
	wantCode("introspection with a real field in a fragment", send(apptest.Request{Query: `{ __schema { queryType { name } } ...F } fragment F on Query { viewer { role } }`}), tdRefused)
	wantCode("an invalid free-form document", send(apptest.Request{Query: `{ viewr { role } }`}), tdRefused)
	wantCode("a free-form document that does not parse", send(apptest.Request{Query: `{ viewer { role `}), tdRefused)
	wantData("introspection through a fragment", send(apptest.Request{Query: `{ ...F } fragment F on Query { __type(name: "Query") { name } }`}), "Query")
	wantCode("an unknown documentId", send(apptest.Request{DocumentID: tdHash("nope")}), tdNotFound)
	wantCode("an unknown sha256Hash", send(apptest.Request{
		Extensions: map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": tdHash("nope")}}}), tdNotFound)
	other := `{ viewer { scopes } }`
	wantCode("registering a document the APQ way", send(apptest.Request{Query: other,
		Extensions: map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": tdHash(other)}}}), tdRefused)
	wantCode("an ID with another document's text", send(apptest.Request{DocumentID: tdHash(tdViewer), Query: other}), "INVALID_ARGUMENT")
	var companies int
	if err := d.SQL().QueryRow(`SELECT count(*) FROM companies WHERE route = 'x'`).Scan(&companies); err != nil || companies != 0 {
		t.Errorf("the refused free-form mutation created %d companies (%v)", companies, err)
	}

	// WebSocket: a registered subscription by documentId streams; a free-form one is refused.
	ws := apptest.DialWS(t, s.URL, map[string]any{"Authorization": "Bearer " + tok})
	ws.Send(apptest.WSMessage{ID: "free", Type: "subscribe", Payload: mustMarshal(t, map[string]any{"query": "subscription { resolutionUpdated { id } }"})})
	if m := ws.Read(10 * time.Second); m.Type != "error" || !strings.Contains(string(m.Payload), tdRefused) {
		t.Errorf("a free-form subscription: %s %s, want an error with %s", m.Type, m.Payload, tdRefused)
	}
	ws.Send(apptest.WSMessage{ID: "q", Type: "subscribe", Payload: mustMarshal(t, map[string]any{"documentId": tdHash(tdViewer)})})
	if m := ws.Read(10 * time.Second); m.Type != "next" || !strings.Contains(string(m.Payload), "PLATFORM") {
		t.Errorf("a registered query over WebSocket: %s %s", m.Type, m.Payload)
	}
	ws.Send(apptest.WSMessage{ID: "sub", Type: "subscribe", Payload: mustMarshal(t, map[string]any{"documentId": tdHash(tdUpdated)})})
	time.Sleep(200 * time.Millisecond) // let the subscription register
	cast := dbtest.MustCast(t, d)
	pay := cast.MustPayment(t, d)
	// A free-form mutation by the customer is refused; the case is opened directly.
	if r := apptest.Query(t, s.URL, cast.CustomerToken, `mutation($p: ID!) { openResolution(input: {paymentId: $p, issue: ITEM_NOT_RECEIVED, message: "Missing."}) { resolution { id } } }`,
		map[string]any{"p": pay.ID}); r.FirstCode() != tdRefused {
		t.Errorf("a free-form mutation by a customer: %s %+v", r.Data, r.Errors)
	}
	dbtest.MustOpen(t, d, pay, dispute.IssueItemNotReceived, dbtest.Now())
	for {
		m := ws.Read(10 * time.Second)
		if m.ID == "q" {
			continue // the query's complete
		}
		if m.ID != "sub" || m.Type != "next" || !strings.Contains(string(m.Payload), "MERCHANT_RESPONSE_NEEDED") {
			t.Errorf("a registered subscription over WebSocket: %s %s %s", m.ID, m.Type, m.Payload)
		}
		break
	}
}

// Without PERSISTED_ONLY the manifest's documents run by ID beside free-form queries,
// and automatic persisted queries still work for IDs the manifest does not know.
func TestPersistedDocumentsBesideFreeForm(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d, apptest.Options{Env: map[string]string{"PERSISTED_DOCUMENTS": writeManifest(t, tdViewer)}})
	send := func(r apptest.Request) apptest.Response {
		t.Helper()
		r.Token = apptest.PlatformToken
		resp, err := apptest.Send(t.Context(), s.URL, r)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := send(apptest.Request{DocumentID: tdHash(tdViewer)}); !strings.Contains(string(r.Data), "PLATFORM") {
		t.Errorf("documentId: %s %+v", r.Data, r.Errors)
	}
	if r := send(apptest.Request{Query: `{ viewer { scopes } }`}); !strings.Contains(string(r.Data), "MANAGE") {
		t.Errorf("free-form: %s %+v", r.Data, r.Errors)
	}
	if r := send(apptest.Request{DocumentID: tdHash("nope")}); r.FirstCode() != tdNotFound {
		t.Errorf("unknown documentId: %s %+v", r.Data, r.Errors)
	}
	q := `{ viewer { companies { id } } }`
	apq := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": tdHash(q)}}
	if r := send(apptest.Request{Extensions: apq}); r.FirstCode() != tdNotFound {
		t.Errorf("APQ miss: %s %+v", r.Data, r.Errors)
	}
	if r := send(apptest.Request{Query: q, Extensions: apq}); len(r.Errors) > 0 {
		t.Errorf("APQ register: %+v", r.Errors)
	}
	if r := send(apptest.Request{Extensions: apq}); len(r.Errors) > 0 || !strings.Contains(string(r.Data), "companies") {
		t.Errorf("APQ hit: %s %+v", r.Data, r.Errors)
	}
}

func mustMarshal(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// With introspection off, PERSISTED_ONLY refuses introspection documents too.
func TestPersistedOnlyWithoutIntrospection(t *testing.T) {
	s := apptest.New(t, dbtest.MustSQLite(t), apptest.Options{Env: map[string]string{
		"PERSISTED_DOCUMENTS": writeManifest(t, tdViewer), "PERSISTED_ONLY": "true", "INTROSPECTION": "false"}})
	if r := s.Do(t, apptest.PlatformToken, `{ __schema { queryType { name } } }`, nil); r.HasData() || r.FirstCode() != tdRefused {
		t.Errorf("introspection: %s %+v, want %s", r.Data, r.Errors, tdRefused)
	}
	if r := s.Do(t, apptest.PlatformToken, tdViewer, nil); !strings.Contains(string(r.Data), "PLATFORM") {
		t.Errorf("the registered text: %s %+v", r.Data, r.Errors)
	}
}

// Without a manifest, a documentId is an unknown ID (PERSISTED_QUERY_NOT_FOUND), as
// the README's errors say, over POST and GET; it answered "no operation provided"
// (GRAPHQL_VALIDATION_FAILED), and a client could not tell that it should send the
// document. With APQ off, an APQ request that brings its query runs it (nothing is
// registered), with or without a manifest, and one without its query is not found.
func TestDocumentIDWithoutManifest(t *testing.T) {
	d := dbtest.MustSQLite(t)
	q := `{ viewer { companies { id } } }`
	apq := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": tdHash(q)}}
	for _, env := range []map[string]string{
		{},
		{"APQ_CACHE_SIZE": "0"},
		{"APQ_CACHE_SIZE": "0", "PERSISTED_DOCUMENTS": writeManifest(t, tdViewer)},
	} {
		s := apptest.New(t, d, apptest.Options{Env: env})
		send := func(r apptest.Request) apptest.Response {
			t.Helper()
			r.Token = apptest.PlatformToken
			resp, err := apptest.Send(t.Context(), s.URL, r)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		if r := send(apptest.Request{DocumentID: tdHash("nope")}); r.FirstCode() != tdNotFound || r.HasData() {
			t.Errorf("%v: unknown documentId over POST: %s", env, r.Raw)
		}
		status, body, err := apptest.Get(t.Context(), s.URL+"?documentId="+tdHash("nope"),
			map[string]string{"Authorization": "Bearer " + apptest.PlatformToken})
		if err != nil || status != 200 || !strings.Contains(body, tdNotFound) {
			t.Errorf("%v: unknown documentId over GET: %d %s %v", env, status, body, err)
		}
		if r := send(apptest.Request{Query: q, Extensions: apq}); len(r.Errors) > 0 || !strings.Contains(string(r.Data), "companies") {
			t.Errorf("%v: APQ with its query: %s", env, r.Raw)
		}
		if env["APQ_CACHE_SIZE"] == "0" {
			if r := send(apptest.Request{Extensions: apq}); r.FirstCode() != tdNotFound {
				t.Errorf("%v: APQ without its query, APQ off: %s", env, r.Raw)
			}
		}
	}
}

// A document ID names the same document, and an unknown one answers the same code, on
// every transport: SSE (documentId in the body), graphql-transport-ws (in subscribe)
// and legacy graphql-ws (in start). gqlgen's legacy transport dropped documentId and
// doc_id and answered "no operation provided" (GRAPHQL_VALIDATION_FAILED); and a start
// payload that is not a GraphQL request ("variables": "x") got an error without an
// extensions.code, where HTTP answers INVALID_ARGUMENT.
func TestDocumentIDOnEveryTransport(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d, apptest.Options{Env: map[string]string{"PERSISTED_DOCUMENTS": writeManifest(t, tdViewer)}})
	tok := apptest.PlatformToken
	requests := []struct {
		name    string
		payload map[string]any
		want    string // in data, or the code
	}{
		{"documentId", map[string]any{"documentId": tdHash(tdViewer)}, `"PLATFORM"`},
		{"documentId sha256:", map[string]any{"documentId": "sha256:" + tdHash(tdViewer)}, `"PLATFORM"`},
		{"doc_id", map[string]any{"doc_id": tdHash(tdViewer)}, `"PLATFORM"`},
		{"unknown documentId", map[string]any{"documentId": tdHash("nope")}, tdNotFound},
	}
	code := func(raw []byte) string {
		var errs []apptest.Error
		if json.Unmarshal(raw, &errs) == nil && len(errs) > 0 {
			return errs[0].Code()
		}
		var r apptest.Response
		_ = json.Unmarshal(raw, &r)
		return r.FirstCode()
	}
	for _, rq := range requests {
		check := func(transport, typ string, payload []byte) {
			t.Helper()
			if rq.want == tdNotFound {
				if got := code(payload); got != tdNotFound {
					t.Errorf("%s over %s: %s %s, want %s", rq.name, transport, typ, payload, tdNotFound)
				}
			} else if (typ != "next" && typ != "data" && typ != "sse") || !strings.Contains(string(payload), rq.want) || code(payload) != "" {
				t.Errorf("%s over %s: %s %s, want data with %s", rq.name, transport, typ, payload, rq.want)
			}
		}
		// SSE: the body as a POST would carry it.
		body, _ := json.Marshal(rq.payload)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		data := ""
		for _, l := range strings.Split(string(raw), "\n") {
			if d, ok := strings.CutPrefix(l, "data: "); ok && data == "" {
				data = d
			}
		}
		check("SSE", "sse", []byte(data))

		ws := dialRaw(t, s.URL, wsOpts{protocols: []string{wsproto.Subprotocol}})
		ws.init(bearer(tok))
		ws.sendJSON(map[string]any{"id": "1", "type": "subscribe", "payload": rq.payload})
		m, err := ws.next(10 * time.Second)
		if err != nil {
			t.Fatalf("%s over graphql-transport-ws: %v", rq.name, err)
		}
		check("graphql-transport-ws", m.Type, m.Payload)

		legacy := dialRaw(t, s.URL, wsOpts{protocols: []string{wsproto.LegacySubprotocol}})
		legacy.sendJSON(map[string]any{"type": "connection_init", "payload": bearer(tok)})
		legacy.expect("connection_ack", "")
		legacy.sendJSON(map[string]any{"id": "1", "type": "start", "payload": rq.payload})
		for m.Type = "ka"; m.Type == "ka"; {
			if m, err = legacy.next(10 * time.Second); err != nil {
				t.Fatalf("%s over graphql-ws: %v", rq.name, err)
			}
		}
		check("graphql-ws", m.Type, m.Payload)
	}

	// A start payload that is no GraphQL request: an error with INVALID_ARGUMENT, as
	// over HTTP (400), and the connection stays.
	legacy := dialRaw(t, s.URL, wsOpts{protocols: []string{wsproto.LegacySubprotocol}})
	legacy.sendJSON(map[string]any{"type": "connection_init", "payload": bearer(tok)})
	legacy.expect("connection_ack", "")
	for i, p := range []any{
		map[string]any{"query": tdViewer, "variables": "x"},
		map[string]any{"query": 1},
		map[string]any{"documentId": 1},
		map[string]any{"documentId": ""},
		map[string]any{},
		"{ viewer { role } }",
	} {
		id := fmt.Sprint("bad", i)
		legacy.sendJSON(map[string]any{"id": id, "type": "start", "payload": p})
		m := legacy.expect("error", id)
		if got := code(m.Payload); got != "INVALID_ARGUMENT" {
			t.Errorf("graphql-ws start with payload %v: error %s, want code INVALID_ARGUMENT", p, m.Payload)
		}
	}
	legacy.sendJSON(map[string]any{"id": "ok", "type": "start", "payload": map[string]any{"query": tdViewer}})
	if m := legacy.expect("data", "ok"); !strings.Contains(string(m.Payload), `"PLATFORM"`) {
		t.Errorf("after the refused starts: %s", m.Payload)
	}
}

// graphql-codegen's client preset keys its manifest by "sha256:<hex>", while Apollo
// Client's persisted-query link (and any client hashing the document itself) sends the
// bare hex hash as extensions.persistedQuery.sha256Hash: the bare hash finds the
// prefixed entry, as "sha256:<hex>" finds a bare one. Before, such a request was
// PERSISTED_QUERY_NOT_FOUND against a codegen manifest.
func TestDocumentIDPrefixEitherWay(t *testing.T) {
	d := dbtest.MustSQLite(t)
	b, _ := json.Marshal(map[string]string{"sha256:" + tdHash(tdViewer): tdViewer})
	p := filepath.Join(t.TempDir(), "persisted-documents.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s := apptest.New(t, d, apptest.Options{Env: map[string]string{"PERSISTED_DOCUMENTS": p, "PERSISTED_ONLY": "true"}})
	for _, r := range []apptest.Request{
		{Extensions: map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": tdHash(tdViewer)}}},
		{Extensions: map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": "sha256:" + tdHash(tdViewer)}}},
		{DocumentID: tdHash(tdViewer)},
		{DocumentID: "sha256:" + tdHash(tdViewer)},
	} {
		r.Token = apptest.PlatformToken
		resp, err := apptest.Send(t.Context(), s.URL, r)
		if err != nil || len(resp.Errors) > 0 || !strings.Contains(string(resp.Data), `"PLATFORM"`) {
			t.Errorf("%+v against a manifest keyed sha256:<hex>: %s %v", r, resp.Raw, err)
		}
	}
	r := apptest.Request{Token: apptest.PlatformToken, DocumentID: tdHash("nope")}
	if resp, err := apptest.Send(t.Context(), s.URL, r); err != nil || resp.FirstCode() != tdNotFound {
		t.Errorf("an unknown bare hash: %s %v, want %s", resp.Raw, err, tdNotFound)
	}
}
