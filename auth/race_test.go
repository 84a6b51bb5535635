package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
)

// gatedStore is the database with LookupToken counted, and held after its answer
// until the test lets it go (when hold is set).
type gatedStore struct {
	*db.DB
	lookups atomic.Int64
	hold    chan struct{} // closed: lookups go on
	held    chan struct{} // told when a lookup waits
}

func (s *gatedStore) LookupToken(ctx context.Context, clear string) (db.Token, error) {
	s.lookups.Add(1)
	t, err := s.DB.LookupToken(ctx, clear)
	s.held <- struct{}{}
	<-s.hold
	return t, err
}

// TestThrottleCountsAttemptsUnderWay: an address's failure budget (Burst 5) bounds its
// lookups even when all its bad tokens arrive at once: the attempts under way count
// against it, so 5 of 100 concurrent ones reach the database while the others wait,
// and once those 5 failed the others are throttled without a lookup.
func TestThrottleCountsAttemptsUnderWay(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s := &gatedStore{DB: d, hold: make(chan struct{}), held: make(chan struct{}, 100)}
	a := &auth.Authenticator{Store: s, CacheTTL: time.Minute, Throttle: &auth.Throttle{Rate: 0.01, Burst: 5}}
	ctx := auth.WithClientAddr(context.Background(), "198.51.100.7")
	var wg sync.WaitGroup
	var throttled, refused atomic.Int64
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := a.Authenticate(ctx, fmt.Sprintf("rc_guess_%03d", i))
			var te *auth.ThrottledError
			switch {
			case errors.As(err, &te):
				throttled.Add(1)
			case auth.IsAuthError(err):
				refused.Add(1)
			default:
				t.Errorf("attempt %d: %v", i, err)
			}
		}()
	}
	// Five lookups start and wait; no other starts meanwhile.
	for range 5 {
		select {
		case <-s.held:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d lookups started", s.lookups.Load())
		}
	}
	time.Sleep(200 * time.Millisecond)
	if n := s.lookups.Load(); n > 5 {
		t.Errorf("%d lookups under way for 100 concurrent bad tokens from one address, want at most the burst, 5", n)
	}
	close(s.hold)
	wg.Wait()
	if n := s.lookups.Load(); n > 5 {
		t.Errorf("%d lookups in all, want 5", n)
	}
	if refused.Load() != 5 || throttled.Load() != 95 {
		t.Errorf("%d refused after a lookup, %d throttled; want 5 and 95", refused.Load(), throttled.Load())
	}
}

// TestThrottleLetsConcurrentGoodTokensThrough: 50 users behind one address sign in at
// once with tokens not yet cached (Burst 5): all get in; the attempts beyond the budget
// only wait for the ones under way.
func TestThrottleLetsConcurrentGoodTokensThrough(t *testing.T) {
	d := dbtest.MustSQLite(t)
	var toks []string
	for range 50 {
		toks = append(toks, dbtest.MustToken(t, d, db.TokenUser, dbtest.MustUser(t, d).ID, false))
	}
	s := &gatedStore{DB: d, hold: make(chan struct{}), held: make(chan struct{}, 50)}
	a := &auth.Authenticator{Store: s, CacheTTL: time.Minute, Throttle: &auth.Throttle{Rate: 0.01, Burst: 5}}
	ctx := auth.WithClientAddr(context.Background(), "198.51.100.9")
	var wg sync.WaitGroup
	for i, tok := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.Authenticate(ctx, tok); err != nil {
				t.Errorf("user %d: %v", i, err)
			}
		}()
	}
	// The first lookups are held while the others arrive.
	<-s.held
	time.Sleep(200 * time.Millisecond)
	close(s.hold)
	wg.Wait()
	if n := s.lookups.Load(); n != 50 {
		t.Errorf("%d lookups, want one per user", n)
	}
}

// TestThrottleGivesBackSuccesses: good tokens (not cached) from an address do not use
// its failure budget up.
func TestThrottleGivesBackSuccesses(t *testing.T) {
	d := dbtest.MustSQLite(t)
	u := dbtest.MustUser(t, d)
	a := &auth.Authenticator{Store: d, CacheTTL: -1, Throttle: &auth.Throttle{Rate: 0.01, Burst: 2}}
	ctx := auth.WithClientAddr(context.Background(), "198.51.100.8")
	good := dbtest.MustToken(t, d, db.TokenUser, u.ID, false)
	for i := range 10 {
		if _, err := a.Authenticate(ctx, good); err != nil {
			t.Fatalf("good token %d: %v", i, err)
		}
	}
	for i := range 2 {
		if _, err := a.Authenticate(ctx, fmt.Sprintf("rc_bad_%d", i)); !auth.IsAuthError(err) {
			t.Fatalf("bad token %d: %v", i, err)
		}
	}
	var te *auth.ThrottledError
	if _, err := a.Authenticate(ctx, "rc_bad_3"); !errors.As(err, &te) {
		t.Errorf("third failure: %v, want throttled", err)
	}
}

// TestRevocationDuringLookupNotCached: a token revoked while a lookup of it is under
// way (the lookup read the row before the revocation committed) is not cached by that
// lookup: the next request looks it up again and is refused.
func TestRevocationDuringLookupNotCached(t *testing.T) {
	d := dbtest.MustSQLite(t)
	u := dbtest.MustUser(t, d)
	s := &gatedStore{DB: d, hold: make(chan struct{}), held: make(chan struct{}, 1)}
	a := &auth.Authenticator{Store: s, CacheTTL: time.Minute}
	ctx := context.Background()
	tok := dbtest.MustToken(t, d, db.TokenUser, u.ID, false)
	done := make(chan error, 1)
	go func() { _, err := a.Authenticate(ctx, tok); done <- err }()
	<-s.held // the lookup found the live token
	list, err := d.ListTokens(ctx, db.TokenOwner{UserID: u.ID}, db.TokenFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("tokens %+v %v", list, err)
	}
	if _, err := d.RevokeToken(ctx, db.TokenOwner{UserID: u.ID}, list[0].ID, dbtest.Now()); err != nil {
		t.Fatal(err)
	}
	a.Revoked(list[0].ID) // the announcement arrives while the lookup is under way
	close(s.hold)
	if err := <-done; err != nil {
		t.Fatalf("the lookup under way: %v", err)
	}
	before := s.lookups.Load()
	if _, err := a.Authenticate(ctx, tok); !auth.IsAuthError(err) {
		t.Fatalf("the revoked token: %v, want UNAUTHENTICATED", err)
	}
	if s.lookups.Load() == before {
		t.Error("the revoked token was served from the cache")
	}
}
