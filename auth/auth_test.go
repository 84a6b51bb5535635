package auth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

func TestAuthenticateTokensAndRoles(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		biz, other := dbtest.MustCompany(t, d), dbtest.MustCompany(t, d)
		cust, staff := dbtest.MustUser(t, d), dbtest.MustUser(t, d)
		dbtest.MustTeamMember(t, d, biz, staff)
		a := &auth.Authenticator{Store: d, PlatformToken: "op-token", CacheTTL: -1}
		c := dispute.Case{UserID: cust.ID, CompanyID: biz.ID}

		tests := []struct {
			name, token string
			role        dispute.Actor
			manage      bool
		}{
			{"customer", dbtest.MustToken(t, d, db.TokenUser, cust.ID, false), dispute.ActorCustomer, false},
			{"team member", dbtest.MustToken(t, d, db.TokenUser, staff.ID, true), dispute.ActorMerchant, true},
			{"company key", dbtest.MustToken(t, d, db.TokenCompany, biz.ID, true), dispute.ActorMerchant, true},
			{"other company", dbtest.MustToken(t, d, db.TokenCompany, other.ID, true), "", true},
			{"platform", dbtest.MustToken(t, d, db.TokenPlatform, "", false), dispute.ActorPlatform, false},
			{"operator", "op-token", dispute.ActorPlatform, true},
		}
		for _, tt := range tests {
			p, err := a.Authenticate(ctx, tt.token)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if got := p.RoleOn(c); got != tt.role {
				t.Errorf("%s: role %q, want %q", tt.name, got, tt.role)
			}
			if p.CanManage() != tt.manage || !p.CanRead() {
				t.Errorf("%s: scopes %v", tt.name, p.Scopes)
			}
		}
		for _, bad := range []string{"rc_unknown", "", string(make([]byte, 600))} {
			if _, err := a.Authenticate(ctx, bad); !auth.IsAuthError(err) {
				t.Errorf("token %q: err %v, want UNAUTHENTICATED", bad[:min(len(bad), 10)], err)
			}
		}
		for _, h := range []string{"Basic abc", "Bearer", "Bearer  "} {
			if _, err := a.FromHeader(ctx, h); !auth.IsAuthError(err) {
				t.Errorf("header %q: err %v, want UNAUTHENTICATED", h, err)
			}
		}
		if p, err := a.FromHeader(ctx, ""); p != nil || err != nil {
			t.Errorf("no header: %v, %v; want nil, nil", p, err)
		}
	})
}

// TestAuthenticateCachesPrincipals checks that a resolved token is remembered for the
// TTL (no database lookup), and looked up again after it.
func TestAuthenticateCachesPrincipals(t *testing.T) {
	d := dbtest.MustSQLite(t)
	u := dbtest.MustUser(t, d)
	tok := dbtest.MustToken(t, d, db.TokenUser, u.ID, false)
	a := &auth.Authenticator{Store: d, CacheTTL: 200 * time.Millisecond}
	ctx := context.Background()
	p1, err := a.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	d.Close() // a lookup would now fail
	p2, err := a.Authenticate(ctx, tok)
	if err != nil || p2 != p1 {
		t.Fatalf("cached lookup: %v, same=%v", err, p2 == p1)
	}
	time.Sleep(250 * time.Millisecond)
	if _, err := a.Authenticate(ctx, tok); err == nil {
		t.Fatal("expired entry was served without a lookup")
	}
}

// TestFailuresLoggedAsSummary (issue 11, item 5): lookups that fail because the
// database is down are logged as one line per period, not one ERROR each (before: a
// 20 s outage wrote 4,932 ERROR lines).
func TestFailuresLoggedAsSummary(t *testing.T) {
	d := dbtest.MustSQLite(t)
	var out bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &out}, nil))
	a := &auth.Authenticator{Store: d, CacheTTL: -1, Logger: logger}
	d.Close() // every lookup now fails
	for i := range 1000 {
		if _, err := a.Authenticate(context.Background(), fmt.Sprintf("rc_token_%d", i)); err == nil || auth.IsAuthError(err) {
			t.Fatalf("lookup on a closed database: %v, want an internal error", err)
		}
	}
	mu.Lock()
	lines := strings.Count(out.String(), "\n")
	mu.Unlock()
	if lines != 1 {
		t.Errorf("%d log lines for 1000 failed lookups, want 1 (and a summary at the end of the period):\n%s", lines, out.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestThrottleAndMissCache: an address that failed Burst times waits; a cached miss
// costs no lookup; a good token in the principal cache still passes from a throttled
// address.
func TestThrottleAndMissCache(t *testing.T) {
	d := dbtest.MustSQLite(t)
	u := dbtest.MustUser(t, d)
	good := dbtest.MustToken(t, d, db.TokenUser, u.ID, false)
	a := &auth.Authenticator{Store: d, CacheTTL: time.Minute, Throttle: &auth.Throttle{Rate: 0.5, Burst: 3}}
	ctx := auth.WithClientAddr(context.Background(), "192.0.2.1")
	if _, err := a.Authenticate(ctx, good); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := a.Authenticate(ctx, fmt.Sprintf("rc_bad_%d", i)); !auth.IsAuthError(err) {
			t.Fatalf("bad token %d: %v", i, err)
		}
	}
	var te *auth.ThrottledError
	if _, err := a.Authenticate(ctx, "rc_bad_4"); !errors.As(err, &te) || te.Seconds() < 1 || te.Seconds() > 2 {
		t.Fatalf("fourth failure: %v, want throttled for about 2 s", err)
	}
	if p, err := a.Authenticate(ctx, good); err != nil || p.UserID != u.ID {
		t.Errorf("a cached good token from a throttled address: %v", err)
	}
	other := auth.WithClientAddr(context.Background(), "192.0.2.2")
	if _, err := a.Authenticate(other, "rc_bad_0"); !auth.IsAuthError(err) {
		t.Errorf("another address: %v", err)
	}
	d.Close() // a lookup would now fail: the miss is served from the cache
	if _, err := a.Authenticate(other, "rc_bad_0"); !auth.IsAuthError(err) {
		t.Errorf("a cached miss: %v, want UNAUTHENTICATED without a lookup", err)
	}
}

// TestWatchRevokedAndResync: a watched session ends with ErrRevoked when its token's
// revocation is announced, or, when the notice was missed, at the next resync (which
// re-checks every watched token in the store); the cache forgets the token at once;
// another token's session goes on.
func TestWatchRevokedAndResync(t *testing.T) {
	d := dbtest.MustSQLite(t)
	u := dbtest.MustUser(t, d)
	a := &auth.Authenticator{Store: d, CacheTTL: time.Hour}
	ctx := context.Background()
	session := func(tok string) (*auth.Principal, chan error) {
		p, err := a.Authenticate(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		ended := make(chan error, 1)
		t.Cleanup(a.Watch(p, func(err error) { ended <- err }))
		return p, ended
	}
	p1, end1 := session(dbtest.MustToken(t, d, db.TokenUser, u.ID, false))
	p2, end2 := session(dbtest.MustToken(t, d, db.TokenUser, u.ID, false))
	owner := db.TokenOwner{UserID: u.ID}

	// Announced: ends at once.
	if _, err := d.RevokeToken(ctx, owner, p1.TokenID, dbtest.Now()); err != nil {
		t.Fatal(err)
	}
	a.Revoked(p1.TokenID)
	if err := <-end1; err != auth.ErrRevoked {
		t.Errorf("session 1 ended with %v", err)
	}
	if _, err := a.Recheck(ctx, p1); !auth.IsAuthError(err) {
		t.Errorf("recheck of the revoked token: %v", err)
	}
	// Missed (no notice): the resync finds it.
	if _, err := d.RevokeToken(ctx, owner, p2.TokenID, dbtest.Now()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-end2:
		t.Fatalf("session 2 ended before the resync: %v", err)
	default:
	}
	a.ResyncRevocations()
	select {
	case err := <-end2:
		if err != auth.ErrRevoked {
			t.Errorf("session 2 ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the resync did not end the session of a token revoked meanwhile")
	}
	if n := a.Sessions(); n != 0 {
		t.Errorf("%d sessions still watched", n)
	}
}

// TestWatchAfterRevocationAnnounced: a session whose credential was looked up before
// its revocation was announced, and registered with Watch only after (the stream's
// authentication and its Watch are two steps; the notice may fall in between), must
// end too: the notice found no session to end, and nothing would re-check it later.
// A session of a token that is still live is not ended by someone else's revocation.
func TestWatchAfterRevocationAnnounced(t *testing.T) {
	d := dbtest.MustSQLite(t)
	u := dbtest.MustUser(t, d)
	a := &auth.Authenticator{Store: d, CacheTTL: time.Hour}
	ctx := context.Background()
	p, err := a.Authenticate(ctx, dbtest.MustToken(t, d, db.TokenUser, u.ID, false))
	if err != nil {
		t.Fatal(err)
	}
	other, err := a.Authenticate(ctx, dbtest.MustToken(t, d, db.TokenUser, u.ID, false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.RevokeToken(ctx, db.TokenOwner{UserID: u.ID}, p.TokenID, dbtest.Now()); err != nil {
		t.Fatal(err)
	}
	a.Revoked(p.TokenID) // the notice, before the session is watched

	ended := make(chan error, 1)
	t.Cleanup(a.Watch(p, func(err error) { ended <- err }))
	otherEnded := make(chan error, 1)
	t.Cleanup(a.Watch(other, func(err error) { otherEnded <- err }))
	select {
	case err := <-ended:
		if err != auth.ErrRevoked {
			t.Errorf("the session ended with %v, want ErrRevoked", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a session watched after its token's revocation was announced never ended")
	}
	select {
	case err := <-otherEnded:
		t.Errorf("the session of a live token ended: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
}
