package gqlhttp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

// GET serves GraphQL queries sent as URL query parameters (query, operationName, and
// variables and extensions as JSON). Mutations answer 405 with "Allow: POST".
type GET struct{}

var _ graphql.Transport = GET{}

// Supports claims GET requests that are not WebSocket upgrades (see POST.Supports).
func (GET) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && !IsWebSocketUpgrade(r)
}

// Do decodes the URL parameters and executes the query.
func (GET) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	mediaType, ok := negotiate(r)
	if !ok {
		writeError(w, MediaTypeJSON, http.StatusNotAcceptable,
			"the Accept header allows neither application/graphql-response+json nor application/json")
		return
	}
	start := graphql.Now()
	values, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, mediaType, http.StatusBadRequest, "the URL query string is malformed")
		return
	}
	var query, variables, extensions any
	if vs, ok := values["query"]; ok {
		query = vs[0]
	}
	if variables, ok = decodeParam(values.Get("variables")); !ok {
		writeError(w, mediaType, http.StatusBadRequest, "variables must be a JSON object")
		return
	}
	if extensions, ok = decodeParam(values.Get("extensions")); !ok {
		writeError(w, mediaType, http.StatusBadRequest, "extensions must be a JSON object")
		return
	}
	var operationName any
	if vs, ok := values["operationName"]; ok && vs[0] != "" {
		operationName = vs[0]
	}
	var documentID any
	for _, name := range []string{"documentId", "doc_id"} {
		if vs, ok := values[name]; ok {
			documentID = vs[0]
			break
		}
	}
	params, status, msg := fromFields(query, operationName, variables, extensions, documentID)
	if status != 0 {
		writeError(w, mediaType, status, msg)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	execute(w, r, exec, mediaType, params, true)
}

// decodeParam decodes a JSON-encoded URL parameter that must be an object (or null,
// or absent). It reports false when the value is not.
func decodeParam(s string) (any, bool) {
	if s == "" {
		return nil, true
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	switch v.(type) {
	case nil, map[string]any:
		return v, true
	}
	return nil, false
}
