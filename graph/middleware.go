package graph

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"resolutioncenter/graph/gqlhttp"
)

// isStreaming tells requests that stay open (WebSocket upgrades, SSE) from ordinary ones.
func isStreaming(r *http.Request) bool {
	return gqlhttp.IsWebSocketUpgrade(r) || prefersEventStream(r.Header.Get("Accept"))
}

// prefersEventStream reports whether an Accept header ranks text/event-stream first:
// highest q, and first listed among equals. Clients such as urql list it after the
// JSON types on every request (they can read either), and their queries must get
// JSON (with the request timeout); graphql-sse and urql's subscriptions put it first.
func prefersEventStream(accept string) bool {
	// strings.Cut rather than Split: this runs on every request, and allocates nothing.
	best, bestQ := "", -1.0
	for rest := accept; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		media, params, _ := strings.Cut(part, ";")
		q := 1.0
		for params != "" {
			var p string
			p, params, _ = strings.Cut(params, ";")
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if q > bestQ {
			best, bestQ = strings.TrimSpace(media), q
		}
	}
	return strings.EqualFold(best, "text/event-stream") && bestQ > 0
}

// withRequestTimeout bounds ordinary requests (not streams) with a context deadline, which
// also bounds their SQL statements; it records the client address (clientAddr) for rate
// limiting and the throttling of failed authentications. It sees a request, not its
// operation: the queries and mutations that streaming transports carry (SSE,
// WebSocket) are bounded by operationTimeout, which knows the operation's type.
func withRequestTimeout(d time.Duration, trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := WithClientAddr(r.Context(), clientAddr(r, trusted))
		if d > 0 && !isStreaming(r) {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// clientAddr is the request's client, as the per-address budgets count it (rate
// limits without a token, the throttling of failed authentications): the peer's IP
// address, or, when the peer is a trusted proxy, the right-most address of
// X-Forwarded-For that is not one (what the first untrusted hop told the trusted ones;
// anything left of it is the client's say); see budgetAddr.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(trusted) == 0 || !isTrusted(host, trusted) {
		return budgetAddr(host)
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := hopAddr(strings.TrimSpace(hops[i]))
		if h == "" {
			continue
		}
		if !isTrusted(h, trusted) {
			return budgetAddr(h)
		}
		host = h
	}
	return budgetAddr(host)
}

// hopAddr is the address of an X-Forwarded-For hop, which some proxies write with the
// client's port ("192.0.2.1:41234", "[2001:db8::1]:41234"): with it, every connection
// of one client had a budget of its own, and a trusted proxy written so was taken for
// the client (all its clients then shared one budget).
func hopAddr(h string) string {
	if ap, err := netip.ParseAddrPort(h); err == nil {
		return ap.Addr().String()
	}
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}

// budgetAddr is the key of an address's budgets: an IPv4 address (also written as
// IPv4-mapped IPv6) itself, an IPv6 address its /64, the block one subscriber or host
// is given: a client picks any address of its /64 at will, and rotating them gave it a
// fresh budget for every request. Anything else is kept as it is. The /64s of one /48
// also share an aggregate budget (auth.AggregateAddr, auth.AggregateFactor times one
// /64's), so that the holder of a /48 does not get 65,536 budgets.
func budgetAddr(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, err := ip.WithZone("").Prefix(64)
	if err != nil {
		return addr
	}
	return p.String()
}

func isTrusted(addr string, trusted []netip.Prefix) bool {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// allowMethods answers methods other than GET, POST and OPTIONS with 405 and a JSON
// error, as the rest of the endpoint does.
func allowMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodPost, http.MethodOptions:
			next.ServeHTTP(w, r)
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeJSONError(w, http.StatusMethodNotAllowed, "method not allowed: use POST (or GET for queries)", "INVALID_ARGUMENT")
		}
	})
}

// withWriteDeadlines bounds how long the client may take to receive what the server
// writes, so that a client that stops reading cannot hold a response (and the memory
// behind it) for longer: an ordinary response must be written within d of its first
// write; each message of an event stream (SSE) within d of its own. When the deadline
// passes, the write fails, the request's context ends (which ends a stream), and the
// connection is closed. WebSocket upgrades pass through: their frames have their own
// timeout. d <= 0 disables it.
func withWriteDeadlines(d time.Duration, next http.Handler) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if gqlhttp.IsWebSocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		dw := &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), d: d, cancel: cancel,
			renew: isStreaming(r)}
		next.ServeHTTP(dw, r.WithContext(ctx))
	})
}

// deadlineWriter sets the connection's write deadline before it writes: once per
// response, or before every write and flush of a stream (renew). The deadline stays
// after the handler returns, so that net/http's final flush is bounded too; the next
// request on the connection starts without one (see ClearWriteDeadline).
type deadlineWriter struct {
	http.ResponseWriter
	rc     *http.ResponseController
	d      time.Duration
	renew  bool
	armed  bool
	cancel context.CancelFunc
}

func (w *deadlineWriter) arm() {
	switch {
	case w.renew:
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.d))
	case !w.armed:
		w.armed = true
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.d))
	}
}

func (w *deadlineWriter) WriteHeader(code int) {
	w.arm()
	w.ResponseWriter.WriteHeader(code)
}

func (w *deadlineWriter) Write(b []byte) (int, error) {
	w.arm()
	n, err := w.ResponseWriter.Write(b)
	if err != nil {
		w.cancel()
	}
	return n, err
}

// Flush sends what is buffered (event streams flush every message).
func (w *deadlineWriter) Flush() {
	w.arm()
	if err := w.rc.Flush(); err != nil {
		w.cancel()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ClearWriteDeadline lifts the write deadline that a previous response on the same
// keep-alive connection left behind (see withWriteDeadlines); the server wraps every
// route in it.
func ClearWriteDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
		next.ServeHTTP(w, r)
	})
}
