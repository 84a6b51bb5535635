package graph

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// isStreaming tells requests that stay open (WebSocket upgrades, SSE) from ordinary ones.
func isStreaming(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
		strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// isUpgrade tells WebSocket upgrade requests.
func isUpgrade(r *http.Request) bool { return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") }

// withRequestTimeout bounds ordinary requests (not streams) with a context deadline, which
// also bounds their SQL statements; it records the client address (clientAddr) for rate
// limiting and the throttling of failed authentications.
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

// clientAddr is the request's client: the peer's IP address, or, when the peer is a
// trusted proxy, the right-most address of X-Forwarded-For that is not one (what the
// first untrusted hop told the trusted ones; anything left of it is the client's say).
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(trusted) == 0 || !isTrusted(host, trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		if !isTrusted(h, trusted) {
			return h
		}
		host = h
	}
	return host
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
