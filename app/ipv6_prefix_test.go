package app_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"resolutioncenter/app/apptest"
)

// TestIPv6ClientsLimitedByPrefix: the per-address budgets (failed authentications,
// the cost of requests without a token) count an IPv6 client by its /64, the block a
// single subscriber or host is given: one machine can take any of its 2^64 addresses,
// and by rotating them it had a fresh budget for every request. Here the clients come
// through a trusted proxy, which names them in X-Forwarded-For.
func TestIPv6ClientsLimitedByPrefix(t *testing.T) {
	s := apptest.Start(t, apptest.Options{Env: map[string]string{
		"TRUSTED_PROXIES": "127.0.0.0/8", "AUTH_FAILURE_BURST": "5", "AUTH_FAILURE_RATE": "0.01",
		"RATE_LIMIT": "0.01", "RATE_BURST": "10", "MAX_COMPLEXITY": "10"}})
	ask := func(from, token, query string) int {
		t.Helper()
		r, err := apptest.Send(context.Background(), s.URL, apptest.Request{Query: query, Token: token,
			Header: map[string]string{"X-Forwarded-For": from}})
		if err != nil && r.Status == 0 {
			t.Fatalf("post: %v", err)
		}
		return r.Status
	}

	// Bad tokens from the addresses of one /64.
	counts := map[int]int{}
	for i := range 20 {
		counts[ask(fmt.Sprintf("2001:db8:1:2::%x", i+1), randomToken(), `{ __typename }`)]++
	}
	if counts[http.StatusTooManyRequests] < 15 {
		t.Errorf("20 bad tokens from one /64, failure burst 5: %v, want 15 refused with 429", counts)
	}
	// Another /64 has its own budget; so has an IPv4 address.
	for _, from := range []string{"2001:db8:1:3::1", "192.0.2.10"} {
		if st := ask(from, randomToken(), `{ __typename }`); st != http.StatusUnauthorized {
			t.Errorf("a bad token from %s: %d, want 401 (its own budget)", from, st)
		}
	}

	// Requests without a token spend the /64's cost budget (10 units; an operation
	// costs at least 1).
	counts = map[int]int{}
	for i := range 20 {
		counts[ask(fmt.Sprintf("2001:db8:5:6:%x::1", i+1), "", `{ __typename }`)]++
	}
	if counts[http.StatusTooManyRequests] < 10 {
		t.Errorf("20 requests without a token from one /64, burst 10: %v, want 10 refused with 429", counts)
	}
	if st := ask("2001:db8:5:7::1", "", `{ __typename }`); st != http.StatusOK {
		t.Errorf("a request from another /64: %d, want 200", st)
	}
}

// TestForwardedAddressWithPort: a proxy that writes the client's port in
// X-Forwarded-For ("192.0.2.50:41234", "[2001:db8::1]:41234", as some load balancers
// do) names the same client on every connection: the port is not part of its budget.
// Each port was a fresh budget before.
func TestForwardedAddressWithPort(t *testing.T) {
	s := apptest.Start(t, apptest.Options{Env: map[string]string{
		"TRUSTED_PROXIES": "127.0.0.0/8, 10.0.0.0/8", "AUTH_FAILURE_BURST": "5", "AUTH_FAILURE_RATE": "0.01"}})
	for _, format := range []string{"192.0.2.50:%d", "[2001:db8:7:7::1]:%d", "192.0.2.60:%d, 10.1.2.3:8080"} {
		counts := map[int]int{}
		for i := range 12 {
			r, err := apptest.Send(context.Background(), s.URL, apptest.Request{Query: `{ __typename }`, Token: randomToken(),
				Header: map[string]string{"X-Forwarded-For": fmt.Sprintf(format, 40000+i)}})
			if err != nil && r.Status == 0 {
				t.Fatalf("post: %v", err)
			}
			counts[r.Status]++
		}
		if counts[http.StatusTooManyRequests] < 7 {
			t.Errorf("X-Forwarded-For %q, 12 bad tokens from one client on 12 ports, burst 5: %v, want 7 refused", format, counts)
		}
	}
	// A trusted proxy written with its port is still the proxy, not the client: another
	// client behind it has a budget of its own.
	r, err := apptest.Send(context.Background(), s.URL, apptest.Request{Query: `{ __typename }`, Token: randomToken(),
		Header: map[string]string{"X-Forwarded-For": "192.0.2.61:1234, 10.1.2.3:8080"}})
	if err != nil && r.Status == 0 {
		t.Fatalf("post: %v", err)
	}
	if r.Status != http.StatusUnauthorized {
		t.Errorf("another client behind the same proxy: %d, want 401 (its own budget)", r.Status)
	}
}

// TestIPv6ClientsLimitedPer48: the /64s of one IPv6 /48 (a common allocation: 65,536
// /64s) share an aggregate of 16 times a /64's per-address budgets, for failed
// authentications and for the cost of requests without a token: addresses from 17
// /64s of one /48 spend it (the 17th is refused as an address over its own budget is:
// 429, RATE_LIMITED, Retry-After), a /48 next to it is unaffected, and IPv4 addresses
// keep a budget each. Before, each /64 had its own: a /48 had 65,536 budgets.
func TestIPv6ClientsLimitedPer48(t *testing.T) {
	s := apptest.Start(t, apptest.Options{Env: map[string]string{
		"TRUSTED_PROXIES": "127.0.0.0/8", "AUTH_FAILURE_BURST": "2", "AUTH_FAILURE_RATE": "0.001",
		"RATE_LIMIT": "0.001", "RATE_BURST": "3", "MAX_COMPLEXITY": "3"}})
	ask := func(from, token string) apptest.Response {
		t.Helper()
		r, err := apptest.Send(context.Background(), s.URL, apptest.Request{Query: `{ __typename }`, Token: token,
			Header: map[string]string{"X-Forwarded-For": from}})
		if err != nil && r.Status == 0 {
			t.Fatalf("post: %v", err)
		}
		return r
	}
	refused := func(what string, r apptest.Response) {
		t.Helper()
		if r.Status != http.StatusTooManyRequests || r.FirstCode() != "RATE_LIMITED" || r.Header.Get("Retry-After") == "" {
			t.Errorf("%s: %d %s (Retry-After %q), want 429 RATE_LIMITED with Retry-After", what, r.Status, r.FirstCode(),
				r.Header.Get("Retry-After"))
		}
	}

	// Failed authentications: 16 /64s of 2001:db8:a::/48 spend their 2 each, the /48's 32.
	for i := range 16 {
		for j := range 2 {
			if r := ask(fmt.Sprintf("2001:db8:a:%x::%x", i, j+1), randomToken()); r.Status != http.StatusUnauthorized {
				t.Fatalf("bad token %d from /64 %d of the /48: %d, want 401 (16 /64s' budgets)", j, i, r.Status)
			}
		}
	}
	refused("a bad token from a 17th /64 of the /48", ask("2001:db8:a:10::1", randomToken()))
	if r := ask("2001:db8:b:10::1", randomToken()); r.Status != http.StatusUnauthorized {
		t.Errorf("a bad token from another /48: %d, want 401", r.Status)
	}

	// The cost of requests without a token: 16 /64s of 2001:db8:c::/48 spend 3 each.
	for i := range 16 {
		for j := range 3 {
			if r := ask(fmt.Sprintf("2001:db8:c:%x::%x", i, j+1), ""); r.Status != http.StatusOK {
				t.Fatalf("request %d from /64 %d of the /48: %d, want 200 (16 /64s' budgets)", j, i, r.Status)
			}
		}
	}
	refused("a request from a 17th /64 of the /48", ask("2001:db8:c:10::1", ""))
	for j := range 3 { // one /64 of another /48 alone: its whole budget, no more
		if r := ask("2001:db8:d:1::1", ""); r.Status != http.StatusOK {
			t.Errorf("request %d from a /64 of another /48: %d, want 200", j, r.Status)
		}
	}
	refused("a 4th request from one /64, burst 3", ask("2001:db8:d:1::2", ""))

	// IPv4: a budget per address, however many of one block.
	for i := range 20 {
		if r := ask(fmt.Sprintf("192.0.2.%d", i+1), randomToken()); r.Status != http.StatusUnauthorized {
			t.Errorf("a bad token from IPv4 address %d: %d, want 401", i, r.Status)
		}
		if r := ask(fmt.Sprintf("198.51.100.%d", i+1), ""); r.Status != http.StatusOK {
			t.Errorf("a request from IPv4 address %d: %d, want 200", i, r.Status)
		}
	}
}
