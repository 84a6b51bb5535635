package wsproto

import (
	"context"
	"sync"
)

// Wake lets a subscription resolver tell the transport when its channel has
// something to read, so that an idle subscription parks no goroutine: gqlgen's
// executor reads a subscription's channel in a blocking select, so without this the
// transport would keep one goroutine per subscription waiting in it.
//
// A resolver that calls StreamWake and gets a non-nil Wake promises to call Ready
// after every value it puts into its channel, and Closed once after closing it. The
// transport then reads the channel only when told: each Ready lets it read one value
// without blocking, and Closed lets it read to the end of the stream.
type Wake struct {
	mu      sync.Mutex
	claimed bool
	values  int  // values signalled and not yet read
	closed  bool // the channel is closed
	running bool // a pump is reading
	done    bool // the stream has ended; ignore further signals
	pump    func()
	// prepared, when set, offers the next value marshaled ahead of time (Prepare).
	prepared func(ctx context.Context) ([]byte, bool)
}

type wakeKey struct{}

func withWake(ctx context.Context, w *Wake) context.Context {
	return context.WithValue(ctx, wakeKey{}, w)
}

// StreamWake returns the Wake of the operation running in ctx, claiming it, when the
// transport supports it (graphql-transport-ws does; gqlgen's legacy graphql-ws and
// SSE transports do not), and nil otherwise. Ready and Closed may be called on a nil
// Wake: they do nothing.
func StreamWake(ctx context.Context) *Wake {
	w, _ := ctx.Value(wakeKey{}).(*Wake)
	if w == nil {
		return nil
	}
	w.mu.Lock()
	w.claimed = true
	w.mu.Unlock()
	return w
}

// Prepare lets the resolver hand over values marshaled ahead of time, e.g. one
// response shared by many subscribers: for each value signalled, the transport first
// calls next, on the goroutine that reads the stream; when next returns a payload (a
// response as json.Marshal writes a graphql.Response), the transport sends it as the
// operation's next message, with the operation's own id, without running the
// response handler; otherwise the response handler runs as usual. Call Prepare before
// the first Ready.
func (w *Wake) Prepare(next func(ctx context.Context) (payload []byte, ok bool)) {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.prepared = next
	w.mu.Unlock()
}

// preparedNext returns the next value's payload if the resolver prepared it.
func (w *Wake) preparedNext(ctx context.Context) ([]byte, bool) {
	w.mu.Lock()
	next := w.prepared
	w.mu.Unlock()
	if next == nil {
		return nil, false
	}
	return next(ctx)
}

// Ready signals one value put into the channel. It never blocks.
func (w *Wake) Ready() {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.values++
	w.kick()
}

// Closed signals that the channel has been closed. It never blocks.
func (w *Wake) Closed() {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.closed = true
	w.kick()
}

// kick starts the pump unless it is running, not yet installed, or done; it is
// called with w.mu held and releases it.
func (w *Wake) kick() {
	start := w.pump != nil && !w.running && !w.done
	if start {
		w.running = true
	}
	pump := w.pump
	w.mu.Unlock()
	if start {
		go pump()
	}
}

// isClaimed tells whether the resolver took the Wake.
func (w *Wake) isClaimed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.claimed
}

// install sets the pump and starts it if signals arrived already.
func (w *Wake) install(pump func()) {
	w.mu.Lock()
	w.pump = pump
	if w.values == 0 && !w.closed {
		w.mu.Unlock()
		return
	}
	w.kick()
}

// next tells the pump what to do: read one value (1), read to the end (2), or stop
// until the next signal (0).
func (w *Wake) next() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.values > 0:
		w.values--
		return 1
	case w.closed:
		return 2
	default:
		w.running = false
		return 0
	}
}

// finish marks the stream ended: later signals are ignored.
func (w *Wake) finish() {
	w.mu.Lock()
	w.done = true
	w.running = false
	w.mu.Unlock()
}
