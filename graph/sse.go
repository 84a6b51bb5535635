package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"resolutioncenter/graph/gqlhttp"
)

// sseTransport is gqlgen's SSE transport (graphql-sse's distinct connections mode),
// taking only the requests that rank text/event-stream first: gqlgen's own checks
// that the header mentions it anywhere. With KeepAlivePingInterval set, a stream with
// nothing to send gets a comment line (": ping") that often, so that proxies and load
// balancers with an idle timeout keep a quiet subscription open.
type sseTransport struct{ transport.SSE }

func (t sseTransport) Supports(r *http.Request) bool {
	return prefersEventStream(r.Header.Get("Accept")) && t.SSE.Supports(r)
}

// Do reads the body as the POST transport does before gqlgen's transport streams the
// operation: a body that is not a GraphQL request answers 400 (413 when too large)
// with a JSON error. gqlgen's transport printed such a body whole with the standard
// library's logger (raw, outside the JSON logs, so a body could forge log lines; a
// MiB per request from any caller; messages and e-mails in its variables) and echoed
// it back, and answered a body over the limit with 200.
//
// The stream goes through a writer that turns writes away once Do returns. gqlgen
// writes its keep-alive comments from a goroutine of its own that stops only when the
// request's context ends, which net/http does after the handler returned: a comment
// written in between would go to a response, and a connection, that net/http has
// already finished with.
func (t sseTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	params, status, msg := gqlhttp.DecodeBody(r.Body)
	if status != 0 {
		writeJSONError(w, status, msg, gqlhttp.ErrorCode)
		return
	}
	body, err := json.Marshal(params) // what gqlgen's transport decodes, documentId in extensions
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "the request body is not valid JSON", gqlhttp.ErrorCode)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	sw := &sseWriter{ResponseWriter: w}
	defer sw.finish()
	t.SSE.Do(sw, r, exec)
}

// errStreamDone is what a write after the end of an SSE stream gets.
var errStreamDone = errors.New("graph: the event stream has ended")

// sseWriter is an SSE response that refuses writes after finish.
type sseWriter struct {
	http.ResponseWriter
	mu   sync.Mutex
	done bool
}

func (w *sseWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, errStreamDone
	}
	return w.ResponseWriter.Write(b)
}

func (w *sseWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if f, ok := w.ResponseWriter.(http.Flusher); ok && !w.done {
		f.Flush()
	}
}

func (w *sseWriter) finish() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

// Unwrap lets http.ResponseController reach the connection.
func (w *sseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
