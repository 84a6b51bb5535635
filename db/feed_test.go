package db_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// recorder is a feed sink that keeps what it receives.
type recorder struct {
	mu      sync.Mutex
	notices []dispute.Notice
	resyncs int
	got     chan struct{}
}

func (r *recorder) Notify(n dispute.Notice) {
	r.mu.Lock()
	r.notices = append(r.notices, n)
	r.mu.Unlock()
	select {
	case r.got <- struct{}{}:
	default:
	}
}

func (r *recorder) Resync() {
	r.mu.Lock()
	r.resyncs++
	r.mu.Unlock()
}

func (r *recorder) snapshot() ([]dispute.Notice, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]dispute.Notice(nil), r.notices...), r.resyncs
}

// TestFeedCommittedOnly checks the property the fan-out rests on, on both engines: a
// change that rolls back after it was announced (NOTIFY sent inside the transaction on
// PostgreSQL) reaches no sink, while a committed one arrives exactly once with its
// event's position and the case's version.
func TestFeedCommittedOnly(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rec := &recorder{got: make(chan struct{}, 1)}
		if l := d.Feed(rec, slog.New(slog.NewTextHandler(io.Discard, nil))); l != nil {
			done := make(chan struct{})
			go func() { defer close(done); l.Run(ctx) }()
			defer func() { cancel(); <-done }()
			deadline := time.Now().Add(10 * time.Second)
			for !l.Up() {
				if time.Now().After(deadline) {
					t.Fatal("LISTEN connection not up")
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		c := mustOpenCase(t, d)
		opened := dispute.Notice{CaseID: c.ID, Position: 1, Version: 1}
		// Rolled back after the announcement: the idempotency record cannot encode a
		// year-10000 deadline, so the transaction fails at its very end.
		far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
		_, err := d.UpdateCase(ctx, db.Change{CaseID: c.ID, Scope: db.Scope{All: true}, Now: caseT0,
			Idem: &db.Idempotency{Principal: "p", Key: "k", Operation: string(dispute.ActionRespond), RequestHash: "h"},
			Decide: func(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
				next, ev, eff, err := dispute.DefaultPolicy().Apply(c, dispute.ActorCustomer, dispute.ActionRespond,
					dispute.Input{Message: "never committed"}, caseT0.Add(time.Minute))
				next.DueDate = &far
				return next, ev, eff, err
			}})
		if err == nil {
			t.Fatal("the change committed")
		}
		res := dbtest.MustApply(t, d, c.ID, dispute.ActorMerchant, dispute.ActionRespond, "committed", caseT0.Add(2*time.Minute))
		want := dispute.Notice{CaseID: c.ID, Position: res.Event.Position, Version: res.Case.Version}
		deadline := time.After(10 * time.Second)
		for n, _ := rec.snapshot(); len(n) < 2; n, _ = rec.snapshot() {
			select {
			case <-rec.got:
			case <-deadline:
				t.Fatalf("notices %+v, want the opening and the committed change", n)
			}
		}
		time.Sleep(300 * time.Millisecond) // room for a stray notice of the rolled-back change
		notices, _ := rec.snapshot()
		if len(notices) != 2 || notices[0] != opened || notices[1] != want {
			t.Fatalf("notices %+v, want exactly %+v then %+v", notices, opened, want)
		}
		if want.Position != 2 || want.Version != 2 {
			t.Errorf("the rolled-back change took position or version: %+v", want)
		}
	})
}
