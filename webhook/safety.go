package webhook

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"resolutioncenter/dispute"
)

// Endpoint URLs are chosen by customers, so every request could be aimed at the
// server's own network (SSRF). The defences:
//
//   - a URL must be https (http only for loopback in development mode), without user
//     info or fragment, at most 2,000 characters as stored (percent-encoded), with a
//     port from 1 to 65535; its host is judged as net/http dials it (IDNA-mapped), and
//     a host that ends in a number must be an IP address in standard form;
//   - the address is checked when the connection is made, in the dialer's Control
//     function, which sees the IP actually dialled after DNS resolution: a name that
//     resolves to a public address when checked and a private one when used (DNS
//     rebinding) is refused all the same, before any packet is sent;
//   - refused: loopback (except in development mode), private (RFC 1918), link-local
//     (169.254/16, which holds the cloud metadata address 169.254.169.254),
//     carrier-grade NAT (100.64/10), unspecified, multicast, broadcast, the
//     benchmarking and documentation ranges, and the IPv4-mapped, 6to4 and NAT64
//     (64:ff9b::/96, on an IPv6-only network with DNS64) forms of those; otherwise of
//     IPv6 only global unicast (2000::/3) is allowed, which leaves out the
//     unspecified address, IPv4-compatible (::a.b.c.d) and translated
//     (::ffff:0:a.b.c.d) forms, local-use NAT64 (64:ff9b:1::/48), discard,
//     unique-local fc00::/7 (with fd00:ec2::254, AWS metadata over IPv6), link-local
//     fe80::/10, site-local fec0::/10 and multicast; inside it Teredo (2001::/32, whose
//     embedded IPv4 addresses are obfuscated), ORCHID, benchmarking and documentation
//     are refused too;
//   - no proxy from the environment, no redirects (a 3xx is a failed attempt), a
//     timeout per attempt, and response bodies read up to ExcerptBytes.

// ExcerptBytes is how much of a response body is read and logged.
const ExcerptBytes = 1024

// ErrBlockedAddress is the dial error for a refused address.
var ErrBlockedAddress = errors.New("webhook: the endpoint resolves to a private, loopback, link-local or metadata address")

// globalUnicast6 is IPv6's global unicast space (RFC 4291; every IANA allocation to
// the registries lies in it). Everything outside it is loopback (decided separately),
// special-purpose (::, ::a.b.c.d, ::ffff:0:a.b.c.d, 64:ff9b:1::/48, 100::/64, fc00::/7,
// fe80::/10, fec0::/10, ff00::/8) or unassigned: no receiver is there.
var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// nat64 is NAT64's well-known prefix (RFC 6052): the last 32 bits are the IPv4
// address the translator reaches. On an IPv6-only network with DNS64 every IPv4-only
// receiver resolves into it, so the embedded address is judged as IPv4.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// blocked are the ranges no delivery may reach (loopback is decided separately).
var blocked = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
		"192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
		"224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
		// Inside 2000::/3 (IPv6 outside it is refused before these are looked at).
		"2001::/32", "2001:2::/48", "2001:10::/28", "2001:20::/28", "2001:db8::/32", "3fff::/20",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// AllowedAddr reports whether a delivery may connect to ip. Loopback is allowed only
// when allowLoopback (development mode). An address with an IPv6 zone ("fd00::1%eth0")
// is refused: no blocked prefix contains a zoned address (netip compares zones), and
// the kernel ignores the zone of a non-link-local address, so it would reach whatever
// the address without the zone reaches. A public address needs no zone.
func AllowedAddr(ip netip.Addr, allowLoopback bool) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.Zone() != "" {
		return false
	}
	if ip.IsLoopback() {
		return allowLoopback
	}
	if ip.Is6() {
		if nat64.Contains(ip) {
			b := ip.As16()
			return AllowedAddr(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), false)
		}
		if !globalUnicast6.Contains(ip) {
			return false
		}
		// 6to4 embeds an IPv4 address: judge it too.
		if b := ip.As16(); b[0] == 0x20 && b[1] == 0x02 {
			if !AllowedAddr(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), false) {
				return false
			}
		}
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// MaxURLLength is the longest endpoint URL, in bytes, as given and as stored
// (percent-encoded).
const MaxURLLength = 2000

// ValidateURL checks an endpoint URL before it is stored. Host names are not resolved
// here (the dialer checks every address it connects to); literal addresses are.
func ValidateURL(raw string, dev bool) (*url.URL, error) {
	invalid := func(msg string) error { return dispute.Invalid("url", msg) }
	if len(raw) > MaxURLLength {
		return nil, invalid("must be at most 2000 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, invalid("must be an absolute URL, e.g. https://example.com/webhooks")
	}
	if u.User != nil {
		return nil, invalid("must not carry user information")
	}
	if u.Fragment != "" {
		return nil, invalid("must not have a fragment")
	}
	host, err := dialHost(u.Hostname())
	if err != nil {
		return nil, invalid("must have a valid host name")
	}
	loopback := isLoopbackHost(host)
	switch u.Scheme {
	case "https":
	case "http":
		if !(dev && loopback) {
			return nil, invalid("must use https (http is accepted only for loopback in development mode)")
		}
	default:
		return nil, invalid("must use https")
	}
	if loopback && !dev {
		return nil, invalid("must not point at this machine (loopback is accepted only in development mode)")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, invalid("must have a port between 1 and 65535")
		}
	}
	ip, err := netip.ParseAddr(host)
	if err == nil && !AllowedAddr(ip, dev) {
		return nil, invalid("must not point at a private, link-local or metadata address")
	}
	if err != nil && numericHost(host) {
		return nil, invalid("must name its host, or give an IPv4 address in dotted-decimal form (203.0.113.7)")
	}
	// What is stored and shown is u.String(), percent-encoded: up to three times the
	// input's bytes ("é" is %C3%A9, a space %20). MaxURLLength bounds that form (the
	// schema's cost model prices WebhookEndpoint.url by it).
	if len(u.String()) > MaxURLLength {
		return nil, invalid("must be at most 2000 characters once percent-encoded")
	}
	return u, nil
}

// dialHost is host as the HTTP client dials it: net/http maps a host that is not
// ASCII with IDNA (UTS #46, idna.Lookup), so that "１２７.０.０.１" is 127.0.0.1 and
// "ｌｏｃａｌｈｏｓｔ" localhost; the checks of a URL look at that. A host the mapping
// refuses is an error (net/http would look it up as it is, and find nothing).
func dialHost(host string) (string, error) {
	for i := 0; i < len(host); i++ {
		if host[i] >= utf8.RuneSelf {
			return idna.Lookup.ToASCII(host)
		}
	}
	return host, nil
}

// numericHost reports whether host, not a valid IP address, ends in a number: the
// last label is all digits, or 0x and hex digits ("2130706433", "0177.0.0.1",
// "0x7f.1", "10.0.0.1."). No top-level domain is numeric, so such a host is no name;
// resolvers differ on what it means (getaddrinfo reads each of those as 127.0.0.1,
// or 10.0.0.1, in inet_aton's notations; Go's resolver asks DNS), which is no way to
// name a receiver.
func numericHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	digits := "0123456789"
	if len(last) > 2 && (last[:2] == "0x" || last[:2] == "0X") {
		last, digits = last[2:], "0123456789abcdefABCDEF"
	}
	return last != "" && strings.Trim(last, digits) == ""
}

func isLoopbackHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// MaxResponseHeaderBytes bounds the headers of an endpoint's answer. net/http's default
// is 10 MB: an endpoint answering every attempt with that much, at its concurrency
// limit, would make the server hold gigabytes for one company.
const MaxResponseHeaderBytes = 64 << 10

// The delivery client's kept-alive connections: at most MaxIdleConnsPerHost to one host,
// MaxIdleConns in all, each closed after IdleConnTimeout unused.
const (
	MaxIdleConnsPerHost = 64
	MaxIdleConns        = 1024
	IdleConnTimeout     = 90 * time.Second
)

// NewClient returns the HTTP client deliveries use: every connection's address is
// checked at connect time, no proxy, no redirects, timeout per request, answers'
// headers bounded (MaxResponseHeaderBytes) and their bodies read up to ExcerptBytes.
func NewClient(timeout time.Duration, allowLoopback bool) *http.Client {
	dialer := &net.Dialer{
		Timeout: timeout,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrBlockedAddress, address)
			}
			if !AllowedAddr(ap.Addr(), allowLoopback) {
				return fmt.Errorf("%w: %s", ErrBlockedAddress, ap.Addr())
			}
			return nil
		},
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
		// Enough kept-alive connections for every endpoint of a host at its concurrency
		// limit (several endpoints often share a host): a burst does not redial. In all,
		// at most MaxIdleConns (0 would be no bound: one of each of thousands of hosts'
		// connections kept, each a file descriptor and its buffers, until IdleConnTimeout).
		MaxIdleConnsPerHost: MaxIdleConnsPerHost,
		MaxIdleConns:        MaxIdleConns,
		IdleConnTimeout:     IdleConnTimeout,
		ForceAttemptHTTP2:   true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// readExcerpt reads at most ExcerptBytes of a body and discards up to 64 KiB more, so
// that the connection can be reused; a larger body just closes it.
func readExcerpt(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, ExcerptBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 64<<10))
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// MaxErrorLength is the longest error an attempt keeps (WebhookAttempt.error and
// WebhookDelivery.lastError), in bytes.
const MaxErrorLength = 500

// attemptError is err as an attempt's error: without the request's URL, which an HTTP
// client's error repeats (the endpoint's own, up to MaxURLLength bytes, shown on the
// endpoint), and clipped to MaxErrorLength. A refused address is not named: the
// attempt is shown to the endpoint's merchant, and the address is what the server's
// own resolver answered, which for a name such as db.internal is the platform's. Nor
// is the DNS server a failed lookup asked ("lookup x on 10.0.0.2:53: no such host"):
// that is the platform's network too.
func attemptError(err error) string {
	if errors.Is(err, ErrBlockedAddress) {
		return ErrBlockedAddress.Error()
	}
	var de *net.DNSError
	if errors.As(err, &de) && de.Server != "" {
		d := *de
		d.Server = ""
		return clipError(d.Error())
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	return clipError(err.Error())
}

// clipError cuts s to at most MaxErrorLength bytes of valid UTF-8, marking the cut.
func clipError(s string) string {
	if len(s) <= MaxErrorLength {
		return s
	}
	const mark = "…"
	return strings.ToValidUTF8(s[:MaxErrorLength-len(mark)], "") + mark
}
