package auth

import "net/netip"

// AggregateFactor is how many times the budget of one client key its aggregate holds:
// an IPv6 client is counted by its /64 (one subscriber's block), and all the /64s of
// its /48 (a common allocation, 65,536 of them) share AggregateFactor times the budget
// of one. One /64 alone still gets its whole budget; a /48 gets at most that many /64s'
// worth together.
const AggregateFactor = 16

// AggregateAddr is the key of the aggregate budget above a client address key (as
// ClientAddr records it): for an IPv6 /64 ("2001:db8:1:2::/64") its /48
// ("2001:db8:1::/48"); "" for anything else (an IPv4 address is its own and only
// key).
func AggregateAddr(key string) string {
	p, err := netip.ParsePrefix(key)
	if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() || p.Bits() != 64 {
		return ""
	}
	return netip.PrefixFrom(p.Addr(), 48).Masked().String()
}
