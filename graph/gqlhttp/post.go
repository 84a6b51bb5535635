package gqlhttp

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

// POST serves GraphQL requests sent as a JSON object in the body of a POST request
// (Content-Type application/json, UTF-8). See the package documentation for the status
// codes. JSON-array batching is not supported (400).
type POST struct {
	// MaxBodyBytes, when positive, caps the body this transport reads itself; a larger
	// body answers 413. A body the caller already wrapped in http.MaxBytesReader answers
	// 413 as well when it runs over that reader's limit.
	MaxBodyBytes int64
}

var _ graphql.Transport = POST{}

// Supports claims every POST request that is not a WebSocket upgrade, so that an
// unsupported Content-Type answers 415: add POST after the transports that claim
// narrower sets of POST requests. An offer to upgrade to another protocol (h2c) is not
// taken, and the request answered as without it.
func (POST) Supports(r *http.Request) bool {
	return r.Method == http.MethodPost && !IsWebSocketUpgrade(r)
}

// IsWebSocketUpgrade tells WebSocket upgrade requests as the WebSocket library accepts
// them: "websocket" among the Upgrade header's comma-separated tokens, in any case (an
// exact match missed "websocket, x", which the upgrade accepts: such a socket was then
// timed and counted as an ordinary request).
func IsWebSocketUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "websocket") {
				return true
			}
		}
	}
	return false
}

// Do decodes the request and executes it.
func (t POST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	mediaType, ok := negotiate(r)
	if !ok {
		writeError(w, MediaTypeJSON, http.StatusNotAcceptable,
			"the Accept header allows neither application/graphql-response+json nor application/json")
		return
	}
	if msg := checkContentType(r.Header.Get("Content-Type")); msg != "" {
		w.Header().Set("Accept-Post", "application/json")
		writeError(w, mediaType, http.StatusUnsupportedMediaType, msg)
		return
	}

	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	if t.MaxBodyBytes > 0 {
		body = http.MaxBytesReader(w, body, t.MaxBodyBytes)
	}
	start := graphql.Now()
	params, status, msg := decodePOST(body)
	if status != 0 {
		writeError(w, mediaType, status, msg)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	execute(w, r, exec, mediaType, params, false)
}

// checkContentType returns a message when the request's Content-Type is not JSON in
// UTF-8 (no charset parameter means UTF-8).
func checkContentType(ct string) string {
	if ct == "" {
		return "missing Content-Type: send application/json"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != MediaTypeJSON {
		return "unsupported Content-Type: send application/json"
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return "unsupported charset: send UTF-8"
	}
	return ""
}

// postBody is the request object; the fields are typed any so that one decoding pass
// can both read them and tell wrong JSON types from missing ones.
type postBody struct {
	Query         any `json:"query"`
	OperationName any `json:"operationName"`
	Variables     any `json:"variables"`
	Extensions    any `json:"extensions"`
	DocumentID    any `json:"documentId"`
	DocID         any `json:"doc_id"` // Relay's name for it
}

// DecodeBody reads a request body as POST does (one JSON object, fields of the right
// JSON types, documentId or doc_id into extensions.documentId), for transports that
// take the same body (SSE). On failure it returns the status (400 or 413) and a message
// that does not repeat the body.
func DecodeBody(body io.Reader) (*graphql.RawParams, int, string) { return decodePOST(body) }

// decodePOST reads the body. On failure it returns the status (400 or 413) and a
// message.
func decodePOST(body io.Reader) (*graphql.RawParams, int, string) {
	dec := json.NewDecoder(body)
	dec.UseNumber() // as gqlgen does: numbers reach the input unmarshalers as json.Number
	var b postBody
	if err := dec.Decode(&b); err != nil {
		return nil, bodyErrorStatus(err), bodyErrorMessage(err)
	}
	// Exactly one JSON value: the rest must be whitespace.
	if _, err := dec.Token(); err != io.EOF {
		if tooLarge(err) {
			return nil, http.StatusRequestEntityTooLarge, MsgBodyTooLarge
		}
		return nil, http.StatusBadRequest, "the request body must hold a single JSON object"
	}
	docID := b.DocumentID
	if docID == nil {
		docID = b.DocID
	}
	return fromFields(b.Query, b.OperationName, b.Variables, b.Extensions, docID)
}

// fromFields checks the JSON types of the request parameters. A persisted document's
// ID (documentId) goes to the executor as extensions.documentId.
func fromFields(query, operationName, variables, extensions, documentID any) (*graphql.RawParams, int, string) {
	p := &graphql.RawParams{}
	switch v := extensions.(type) {
	case nil:
	case map[string]any:
		p.Extensions = v
	default:
		return nil, http.StatusBadRequest, "extensions must be a JSON object"
	}
	switch v := documentID.(type) {
	case nil:
	case string:
		if v == "" {
			return nil, http.StatusBadRequest, "documentId must not be empty"
		}
		if p.Extensions == nil {
			p.Extensions = map[string]any{}
		}
		p.Extensions[ExtensionDocumentID] = v
	default:
		return nil, http.StatusBadRequest, "documentId must be a string"
	}
	switch v := query.(type) {
	case string:
		p.Query = v
	case nil:
		// Persisted documents send an ID (documentId, or a hash in extensions for
		// automatic persisted queries) instead of the query.
		_, apq := p.Extensions["persistedQuery"]
		if !apq && documentID == nil {
			return nil, http.StatusBadRequest, "the query parameter is missing"
		}
	default:
		return nil, http.StatusBadRequest, "the query parameter must be a string"
	}
	switch v := operationName.(type) {
	case nil:
	case string:
		p.OperationName = v
	default:
		return nil, http.StatusBadRequest, "operationName must be a string"
	}
	switch v := variables.(type) {
	case nil:
	case map[string]any:
		p.Variables = v
	default:
		return nil, http.StatusBadRequest, "variables must be a JSON object"
	}
	return p, 0, ""
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func bodyErrorStatus(err error) int {
	if tooLarge(err) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func bodyErrorMessage(err error) string {
	if tooLarge(err) {
		return MsgBodyTooLarge
	}
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return "the request body is empty"
	case errors.As(err, &ute) && ute.Value == "array":
		return "batched requests (JSON arrays) are not supported: send one JSON object"
	case errors.As(err, &ute):
		return "the request body must be a JSON object"
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		// The body is not echoed back: it may be large, or not meant for logs.
		return "the request body is not valid JSON"
	}
	return "could not read the request body"
}
