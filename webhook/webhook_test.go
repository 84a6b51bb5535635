package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/webhook"
	"resolutioncenter/webhook/webhooktest"
)

func TestAllowedAddr(t *testing.T) {
	for _, c := range []struct {
		ip       string
		loopback bool
		want     bool
	}{
		{"93.184.216.34", false, true}, {"2606:2800:220:1::1", false, true},
		{"127.0.0.1", false, false}, {"127.0.0.1", true, true}, {"::1", false, false}, {"::1", true, true},
		{"10.1.2.3", true, false}, {"172.16.0.1", true, false}, {"172.31.255.255", true, false}, {"192.168.0.1", true, false},
		{"169.254.169.254", true, false}, {"100.64.0.1", false, false}, {"0.0.0.0", true, false}, {"224.0.0.1", false, false},
		{"fd00:ec2::254", true, false}, {"fe80::1", false, false}, {"fc00::1", false, false}, {"::ffff:10.0.0.1", false, false},
		{"::ffff:169.254.169.254", false, false}, {"64:ff9b::a00:1", false, false}, {"2002:a00:1::", false, false},
		{"172.32.0.1", false, true},
		// IPv6 outside global unicast 2000::/3: IPv4-compatible (::a.b.c.d, which Linux
		// dials as an IPv6 packet out of the default route) and translated
		// (::ffff:0:a.b.c.d) forms, site-local fec0::/10, unassigned space; and inside it
		// Teredo (obfuscated embedded IPv4), ORCHID, benchmarking and documentation.
		{"::127.0.0.1", false, false}, {"::10.0.0.1", false, false}, {"::169.254.169.254", false, false},
		{"::ffff:0:10.0.0.1", false, false}, {"::ffff:0:127.0.0.1", false, false}, {"::2", false, false},
		{"fec0::1", false, false}, {"feff::1", false, false}, {"4000::1", false, false}, {"5f00::1", false, false},
		{"2001::1", false, false}, {"2001:0:4136:e378:8000:63bf:3fff:fdd2", false, false}, {"2001:2::1", false, false},
		{"2001:10::1", false, false}, {"2001:20::1", false, false}, {"3fff::1", false, false},
		{"64:ff9b:1::a00:1", false, false}, {"64:ff9b:1::808:808", false, false}, {"100::1", false, false},
		// NAT64's well-known prefix (an IPv6-only network with DNS64): the embedded IPv4
		// address is judged, loopback included (never allowed through a translator).
		{"64:ff9b::808:808", false, true}, {"64:ff9b::5db8:d822", false, true}, {"64:ff9b::7f00:1", true, false},
		{"64:ff9b::a9fe:a9fe", false, false}, {"64:ff9b::c0a8:1", false, false}, {"64:ff9b::6440:1", false, false},
		{"64:ff9b::1:808:808", false, false},
		{"2002:808:808::1", false, true}, {"2a00:1450:4001:80b::200e", false, true}, {"2001:4860:4860::8888", false, true},
		// A zone hides an address from every prefix (netip compares zones) while the
		// kernel ignores it off link-local: zoned addresses are refused outright.
		{"fd00:ec2::254%eth0", false, false}, {"fe80::1%eth0", false, false}, {"fc00::1%1", false, false},
		{"ff02::1%lo", false, false}, {"2606:2800:220:1::1%eth0", false, false}, {"::1%lo", true, false},
	} {
		if got := webhook.AllowedAddr(netip.MustParseAddr(c.ip), c.loopback); got != c.want {
			t.Errorf("AllowedAddr(%s, loopback %v) = %v, want %v", c.ip, c.loopback, got, c.want)
		}
	}
}

// TestValidateURL: what an endpoint URL may be, at registration. Out-of-range ports and
// hosts that end in a number without being a dotted-decimal IPv4 address (resolvers
// disagree on them: getaddrinfo reads 2130706433 as 127.0.0.1) are refused with a
// clear error rather than failing every attempt; loopback names with a trailing dot
// are loopback.
func TestValidateURL(t *testing.T) {
	for _, c := range []struct {
		url  string
		dev  bool
		want string // "" accepted, else a word of the message
	}{
		{"https://example.com/hook", false, ""}, {"https://example.com:8443/hook", false, ""},
		{"https://example.com:65535/", false, ""}, {"https://example.com:/hook", false, ""},
		{"https://203.0.113.7.example.com/", false, ""}, {"https://1password.com/", false, ""},
		{"https://xn--bcher-kva.example/", false, ""}, {"https://93.184.216.34/", false, ""},
		{"https://example.com.:443/", false, ""}, {"http://localhost:8080/", true, ""},
		{"http://localhost.:8080/", true, ""}, {"http://app.localhost:8080/", true, ""},
		{"https://example.com:99999/", false, "port"}, {"https://example.com:0/", false, "port"},
		{"https://example.com:65536/", false, "port"}, {"https://example.com:18446744073709551617/", false, "port"},
		{"https://2130706433/", false, "dotted-decimal"}, {"https://0177.0.0.1/", false, "dotted-decimal"},
		{"https://0x7f.0.0.1/", false, "dotted-decimal"}, {"https://0x7f000001/", false, "dotted-decimal"},
		{"https://127.1/", false, "dotted-decimal"}, {"https://10.0.0.1./", false, "dotted-decimal"},
		{"https://1.2.3.4.5/", false, "dotted-decimal"}, {"https://169.254.169.254.:80/", false, "dotted-decimal"},
		{"https://2130706433/", true, "dotted-decimal"},
		{"https://localhost./", false, "this machine"}, {"https://LOCALHOST./", false, "this machine"},
		{"https://a.localhost./", false, "this machine"},
		{"https://user@example.com/", false, "user information"}, {"https://example.com/#x", false, "fragment"},
		{"http://example.com/", false, "https"}, {"ftp://example.com/", false, "https"},
		// net/http maps a non-ASCII host with IDNA before dialling: the checks see the
		// mapped host (fullwidth digits and dots, fullwidth letters, ideographic stops).
		{"https://bücher.example/", false, ""}, {"https://例え.テスト/hook", false, ""},
		{"https://１２７.０.０.１/", false, "this machine"}, {"https://127。0。0。1/", false, "this machine"},
		{"https://ｌｏｃａｌｈｏｓｔ/", false, "this machine"}, {"https://app.ｌｏｃａｌｈｏｓｔ/", false, "this machine"},
		{"https://１０.０.０.１/", false, "private"}, {"https://１６９.２５４.１６９.２５４/", false, "private"},
		{"https://２１３０７０６４３３/", false, "dotted-decimal"},
		{"http://ｌｏｃａｌｈｏｓｔ:8080/", true, ""}, {"https://ex\u00adample.com/", false, ""},
		{"https://xn--a.example/", false, ""}, {"https://\u0080.example/", false, "host name"},
		// The stored form is percent-encoded: its length is what is bounded.
		{"https://example.com/" + strings.Repeat("a", webhook.MaxURLLength-20), false, ""},
		{"https://example.com/" + strings.Repeat("a", webhook.MaxURLLength-19), false, "2000"},
		{"https://example.com/" + strings.Repeat("é", 900), false, "percent-encoded"},
		{"https://example.com/" + strings.Repeat(" ", 1900), false, "percent-encoded"},
		{"https://example.com/?q=" + strings.Repeat("é", 900), false, ""}, // a query is kept as given
	} {
		u, err := webhook.ValidateURL(c.url, c.dev)
		if err == nil && len(u.String()) > webhook.MaxURLLength {
			t.Errorf("ValidateURL(%.40q…): stored as %d bytes, more than MaxURLLength", c.url, len(u.String()))
		}
		switch {
		case c.want == "" && err != nil:
			t.Errorf("ValidateURL(%.60q, dev %v): %v, want accepted", c.url, c.dev, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || dispute.CodeOf(err) != dispute.CodeInvalidArgument):
			t.Errorf("ValidateURL(%.60q, dev %v): %v, want INVALID_ARGUMENT about %q", c.url, c.dev, err, c.want)
		}
	}
}

// TestClientRefusesAtConnect: the check runs when the connection is made, on the
// address actually dialled: a loopback server is refused outside development mode
// even through the name "localhost", and reached in development mode. (Only loopback
// is dialled here: the Control check refuses before any packet leaves.)
func TestClientRefusesAtConnect(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	for _, u := range []string{srv.URL, "http://localhost" + port} {
		_, err := webhook.NewClient(time.Second, false).Get(u)
		if !errors.Is(err, webhook.ErrBlockedAddress) {
			t.Errorf("%s outside development mode: %v, want ErrBlockedAddress", u, err)
		}
	}
	// A zone on a private address: refused when connecting, before any packet leaves.
	if _, err := webhook.NewClient(time.Second, false).Get("http://[fd00:ec2::254%25lo]:80/latest/meta-data/"); !errors.Is(err, webhook.ErrBlockedAddress) {
		t.Errorf("a zoned private address: %v, want ErrBlockedAddress", err)
	}
	// The IPv4-compatible form of the loopback server (::127.0.0.1) and a site-local
	// address: Linux sends these out as IPv6; refused before any packet leaves, even in
	// development mode (neither is loopback).
	for _, u := range []string{"http://[::127.0.0.1]" + port, "http://[fec0::1]" + port} {
		if _, err := webhook.NewClient(time.Second, true).Get(u); !errors.Is(err, webhook.ErrBlockedAddress) {
			t.Errorf("%s: %v, want ErrBlockedAddress", u, err)
		}
	}
	resp, err := webhook.NewClient(time.Second, true).Get(srv.URL)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("development mode: %v", err)
	}
	resp.Body.Close()
	// No redirects: a 3xx is the answer.
	redir := httptest.NewServer(http.RedirectHandler(srv.URL, http.StatusFound))
	defer redir.Close()
	resp, err = webhook.NewClient(time.Second, true).Get(redir.URL)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("redirect followed: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestClientBoundsAnswerHeaders: an endpoint answering with more header bytes than
// webhook.MaxResponseHeaderBytes gets a failed attempt, not megabytes held per
// attempt (net/http's default limit is 10 MB); a plain answer still succeeds.
func TestClientBoundsAnswerHeaders(t *testing.T) {
	huge := strings.Repeat("x", 4<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/huge" {
			for i := range 256 { // 1 MiB of headers
				w.Header().Set(fmt.Sprintf("X-Pad-%d", i), huge)
			}
		}
		w.WriteHeader(204)
	}))
	defer srv.Close()
	c := webhook.NewClient(5*time.Second, true)
	if resp, err := c.Get(srv.URL + "/huge"); err == nil {
		resp.Body.Close()
		t.Fatalf("an answer with 1 MiB of headers was read: %d", resp.StatusCode)
	}
	resp, err := c.Get(srv.URL + "/plain")
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("a plain answer: %v", err)
	}
	resp.Body.Close()
}

// TestClientBoundsIdleConnections: the delivery client keeps at most
// MaxIdleConnsPerHost idle connections to one host and MaxIdleConns in all (net/http's
// zero is no bound: deliveries to thousands of hosts would each keep theirs), and
// closes an idle one after IdleConnTimeout.
func TestClientBoundsIdleConnections(t *testing.T) {
	tr, ok := webhook.NewClient(time.Second, false).Transport.(*http.Transport)
	if !ok {
		t.Fatalf("the client's transport is a %T, want *http.Transport", webhook.NewClient(time.Second, false).Transport)
	}
	if tr.MaxIdleConnsPerHost != webhook.MaxIdleConnsPerHost || tr.MaxIdleConnsPerHost <= 0 {
		t.Errorf("MaxIdleConnsPerHost = %d, want %d", tr.MaxIdleConnsPerHost, webhook.MaxIdleConnsPerHost)
	}
	if tr.MaxIdleConns != webhook.MaxIdleConns || tr.MaxIdleConns < tr.MaxIdleConnsPerHost {
		t.Errorf("MaxIdleConns = %d, want %d (bounded, and at least a host's %d)", tr.MaxIdleConns, webhook.MaxIdleConns, tr.MaxIdleConnsPerHost)
	}
	if tr.IdleConnTimeout != webhook.IdleConnTimeout || tr.IdleConnTimeout <= 0 {
		t.Errorf("IdleConnTimeout = %v, want %v", tr.IdleConnTimeout, webhook.IdleConnTimeout)
	}
}

func TestSealer(t *testing.T) {
	key, err := webhook.ParseKey("dGVzdC13ZWJob29rLXNlY3JldC1rZXktMzItYnl0ZXM=")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := webhook.NewSealer(key)
	secret := webhook.NewSecret()
	sealed := s.Seal(secret)
	if strings.Contains(sealed, strings.TrimPrefix(secret, "whsec_")) {
		t.Fatal("the sealed form contains the secret")
	}
	if got, err := s.Open(sealed); err != nil || got != secret {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other, _ := webhook.NewSealer(make([]byte, 32))
	if _, err := other.Open(sealed); err == nil {
		t.Fatal("another key opens the secret")
	}
	if _, err := webhook.ParseKey("short"); err == nil {
		t.Fatal("a short key is accepted")
	}
}

// TestSignMatchesIndependentVerifier checks Sign against webhooktest.Verify (written
// from the specification) and against the specification's published example.
func TestSignMatchesIndependentVerifier(t *testing.T) {
	at := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	sig, err := webhook.Sign([]string{secret}, "msg_p5jXN8AQM9LWM0D4loKWxJek", at, body)
	if err != nil {
		t.Fatal(err)
	}
	// The example of the Standard Webhooks specification.
	if sig != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Errorf("signature %s differs from the specification's example", sig)
	}
	if err := webhooktest.Verify([]string{secret}, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", sig, body, at); err != nil {
		t.Error(err)
	}
	if err := webhooktest.Verify([]string{secret}, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", sig, []byte(`{"test": 1}`), at); err == nil {
		t.Error("a changed body verifies")
	}
}

// failingOutbox enqueues through the real service and then fails, as any later step
// of the change's transaction might.
type failingOutbox struct{ s *webhook.Service }

func (f failingOutbox) Enqueue(ctx context.Context, tx *db.OutboxTx, ch db.CaseChange) (func(), error) {
	if _, err := f.s.Enqueue(ctx, tx, ch); err != nil {
		return nil, err
	}
	return nil, errors.New("a later step failed")
}

// TestRolledBackChangeSendsNothing: when the change's transaction rolls back after the
// outbox wrote its deliveries and jobs, none of them remains and nothing is sent.
func TestRolledBackChangeSendsNothing(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s, ctx := startService(t, d, webhook.Options{})
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		endpointOn(ctx, t, s, c, rcv)

		remove := d.SetOutbox(failingOutbox{s})
		pay := c.MustPayment(t, d)
		_, err := d.OpenCase(ctx, dispute.DefaultPolicy(), db.OpenRequest{UserID: pay.UserID, PaymentID: pay.ID, Issue: dispute.IssueItemNotReceived, Message: "x"}, dbtest.Now())
		if err == nil {
			t.Fatal("the change committed")
		}
		remove()
		var n []int
		if _, err := d.Raw(ctx, &n, "SELECT count(*) FROM webhook_deliveries"); err != nil || n[0] != 0 {
			t.Fatalf("outbox rows after rollback: %v %v", n, err)
		}
		if _, err := d.Raw(ctx, &n, "SELECT count(*) FROM river_job"); err != nil || n[0] != 0 {
			t.Fatalf("jobs after rollback: %v %v", n, err)
		}
		// The same change committing does send (the setup works).
		d.SetOutbox(s)
		dbtest.MustOpen(t, d, pay, dispute.IssueItemNotReceived, dbtest.Now())
		rcv.WaitAccepted(t, 1, 20*time.Second)
		time.Sleep(200 * time.Millisecond)
		if n := len(rcv.All()); n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}
		rcv.CheckAll(t)
	})
}

// TestDisabledAfterFiveDaysOfFailures: an endpoint whose attempts have all failed since
// 5 days is disabled, with the reason and time on it (the clock is the service's).
func TestDisabledAfterFiveDaysOfFailures(t *testing.T) {
	d := dbtest.MustSQLite(t)
	var offset atomic.Int64 // how far the service's clock is ahead
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	s, ctx := startService(t, d, webhook.Options{RetryBase: 100 * time.Millisecond, Timeout: time.Second, Now: clock})
	d.SetOutbox(s)
	c := dbtest.MustCast(t, d)
	rcv := webhooktest.Start(t)
	rcv.Respond = func(webhooktest.Delivery, int) int { return 503 }
	ep, _, err := s.Create(ctx, webhook.EndpointInput{CompanyID: c.Company.ID, URL: rcv.URL}, dbtest.Now())
	if err != nil {
		t.Fatal(err)
	}
	dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
	waitFor(t, func() bool { e, _ := d.WebhookEndpointByID(ctx, ep.ID); return e.FailingSince != nil })
	if e, _ := d.WebhookEndpointByID(ctx, ep.ID); e.DisabledAt != nil {
		t.Fatal("disabled after one failure")
	}
	offset.Store(int64(5*24*time.Hour + time.Minute))
	waitFor(t, func() bool { e, _ := d.WebhookEndpointByID(ctx, ep.ID); return e.DisabledAt != nil })
	e, _ := d.WebhookEndpointByID(ctx, ep.ID)
	if !strings.Contains(e.DisabledReason, "every attempt failed since") {
		t.Errorf("reason %q", e.DisabledReason)
	}
	n := len(rcv.All())
	time.Sleep(300 * time.Millisecond)
	if len(rcv.All()) != n {
		t.Errorf("requests after disabling")
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWorkerSendsToEndpointEnabledElsewhere: a delivery whose endpoint this process
// cached as disabled, then enabled by another process (this one's cache not told), is
// sent, not failed on the stale entry (the worker asks sendable, which re-reads a
// disabled entry).
func TestWorkerSendsToEndpointEnabledElsewhere(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := newService(t, d, webhook.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		ep := endpointOn(ctx, t, s, c, rcv)
		// "Another process" disables and enables the endpoint straight in the database;
		// in between, this process caches it as disabled.
		webhook.SetDisabled(t, d, ep.ID, true)
		if got, err := s.CachedEndpoint(ctx, ep.ID); err != nil || got.DisabledAt == nil {
			t.Fatalf("cached: %+v %v", got, err)
		}
		webhook.SetDisabled(t, d, ep.ID, false)
		if got, err := s.CachedEndpoint(ctx, ep.ID); err != nil || got.DisabledAt == nil {
			t.Fatalf("the cache was expected to be stale: %+v %v", got, err)
		}
		// The change commits and its job runs within the cache's TTL (1 s), so the
		// worker finds the stale entry.
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer s.Stop(context.Background())
		d.SetOutbox(s)
		dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
		rcv.WaitAccepted(t, 1, 20*time.Second)
		rcv.CheckAll(t)
		waitFor(t, func() bool {
			list, err := d.ListWebhookDeliveries(ctx, ep.ID, db.DeliveryFilter{}, "", 10)
			return err == nil && len(list) == 1 && list[0].Status == db.DeliveryDelivered
		})
		if n := len(rcv.All()); n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}
	})
}

// startService starts a service made by newService until the test ends; ctx ends
// with the test too.
func startService(t *testing.T, d *db.DB, opts webhook.Options) (*webhook.Service, context.Context) {
	t.Helper()
	s := newService(t, d, opts)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return s, ctx
}

// newService builds a delivery service on d with the tests' key, in development mode
// and polling every 50 ms unless opts says otherwise (not started).
func newService(t *testing.T, d *db.DB, opts webhook.Options) *webhook.Service {
	t.Helper()
	opts.Dev = true
	return buildService(t, d, opts)
}

// buildService is newService in the mode opts says (production unless opts.Dev).
func buildService(t *testing.T, d *db.DB, opts webhook.Options) *webhook.Service {
	t.Helper()
	key, _ := webhook.ParseKey("dGVzdC13ZWJob29rLXNlY3JldC1rZXktMzItYnl0ZXM=")
	sealer, _ := webhook.NewSealer(key)
	p := dispute.DefaultPolicy()
	if opts.PollInterval == 0 {
		opts.PollInterval = 50 * time.Millisecond
	}
	s, err := webhook.New(d, sealer, &p, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAttemptErrorBounded: an attempt's error leaves out the request's URL, which the
// HTTP client's error repeats (up to webhook.MaxURLLength bytes, already on the
// endpoint), and keeps the cause, within webhook.MaxErrorLength bytes; the schema
// prices WebhookAttempt.error and WebhookDelivery.lastError by that bound.
func TestAttemptErrorBounded(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s, ctx := startService(t, d, webhook.Options{RetryBase: time.Hour, Timeout: time.Second})
	d.SetOutbox(s)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	c := dbtest.MustCast(t, d)
	long := "http://" + closed + "/" + strings.Repeat("p", webhook.MaxURLLength-len(closed)-8)
	ep, _, err := s.Create(ctx, webhook.EndpointInput{CompanyID: c.Company.ID, URL: long}, dbtest.Now())
	if err != nil {
		t.Fatal(err)
	}
	dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
	var got db.WebhookDelivery
	waitFor(t, func() bool {
		list, _ := d.ListWebhookDeliveries(ctx, ep.ID, db.DeliveryFilter{}, "", 10)
		if len(list) == 1 && list[0].LastError != "" {
			got = list[0]
			return true
		}
		return false
	})
	attempts, err := d.WebhookAttempts(ctx, []string{got.ID}, 10)
	if err != nil || len(attempts[got.ID]) != 1 {
		t.Fatalf("attempts %+v %v", attempts, err)
	}
	for _, e := range []string{got.LastError, attempts[got.ID][0].Error} {
		if len(e) > webhook.MaxErrorLength || strings.Contains(e, "pppp") || !strings.Contains(e, "connection refused") {
			t.Errorf("error (%d bytes) %q, want the cause without the URL", len(e), e)
		}
	}
}

// TestBlockedAttemptHidesAddress: a name that resolves to a refused address (here
// localhost, standing in for a registered name whose DNS answer changed, or a name
// only the server's own resolver knows, such as db.internal) fails the attempt at
// connect time, and the attempt's error, shown to the endpoint's merchant, says why
// without the address: otherwise registering https://<internal name>/ would read the
// platform's private DNS (which names exist and their addresses) back to a tenant.
func TestBlockedAttemptHidesAddress(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := buildService(t, d, webhook.Options{Timeout: 2 * time.Second})
		ctx := t.Context()
		c := dbtest.MustCast(t, d)
		ep, _, err := s.Create(ctx, webhook.EndpointInput{CompanyID: c.Company.ID, URL: "https://hooks.example.com/in"}, dbtest.Now())
		if err != nil {
			t.Fatal(err)
		}
		allow := func(db.WebhookEndpoint) error { return nil }
		if _, err := d.UpdateWebhookEndpoint(ctx, ep.ID, allow, func(e *db.WebhookEndpoint) error {
			e.URL = "https://localhost:9/in"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		_, a, err := s.SendTest(ctx, ep.ID, allow)
		if err != nil {
			t.Fatal(err)
		}
		if a.Success || !strings.Contains(a.Error, "private, loopback") {
			t.Fatalf("attempt %+v: want refused at connect", a)
		}
		for _, addr := range []string{"127.0.0.1", "::1", "[::1]"} {
			if strings.Contains(a.Error, addr) {
				t.Errorf("the attempt's error %q shows the address the name resolved to", a.Error)
			}
		}
	})
}

// TestFailedLookupHidesResolver: a name that does not resolve fails the attempt with
// the lookup's error, without the DNS server the platform asked (on a cloud network
// its address tells the tenant the network's range).
func TestFailedLookupHidesResolver(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := buildService(t, d, webhook.Options{Timeout: 5 * time.Second})
		ctx := t.Context()
		c := dbtest.MustCast(t, d)
		// .invalid never resolves (RFC 6761).
		ep, _, err := s.Create(ctx, webhook.EndpointInput{CompanyID: c.Company.ID, URL: "https://hooks.no-such-name.invalid/in"}, dbtest.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, a, err := s.SendTest(ctx, ep.ID, func(db.WebhookEndpoint) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if a.Success || !strings.Contains(a.Error, "lookup hooks.no-such-name.invalid") {
			t.Fatalf("attempt %+v: want a failed lookup", a)
		}
		if strings.Contains(a.Error, " on ") || strings.Contains(a.Error, ":53") {
			t.Errorf("the attempt's error %q names the DNS server", a.Error)
		}
	})
}
