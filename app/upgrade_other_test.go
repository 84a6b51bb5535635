package app_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"resolutioncenter/app/apptest"
)

// TestUpgradeOtherThanWebSocket: a request that offers an upgrade to another protocol
// than WebSocket (h2c, which a client may offer on any request) is an ordinary request:
// the server does not take the upgrade and answers it as it answers without the
// header. It answered 400 "transport not supported" in gqlgen's shape (data: null, no
// code), nothing in the JSON error shape of the rest of the endpoint.
func TestUpgradeOtherThanWebSocket(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		var req *http.Request
		if method == http.MethodPost {
			req, _ = http.NewRequest(method, s.URL, strings.NewReader(`{"query": "{ viewer { role } }"}`))
			req.Header.Set("Content-Type", "application/json")
		} else {
			req, _ = http.NewRequest(method, s.URL+"?query="+url.QueryEscape("{ viewer { role } }"), nil)
		}
		req.Header.Set("Authorization", "Bearer "+apptest.PlatformToken)
		req.Header.Set("Connection", "Upgrade, HTTP2-Settings")
		req.Header.Set("Upgrade", "h2c")
		req.Header.Set("HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA")
		resp, err := http.DefaultClient.Do(req.WithContext(context.Background()))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"role":"PLATFORM"`) {
			t.Errorf("%s with Upgrade: h2c: %d %s %s, want the answer", method, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
}
