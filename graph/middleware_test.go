package graph

import "testing"

func TestBudgetAddr(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":                      "192.0.2.7",
		"::ffff:192.0.2.7":               "192.0.2.7",
		"2001:db8:1:2:aaaa:bbbb:cccc:dd": "2001:db8:1:2::/64",
		"2001:db8:1:2::1":                "2001:db8:1:2::/64",
		"fe80::1%eth0":                   "fe80::/64",
		"::1":                            "::/64",
		"not-an-ip":                      "not-an-ip",
		"":                               "",
	} {
		if got := budgetAddr(in); got != want {
			t.Errorf("budgetAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
