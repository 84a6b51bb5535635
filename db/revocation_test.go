package db_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// revocations records what the change feed says about tokens.
type revocations struct {
	mu      sync.Mutex
	ids     []string
	resyncs int
}

func (r *revocations) Revoked(id string)  { r.mu.Lock(); r.ids = append(r.ids, id); r.mu.Unlock() }
func (r *revocations) ResyncRevocations() { r.mu.Lock(); r.resyncs++; r.mu.Unlock() }
func (r *revocations) get() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids), r.resyncs
}

// TestRevocationFeed: a committed revocation reaches the revocation sink once on both
// engines (PostgreSQL: NOTIFY through the Listener; SQLite: after commit); revoking
// again, or another owner's token, sends nothing; RevokedTokens tells revoked tokens
// from live ones; the Listener asks for a resync when its session starts.
func TestRevocationFeed(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rec := &revocations{}
		d.WatchRevocations(rec)
		if l := d.Feed(&recorder{got: make(chan struct{}, 1)}, slog.New(slog.NewTextHandler(io.Discard, nil))); l != nil {
			done := make(chan struct{})
			go func() { defer close(done); l.Run(ctx) }()
			defer func() { cancel(); <-done }()
			for deadline := time.Now().Add(10 * time.Second); !l.Up(); time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("LISTEN connection not up")
				}
			}
			if _, resyncs := rec.get(); resyncs != 1 {
				t.Errorf("resyncs at the start of the LISTEN session: %d, want 1", resyncs)
			}
		}
		u, other := dbtest.MustUser(t, d), dbtest.MustUser(t, d)
		mine := func(id string) db.Token {
			tk, _, err := d.CreateToken(ctx, db.Token{Kind: db.TokenUser, UserID: id, Scopes: []string{"read"}}, dbtest.Now())
			if err != nil {
				t.Fatal(err)
			}
			return tk
		}
		a, b, c := mine(u.ID), mine(u.ID), mine(other.ID)
		owner := db.TokenOwner{UserID: u.ID}
		got, err := d.RevokeToken(ctx, owner, a.ID, dbtest.Now())
		if err != nil || got.RevokedAt.IsZero() {
			t.Fatalf("revoke: %+v %v", got, err)
		}
		if _, err := d.RevokeToken(ctx, owner, a.ID, dbtest.Now().Add(time.Hour)); err != nil {
			t.Errorf("revoking twice: %v", err)
		}
		if _, err := d.RevokeToken(ctx, owner, c.ID, dbtest.Now()); dispute.CodeOf(err) != dispute.CodeNotFound {
			t.Errorf("revoking another user's token: %v, want NOT_FOUND", err)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if ids, _ := rec.get(); len(ids) > 0 || time.Now().After(deadline) {
				break
			}
		}
		time.Sleep(200 * time.Millisecond) // room for a stray notice
		if ids, _ := rec.get(); !slices.Equal(ids, []string{a.ID}) {
			t.Errorf("revocations received: %v, want exactly [%s]", ids, a.ID)
		}
		revoked, err := d.RevokedTokens(ctx, []string{a.ID, b.ID, "tok_gone"})
		if err != nil || !slices.Equal(revoked, []string{a.ID, "tok_gone"}) {
			t.Errorf("RevokedTokens = %v %v, want [%s tok_gone]", revoked, err, a.ID)
		}
		if _, err := d.LookupTokenHash(ctx, "0000"); dispute.CodeOf(err) != dispute.CodeNotFound {
			t.Errorf("LookupTokenHash of nothing: %v", err)
		}
	})
}
