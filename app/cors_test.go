package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"resolutioncenter/app/apptest"
)

// corsRequest sends a preflight (method OPTIONS) or an actual POST from origin.
func corsRequest(t *testing.T, url, method, origin string, hdr map[string]string) *http.Response {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = bytes.NewReader([]byte(`{"query":"{ __typename }"}`))
	}
	req, _ := http.NewRequest(method, url, body)
	req.Header.Set("Origin", origin)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

var preflightHeaders = map[string]string{"Access-Control-Request-Method": "POST",
	"Access-Control-Request-Headers": "authorization,content-type,traceparent,baggage,apollographql-client-name,apollographql-client-version,x-evil"}

// TestCORSDevelopmentAndProduction (issue 13, item 3): in development mode a page on
// any loopback origin (a Vite dev server on http://localhost:5173) may query the API:
// the preflight is approved with the safe headers it asked for (not others), and the
// answer exposes X-Request-Id and Retry-After; in production only CORS_ORIGINS may.
// Before: the Vite app's HTTP queries were refused (no CORS approval) though its
// WebSocket opened.
func TestCORSDevelopmentAndProduction(t *testing.T) {
	const vite, app, evil = "http://localhost:5173", "https://app.example.com", "https://evil.example.net"
	dev := apptest.Start(t, apptest.Options{Env: map[string]string{"DEV_MODE": "true"}})
	prod := apptest.Start(t, apptest.Options{Env: map[string]string{"DEV_MODE": "false", "CORS_ORIGINS": app}})
	for _, c := range []struct {
		name   string
		s      *apptest.Server
		origin string
		ok     bool
	}{
		{"dev, Vite on localhost", dev, vite, true},
		{"dev, 127.0.0.1", dev, "http://127.0.0.1:3000", true},
		{"dev, [::1]", dev, "https://[::1]:8443", true},
		{"dev, a remote origin", dev, evil, false},
		{"dev, localhost look-alike", dev, "http://localhost.evil.example.net", false},
		{"prod, the listed origin", prod, app, true},
		{"prod, Vite on localhost", prod, vite, false},
		{"prod, another origin", prod, evil, false},
	} {
		pre := corsRequest(t, c.s.URL, http.MethodOptions, c.origin, preflightHeaders)
		post := corsRequest(t, c.s.URL, http.MethodPost, c.origin, nil)
		acao := pre.Header.Get("Access-Control-Allow-Origin")
		if !c.ok {
			if acao != "" || pre.StatusCode != http.StatusForbidden || post.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s: preflight %d ACAO %q, POST ACAO %q; want 403 and no approval", c.name, pre.StatusCode, acao,
					post.Header.Get("Access-Control-Allow-Origin"))
			}
			continue
		}
		if pre.StatusCode != http.StatusNoContent || acao != c.origin {
			t.Errorf("%s: preflight %d ACAO %q, want 204 %q", c.name, pre.StatusCode, acao, c.origin)
		}
		allowed := strings.ToLower(pre.Header.Get("Access-Control-Allow-Headers"))
		for _, h := range []string{"authorization", "content-type", "traceparent", "baggage", "apollographql-client-name", "apollographql-client-version"} {
			if !strings.Contains(allowed, h) {
				t.Errorf("%s: Access-Control-Allow-Headers %q lacks %s", c.name, allowed, h)
			}
		}
		if strings.Contains(allowed, "x-evil") {
			t.Errorf("%s: an unsafe header was reflected: %q", c.name, allowed)
		}
		if m := pre.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "POST") {
			t.Errorf("%s: Access-Control-Allow-Methods %q", c.name, m)
		}
		if pre.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s: credentials allowed", c.name)
		}
		if post.StatusCode != http.StatusOK || post.Header.Get("Access-Control-Allow-Origin") != c.origin {
			t.Errorf("%s: POST %d ACAO %q", c.name, post.StatusCode, post.Header.Get("Access-Control-Allow-Origin"))
		}
		exposed := strings.ToLower(post.Header.Get("Access-Control-Expose-Headers"))
		if !strings.Contains(exposed, "x-request-id") || !strings.Contains(exposed, "retry-after") {
			t.Errorf("%s: Access-Control-Expose-Headers %q, want X-Request-Id and Retry-After", c.name, exposed)
		}
		if !strings.Contains(strings.Join(post.Header.Values("Vary"), ","), "Origin") {
			t.Errorf("%s: Vary %q lacks Origin", c.name, post.Header.Values("Vary"))
		}
	}
}

// In development mode a loopback origin is allowed by the same rule for HTTP (CORS) and
// for WebSockets, as the README says ("loopback origins in development mode, as for
// HTTP"): a page that may query may also subscribe, and one that may not query may not
// subscribe either. Before, WebSockets allowed the host names localhost, 127.0.0.1 and
// [::1] of any scheme, and HTTP every http(s) origin on a loopback address: a page on
// http://127.0.0.2:5173 could query but not subscribe, and a tauri://localhost page
// could subscribe but not query.
func TestDevModeLoopbackOriginsAgree(t *testing.T) {
	s := apptest.Start(t, apptest.Options{Env: map[string]string{"DEV_MODE": "true"}})
	for _, c := range []struct {
		origin string
		ok     bool
	}{
		{"http://localhost:5173", true},
		{"http://127.0.0.1:5173", true},
		{"http://127.0.0.2:5173", true},
		{"https://[::1]:8443", true},
		{"http://LOCALHOST:3000", true},
		{"tauri://localhost", false},
		{"http://localhost.evil.example.net", false},
		{"https://evil.example.net", false},
	} {
		pre := corsRequest(t, s.URL, http.MethodOptions, c.origin, preflightHeaders)
		gotHTTP := pre.StatusCode == http.StatusNoContent && pre.Header.Get("Access-Control-Allow-Origin") != ""
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), &websocket.DialOptions{
			HTTPHeader: http.Header{"Origin": {c.origin}}, Subprotocols: []string{"graphql-transport-ws"}})
		cancel()
		if conn != nil {
			_ = conn.CloseNow()
		}
		gotWS := err == nil
		if gotHTTP != c.ok || gotWS != c.ok {
			t.Errorf("development mode, origin %s: HTTP approved %v (%d), WebSocket accepted %v (%v); want %v for both",
				c.origin, gotHTTP, pre.StatusCode, gotWS, err, c.ok)
		}
	}
}
