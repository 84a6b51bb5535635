package graph

import (
	"net/http"
	"slices"
	"strings"

	"github.com/rs/cors"

	"resolutioncenter/graph/wsproto"
)

// CORSHeaders are the request headers a browser page may send cross-origin: the
// credentials and content negotiation, the request ID, and the tracing and client
// identification headers common GraphQL clients add (Apollo Client's
// apollographql-client-*, OpenTelemetry's traceparent/tracestate/baggage). A preflight
// asking for others is answered without them, and the browser then refuses.
var CORSHeaders = []string{"Authorization", "Content-Type", "Accept", "X-Request-ID",
	"traceparent", "tracestate", "baggage", "apollographql-client-name", "apollographql-client-version"}

// withCORS answers cross-origin requests and their preflights, by github.com/rs/cors,
// for the origins in origins (exact, "*" for any, or a pattern such as
// https://*.example.com, matched as WebSocket origins are: see originListed) and, in
// development mode (dev), every loopback origin (http://localhost:5173 and the like,
// any port and scheme). Responses expose
// X-Request-Id and Retry-After to the page. No credentials (cookies) are ever allowed:
// the API takes bearer tokens. A preflight from an origin not allowed is answered 403,
// so nothing in it looks like an approval.
func withCORS(origins []string, dev bool, next http.Handler) http.Handler {
	if len(origins) == 0 && !dev {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isPreflight(r) {
				writeJSONError(w, http.StatusForbidden, "cross-origin requests are not allowed (CORS_ORIGINS is empty)", "FORBIDDEN")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	opts := cors.Options{
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders: CORSHeaders,
		ExposedHeaders: []string{"X-Request-Id", "Retry-After"},
		MaxAge:         600,
	}
	opts.AllowOriginFunc = func(origin string) bool {
		return (dev && wsproto.IsLoopbackOrigin(origin)) || originListed(origins, origin)
	}
	c := cors.New(opts)
	h := c.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isPreflight(r) {
			if !c.OriginAllowed(r) {
				w.Header().Add("Vary", "Origin")
				writeJSONError(w, http.StatusForbidden, "origin not allowed", "FORBIDDEN")
				return
			}
			// Approve the safe headers asked for and leave out the others (rs/cors would
			// refuse the whole preflight); the browser then refuses to send those.
			r.Header.Set("Access-Control-Request-Headers", safeRequestHeaders(r.Header.Values("Access-Control-Request-Headers")))
		}
		h.ServeHTTP(w, r)
	})
}

// safeRequestHeaders keeps the headers of Access-Control-Request-Headers that are in
// CORSHeaders.
func safeRequestHeaders(values []string) string {
	var keep []string
	for _, v := range values {
		for _, h := range strings.Split(v, ",") {
			h = strings.TrimSpace(h)
			if slices.ContainsFunc(CORSHeaders, func(s string) bool { return strings.EqualFold(s, h) }) {
				keep = append(keep, strings.ToLower(h))
			}
		}
	}
	slices.Sort(keep) // as browsers send them (the Fetch standard), as rs/cors expects
	return strings.Join(slices.Compact(keep), ",")
}

func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// originListed reports whether origin matches an entry of CORS_ORIGINS: "*", or an
// origin pattern (scheme included), matched by wsproto.MatchOrigin as the WebSocket
// transport matches the same entries. Host-only patterns are for WS_ORIGINS and do not
// allow HTTP requests.
func originListed(origins []string, origin string) bool {
	for _, o := range origins {
		if (o == "*" || strings.Contains(o, "://")) && wsproto.MatchOrigin(o, origin) {
			return true
		}
	}
	return false
}
