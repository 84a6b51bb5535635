package gqlhttp

import "context"

// A response's data may live in a buffer its executor wants back once the response
// has been written (the planned executor pools them). OnWritten registers such a
// release; the transport calls it after the body is written. Transports that do not
// support it (WebSocket, SSE) leave the buffer to the garbage collector.

type writtenKey struct{}

// written holds the functions to call once a response is written.
type written struct{ fns []func() }

func withWritten(ctx context.Context) (context.Context, *written) {
	w := &written{}
	return context.WithValue(ctx, writtenKey{}, w), w
}

func (w *written) done() {
	for _, f := range w.fns {
		f()
	}
	w.fns = nil
}

// OnWritten arranges for fn to run once the response of the operation of ctx has
// been written, and reports whether the transport will do so.
func OnWritten(ctx context.Context, fn func()) bool {
	w, ok := ctx.Value(writtenKey{}).(*written)
	if ok {
		w.fns = append(w.fns, fn)
	}
	return ok
}
