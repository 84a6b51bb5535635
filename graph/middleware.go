package graph

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

// withCORS answers cross-origin requests from the listed origins ("*" for any) and
// preflights for them; other origins get no CORS headers, so browsers refuse to share
// responses with them. An empty list (the default) allows no cross-origin use.
func withCORS(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	any := slices.Contains(origins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && (any || slices.Contains(origins, origin)) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, X-Request-ID")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// isStreaming tells requests that stay open (WebSocket upgrades, SSE) from ordinary ones.
func isStreaming(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
		strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// withRequestTimeout bounds ordinary requests (not streams) with a context deadline, which
// also bounds their SQL statements; it records the client address for rate limiting.
func withRequestTimeout(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		ctx = WithClientAddr(ctx, host)
		if d > 0 && !isStreaming(r) {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
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
