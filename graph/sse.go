package graph

import (
	"errors"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
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

// Do serves the stream through a writer that turns writes away once Do returns.
// gqlgen writes its keep-alive comments from a goroutine of its own that stops only
// when the request's context ends, which net/http does after the handler returned: a
// comment written in between would go to a response, and a connection, that net/http
// has already finished with.
func (t sseTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
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
