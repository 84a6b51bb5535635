package graph

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"resolutioncenter/graph/wsproto"
)

// One CORS_ORIGINS entry means the same for HTTP (the preflight's approval) and for
// WebSockets (the upgrade), because both match it with wsproto.MatchOrigin; host-only
// patterns are WS_ORIGINS' and never approve HTTP. Checked over real HTTP and real
// WebSocket dials, against the expected answer of each case.
func TestOriginRulesAgree(t *testing.T) {
	cases := []struct {
		pattern, origin string
		http, ws        bool
	}{
		{"https://app.example.com", "https://app.example.com", true, true},
		{"https://app.example.com", "http://app.example.com", false, false},
		{"https://app.example.com", "https://app.example.com:8443", false, false},
		{"https://app.example.com", "https://evil.example", false, false},
		{"HTTPS://App.Example.com", "https://app.example.com", true, true},
		{"https://*.example.com", "https://a.example.com", true, true},
		{"https://*.example.com", "https://a.b.example.com", true, true},
		{"https://*.example.com", "https://example.com", false, false},
		{"https://*.example.com", "https://a.example.com.evil.example", false, false},
		{"https://*.example.com", "http://a.example.com", false, false},
		{"https://*.example.com:*", "https://a.example.com:8443", true, true},
		{"*", "https://anything.example", true, true},
		{"*", "null", false, false},
		{"*.example.com", "https://a.example.com", false, true},
		{"app.example.com:8443", "https://app.example.com:8443", false, true},
	}
	for _, tc := range cases {
		// HTTP: the preflight as a browser sends it.
		h := withCORS([]string{tc.pattern}, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		req := httptest.NewRequest(http.MethodOptions, "/graphql", nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", http.MethodPost)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		gotHTTP := rec.Header().Get("Access-Control-Allow-Origin") != ""
		if gotHTTP != tc.http {
			t.Errorf("CORS_ORIGINS=%s, HTTP from %s: approved %v (status %d), want %v", tc.pattern, tc.origin, gotHTTP, rec.Code, tc.http)
		}

		// WebSocket: the same entry as app.wsOrigins passes it on, over a real dial.
		tr := wsproto.New(wsproto.Options{AllowedOrigins: []string{tc.pattern}})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tr.Do(w, r, nil) }))
		hdr := http.Header{"Origin": {tc.origin}}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{HTTPHeader: hdr, Subprotocols: []string{wsproto.Subprotocol}})
		cancel()
		if c != nil {
			_ = c.CloseNow()
		}
		srv.Close()
		if gotWS := err == nil; gotWS != tc.ws {
			t.Errorf("origin pattern %s, WebSocket from %s: accepted %v (%v), want %v", tc.pattern, tc.origin, gotWS, err, tc.ws)
		}
	}
}
