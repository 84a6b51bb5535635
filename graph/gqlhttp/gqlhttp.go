// Package gqlhttp provides gqlgen transports for plain GraphQL over HTTP (GET and POST)
// that follow the GraphQL over HTTP specification
// (https://graphql.github.io/graphql-over-http/draft/):
//
//   - The response media type is negotiated from Accept: application/graphql-response+json
//     when the client names it (and does not prefer application/json), application/json
//     otherwise, including for a missing Accept or wildcards; 406 when neither is acceptable.
//   - Request errors (document parse and validation errors, variable coercion errors, and any
//     other error raised before execution starts) are answered without a "data" entry, with
//     400 under application/graphql-response+json and 200 under application/json. They go
//     through the executor's DispatchError, so the error presenter applies to them.
//   - Malformed requests (body not a JSON object, missing or non-string query, variables or
//     extensions not an object, ...) answer 400, an unsupported request Content-Type 415, a
//     body over the limit of an http.MaxBytesReader 413, and a mutation over GET 405 with
//     "Allow: POST". These transport errors are written directly (not through the error
//     presenter) with extensions.code set to ErrorCode.
//
// Add the transports after any transport that claims a narrower set of POST requests
// (transport.SSE, transport.MultipartMixed, transport.MultipartForm, ...): POST supports
// every POST request that is not a protocol upgrade, so that it can answer 415 to the ones
// with an unsupported Content-Type.
//
// gqlhttp imports nothing of this module.
package gqlhttp

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Media types of GraphQL responses.
const (
	MediaTypeJSON            = "application/json"
	MediaTypeGraphQLResponse = "application/graphql-response+json"
)

// ErrorCode is the extensions.code of the errors the transports write themselves for
// malformed HTTP requests (400, 405, 406, 413, 415).
const ErrorCode = "INVALID_ARGUMENT"

// ExtensionDocumentID is the extensions key under which the transports hand the
// executor the ID of a persisted (trusted) document, sent as the request parameter
// documentId (the GraphQL over HTTP draft's name) or doc_id (Relay's): gqlgen's
// RawParams has no field for it. The request may then leave out query.
const ExtensionDocumentID = "documentId"

// Messages of transport errors that callers or tests may want to recognize.
const (
	MsgBodyTooLarge = "request body too large"
)

// negotiate picks the response media type from the request's Accept header(s). It
// reports false when the client accepts neither media type.
//
// Each media type gets the quality of the most specific media range that matches it
// (RFC 9110, section 12.5.1). application/graphql-response+json wins when the client
// names it explicitly with a quality not below that of application/json; wildcards
// alone select application/json, as does a missing Accept header.
func negotiate(r *http.Request) (string, bool) {
	values := r.Header.Values("Accept")
	if len(values) == 0 {
		return MediaTypeJSON, true
	}
	var (
		qGR, qJSON       float64
		specGR, specJSON int // 0 no match, 1 */*, 2 application/*, 3 exact
		seen             bool
	)
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			seen = true
			q := 1.0
			if s, ok := params["q"]; ok {
				f, err := strconv.ParseFloat(s, 64)
				if err != nil || f < 0 || f > 1 {
					continue
				}
				q = f
			}
			var spec int
			switch mt {
			case "*/*":
				spec = 1
			case "application/*":
				spec = 2
			}
			if spec > 0 {
				if spec > specGR {
					specGR, qGR = spec, q
				}
				if spec > specJSON {
					specJSON, qJSON = spec, q
				}
				continue
			}
			switch mt {
			case MediaTypeGraphQLResponse:
				if specGR < 3 {
					specGR, qGR = 3, q
				}
			case MediaTypeJSON:
				if specJSON < 3 {
					specJSON, qJSON = 3, q
				}
			}
		}
	}
	if !seen {
		// Nothing parseable: treat like a missing header.
		return MediaTypeJSON, true
	}
	switch {
	case specGR == 3 && qGR > 0 && qGR >= qJSON:
		return MediaTypeGraphQLResponse, true
	case qJSON > 0:
		return MediaTypeJSON, true
	case qGR > 0:
		return MediaTypeGraphQLResponse, true
	}
	return "", false
}

// requestErrorStatus is the status of a response to a well-formed request whose
// GraphQL request failed before execution (no "data" entry).
func requestErrorStatus(mediaType string) int {
	if mediaType == MediaTypeGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

func setContentType(w http.ResponseWriter, mediaType string) {
	h := w.Header()
	h.Set("Content-Type", mediaType+"; charset=utf-8")
	h.Add("Vary", "Accept")
}

// writeError answers a transport error: status and one error with extensions.code
// ErrorCode, no "data" entry.
func writeError(w http.ResponseWriter, mediaType string, status int, msg string) {
	setContentType(w, mediaType)
	w.WriteHeader(status)
	writeResponse(w, &graphql.Response{Errors: gqlerror.List{{
		Message:    msg,
		Extensions: map[string]any{"code": ErrorCode},
	}}}, false)
}

// writeResponse writes resp as JSON. The "data" entry is written only when withData
// is true (execution started), as null when resp.Data is empty. resp.Data is already
// JSON produced by the executor and is copied as is rather than re-encoded; only the
// (small) errors and extensions go through encoding/json.
func writeResponse(w io.Writer, resp *graphql.Response, withData bool) {
	var errs, path, ext []byte
	var err error
	if len(resp.Errors) > 0 {
		errs, err = marshal(resp.Errors)
	}
	if err == nil && len(resp.Path) > 0 {
		path, err = marshal(resp.Path)
	}
	if err == nil && len(resp.Extensions) > 0 {
		ext, err = marshal(resp.Extensions)
	}
	if err != nil {
		errs = []byte(`[{"message":"internal error: the response could not be encoded","extensions":{"code":"INTERNAL"}}]`)
		path, ext = nil, nil
	}

	// Errors first, as gqlgen does (and as the GraphQL spec suggests).
	sep := "{"
	if errs != nil {
		_, _ = io.WriteString(w, `{"errors":`)
		_, _ = w.Write(errs)
		sep = ","
	}
	if withData {
		_, _ = io.WriteString(w, sep+`"data":`)
		if len(resp.Data) == 0 {
			_, _ = io.WriteString(w, "null")
		} else {
			_, _ = w.Write(resp.Data)
		}
		sep = ","
	}
	if resp.Label != "" {
		label, _ := marshal(resp.Label)
		_, _ = io.WriteString(w, sep+`"label":`)
		_, _ = w.Write(label)
		sep = ","
	}
	if path != nil {
		_, _ = io.WriteString(w, sep+`"path":`)
		_, _ = w.Write(path)
		sep = ","
	}
	if resp.HasNext != nil {
		_, _ = io.WriteString(w, sep+`"hasNext":`+strconv.FormatBool(*resp.HasNext))
		sep = ","
	}
	if ext != nil {
		_, _ = io.WriteString(w, sep+`"extensions":`)
		_, _ = w.Write(ext)
		sep = ","
	}
	if sep == "{" {
		_, _ = io.WriteString(w, "{}")
		return
	}
	_, _ = io.WriteString(w, "}")
}

// marshal encodes v without escaping <, > and & (error messages quote GraphQL
// source such as "<EOF>"; the responses are never embedded in HTML).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
