package graph

import (
	"context"
	"fmt"
	"testing"

	"resolutioncenter/auth"
)

// TestAggregateKey: requests without a token from an IPv6 /64 have their /48 as an
// aggregate key; IPv4 addresses and requests with a token have none.
func TestAggregateKey(t *testing.T) {
	for addr, want := range map[string]string{
		budgetAddr("2001:db8:1:2::7"):  "addr:2001:db8:1::/48",
		budgetAddr("192.0.2.1"):        "",
		budgetAddr("::ffff:192.0.2.1"): "",
		"":                             "",
	} {
		if got := aggregateKey(auth.WithClientAddr(context.Background(), addr)); got != want {
			t.Errorf("aggregateKey(%q) = %q, want %q", addr, got, want)
		}
	}
	ctx := auth.WithPrincipal(auth.WithClientAddr(context.Background(), "2001:db8:1:2::/64"), &auth.Principal{Kind: auth.KindUser, UserID: "u"})
	if got := aggregateKey(ctx); got != "" {
		t.Errorf("aggregateKey with a token = %q, want none", got)
	}
}

// TestSlotsWithin: a key held to a parent's limit as well takes a place at both or
// at neither, gives both back, and leaves nothing behind once all are released.
func TestSlotsWithin(t *testing.T) {
	var s slots
	var releases []func()
	for i := range 4 {
		r, ok := s.takeWithin(fmt.Sprint("k", i), 1, "p", 4)
		if !ok {
			t.Fatalf("key %d refused under the parent's limit 4", i)
		}
		releases = append(releases, r)
	}
	if _, ok := s.takeWithin("k4", 1, "p", 4); ok {
		t.Fatal("a fifth key let through past the parent's limit 4")
	}
	if _, ok := s.takeWithin("k0", 1, "q", 4); ok {
		t.Fatal("a key past its own limit let through")
	}
	if s.n["k4"] != 0 || s.n["q"] != 0 || s.n["p"] != 4 {
		t.Fatalf("refusals charged something: %v", s.n)
	}
	if _, ok := s.take("other", 1); !ok {
		t.Fatal("a key without a parent refused")
	}
	releases[0]()
	releases[0]() // idempotent
	r, ok := s.takeWithin("k4", 1, "p", 4)
	if !ok {
		t.Fatal("a place given back was not taken")
	}
	releases = append(releases[1:], r)
	for _, r := range releases {
		r()
	}
	if len(s.n) != 1 {
		t.Errorf("after all released: %v, want only the key without a parent", s.n)
	}
}
