package app_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
)

// On the first embedded start (demo data seeded), GraphiQL opens with the printed sample
// query and the demo customer's token, for browsers on this machine only; a later start,
// or a server that seeded nothing, serves the plain page with the placeholder.
func TestGraphiQLDemoPrefill(t *testing.T) {
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "demo.db")
	env := map[string]string{"DATABASE_URL": dbURL, "SEED_DEMO": "true"}
	s := apptest.Start(t, apptest.Options{Env: env})
	out := s.Out.String()
	customer := regexp.MustCompile(`customer  (rc_\S+)`).FindStringSubmatch(out)
	sample := regexp.MustCompile(`\{ resolution\(id: "(reso_[0-9a-z]+)"\) \{.*\} \}`).FindStringSubmatch(out)
	if customer == nil || sample == nil {
		t.Fatalf("the first start printed no customer token or sample query:\n%s", out)
	}

	page := func(base string) string {
		t.Helper()
		code, body, err := apptest.Get(t.Context(), base+"/", nil)
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET /: %d %v", code, err)
		}
		return body
	}
	attr := func(body, name string) string {
		t.Helper()
		m := regexp.MustCompile(name + `="([^"]*)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("the page has no %s", name)
		}
		return strings.ReplaceAll(m[1], "&#34;", `"`)
	}
	body := page(s.Base)
	if h := attr(body, "data-default-headers"); !strings.Contains(h, `"Authorization": "Bearer `+customer[1]+`"`) {
		t.Errorf("loopback: default headers %q, want the customer's token", h)
	}
	if q := attr(body, "data-default-query"); q != sample[0] {
		t.Errorf("loopback: default query %q, want the printed sample %q", q, sample[0])
	}
	// The pre-filled query runs with the pre-filled token.
	var data struct{ Resolution struct{ Status string } }
	s.MustData(t, customer[1], sample[0], nil, &data)
	if data.Resolution.Status == "" {
		t.Error("the sample query answers no case for the customer")
	}

	// Another machine gets the placeholder; so does a request that reached this machine
	// through a proxy on it (forwarding headers), or one for another host name (a DNS
	// rebinding page in a local browser).
	for _, c := range []struct {
		name, remote, host string
		header             map[string]string
	}{
		{"another machine", "192.0.2.7:40000", "", nil},
		{"through a local proxy (X-Forwarded-For)", "127.0.0.1:40000", "", map[string]string{"X-Forwarded-For": "198.51.100.7"}},
		{"through a local proxy (Forwarded)", "127.0.0.1:40000", "", map[string]string{"Forwarded": "for=198.51.100.7"}},
		{"through a local proxy (X-Real-IP)", "127.0.0.1:40000", "", map[string]string{"X-Real-IP": "198.51.100.7"}},
		{"another host name", "127.0.0.1:40000", "rebind.attacker.example:8080", nil},
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = c.remote
		if c.host != "" {
			req.Host = c.host
		} else {
			req.Host = "localhost:8080"
		}
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		remote, _ := io.ReadAll(rec.Body)
		if strings.Contains(string(remote), customer[1]) || !strings.Contains(string(remote), "Bearer &lt;token&gt;") {
			t.Errorf("%s: the page has the token or lacks the placeholder", c.name)
		}
	}
	for _, host := range []string{"localhost:8080", "127.0.0.1:8080", "[::1]:8080", "localhost"} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr, req.Host = "127.0.0.1:40000", host
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if body, _ := io.ReadAll(rec.Body); !strings.Contains(string(body), customer[1]) {
			t.Errorf("a local browser at %s did not get the token", host)
		}
	}

	// A second start on the same database seeds nothing and shows no token.
	if err := s.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	again := apptest.Start(t, apptest.Options{Env: env})
	if strings.Contains(again.Out.String(), "Seeded demo data") {
		t.Fatal("the second start seeded again")
	}
	if body := page(again.Base); strings.Contains(body, "rc_") || strings.Contains(body, sample[1]) {
		t.Error("the second start's page carries a token or the demo case")
	}
}
