package db_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// freezeProxy forwards TCP connections to a target until Freeze, after which the
// connections open at that moment go silent: what either side sends is swallowed, and
// neither is closed (a peer gone without a word: a dropped NAT mapping, a failed-over
// address, a stuck middlebox). Connections opened later forward normally.
type freezeProxy struct {
	target string
	ln     net.Listener
	mu     sync.Mutex
	conns  []*atomic.Bool // frozen flags of the open connections
	all    []net.Conn
}

func startFreezeProxy(t *testing.T, target string) *freezeProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezeProxy{target: target, ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.all {
			c.Close()
		}
	})
	return p
}

func (p *freezeProxy) forward(client net.Conn) {
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		client.Close()
		return
	}
	frozen := new(atomic.Bool)
	p.mu.Lock()
	p.conns = append(p.conns, frozen)
	p.all = append(p.all, client, server)
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if err != nil {
				dst.Close()
				return
			}
			if !frozen.Load() {
				if _, err := dst.Write(buf[:n]); err != nil {
					src.Close()
					return
				}
			}
		}
	}
	go pipe(server, client)
	pipe(client, server)
}

// Freeze silences every connection open now.
func (p *freezeProxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.conns {
		f.Store(true)
	}
}

// TestListenerNoticesASilentConnection: a LISTEN connection whose peer went silent
// without closing it (no FIN, no RST) must be found out and replaced, with a resync,
// within seconds. Until then this process receives no notice at all (its own commits'
// included, which reach its subscribers through NOTIFY too) while /readyz says the
// LISTEN connection is up.
func TestListenerNoticesASilentConnection(t *testing.T) {
	rawURL := dbtest.PostgresURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := db.Open(ctx, rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startFreezeProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	ld, err := db.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer ld.Close()

	rec := &recorder{got: make(chan struct{}, 1)}
	l := ld.Feed(rec, slog.New(slog.NewTextHandler(io.Discard, nil)))
	l.IdleCheck = 500 * time.Millisecond
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor := func(what string, limit time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v", what, limit)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("LISTEN up", 10*time.Second, l.Up)
	c := mustOpenCase(t, d)
	waitFor("the opening's notice", 10*time.Second, func() bool { n, _ := rec.snapshot(); return len(n) == 1 })
	// Silent but alive: pinged, kept, and its notices still arrive.
	time.Sleep(4 * l.IdleCheck)
	res := dbtest.MustApply(t, d, c.ID, dispute.ActorMerchant, dispute.ActionRespond, "while idle", caseT0.Add(time.Minute))
	want := dispute.Notice{CaseID: c.ID, Position: res.Event.Position, Version: res.Case.Version}
	waitFor("a notice after idle pings", 10*time.Second, func() bool {
		n, _ := rec.snapshot()
		return len(n) == 2 && n[1] == want
	})
	if n := l.Reconnects.Load(); n != 0 {
		t.Fatalf("a live connection was replaced %d times while idle", n)
	}
	_, resyncs := rec.snapshot()

	proxy.Freeze()
	dbtest.MustApply(t, d, c.ID, dispute.ActorCustomer, dispute.ActionRespond, "sent while silent", caseT0.Add(2*time.Minute))
	waitFor("a new LISTEN connection and a resync after the old one went silent", 5*time.Second, func() bool {
		_, r := rec.snapshot()
		return r > resyncs && l.Reconnects.Load() >= 1 && l.Up()
	})
	// Live again: the next change's notice arrives.
	res = dbtest.MustApply(t, d, c.ID, dispute.ActorMerchant, dispute.ActionRespond, "after", caseT0.Add(3*time.Minute))
	want = dispute.Notice{CaseID: c.ID, Position: res.Event.Position, Version: res.Case.Version}
	waitFor("the next notice", 10*time.Second, func() bool {
		n, _ := rec.snapshot()
		return len(n) > 0 && n[len(n)-1] == want
	})
}
