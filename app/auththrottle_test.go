package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
)

// sqlStatements reads rc_sql_statements_total from the server's /metrics.
func sqlStatements(t *testing.T, s *apptest.Server) float64 {
	t.Helper()
	_, text, err := apptest.Get(context.Background(), s.Base+"/metrics", apptest.MetricsHeader)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(text, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "rc_sql_statements_total" {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	t.Fatal("rc_sql_statements_total missing")
	return 0
}

// clientFrom is an HTTP client whose connections come from a given loopback address.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "rc_" + hex.EncodeToString(b)
}

// TestFailedAuthenticationThrottled (issue 11, item 5): random tokens from one address
// are looked up only until the address has used its failure budget
// (AUTH_FAILURE_BURST, then AUTH_FAILURE_RATE per second); after that they get 429
// with Retry-After and cost no SQL. Another address is not affected, and the failures
// are logged as one line, not one each. Before: 3,000 random tokens from one address
// in 1.9 s were each a SQL lookup, with no 429.
func TestFailedAuthenticationThrottled(t *testing.T) {
	d := dbtest.MustSQLite(t)
	u := dbtest.MustUser(t, d)
	good := dbtest.MustToken(t, d, db.TokenUser, u.ID, false)
	s := apptest.New(t, d, apptest.Options{Env: map[string]string{"AUTH_FAILURE_BURST": "20", "AUTH_FAILURE_RATE": "1"}})
	attacker := clientFrom("127.0.0.3")
	ask := func(c *http.Client, token string) (int, http.Header) {
		r, err := apptest.Send(context.Background(), s.URL, apptest.Request{Query: `{ viewer { role } }`, Token: token, Client: c})
		if err != nil && r.Status == 0 {
			t.Fatalf("post: %v", err)
		}
		return r.Status, r.Header
	}

	const n = 300
	before := sqlStatements(t, s)
	start := time.Now()
	counts := map[int]int{}
	for range n {
		status, hdr := ask(attacker, randomToken())
		counts[status]++
		if status == http.StatusTooManyRequests {
			if ra, err := strconv.Atoi(hdr.Get("Retry-After")); err != nil || ra < 1 {
				t.Fatalf("429 without a valid Retry-After: %q", hdr.Get("Retry-After"))
			}
		}
	}
	elapsed := time.Since(start)
	lookups := sqlStatements(t, s) - before
	t.Logf("%d random tokens from one address in %v: %v; SQL statements: %.0f", n, elapsed.Round(time.Millisecond), counts, lookups)
	allowed := 20 + int(elapsed.Seconds()+1)
	if counts[http.StatusUnauthorized] > allowed || counts[http.StatusTooManyRequests] < n-allowed {
		t.Errorf("401: %d, 429: %d; want at most %d lookups, the rest throttled", counts[401], counts[429], allowed)
	}
	if lookups > float64(allowed+2) {
		t.Errorf("%.0f SQL statements for %d bad tokens, want at most %d", lookups, n, allowed)
	}

	// The throttled address is refused even with a good token (no lookup for it)...
	if status, _ := ask(attacker, good); status != http.StatusTooManyRequests {
		t.Errorf("a good token from the throttled address: %d, want 429", status)
	}
	// Another address is not throttled.
	if status, _ := ask(clientFrom("127.0.0.4"), good); status != http.StatusOK {
		t.Errorf("a good token from another address: %d, want 200", status)
	}

	// One log line for the failures so far (the summary comes at the end of the period).
	lines := 0
	for _, l := range s.Out.JSONLines() {
		if msg, _ := l["msg"].(string); strings.HasPrefix(msg, "authentication") {
			lines++
		}
	}
	if lines > 2 {
		t.Errorf("%d log lines for %d failures, want a rate-limited summary", lines, n)
	}
	if strings.Contains(s.Out.String(), good) {
		t.Errorf("a token was logged")
	}
}
