// Package deadline runs the sweeper: the server's periodic housekeeping. It applies the
// system's deadline transitions to past-due cases, deletes idempotency records older
// than their 24 hours, and deletes finished webhook deliveries (with their attempts and
// messages) older than the delivery log's retention. Several server processes may sweep one PostgreSQL
// database at once: each case is changed under its row lock and only if it is still
// due, so each past-due case transitions exactly once.
//
// deadline imports db and dispute.
package deadline

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
)

// errNotDue tells UpdateCase to change nothing: another sweeper or an action got there
// first.
var errNotDue = errors.New("deadline: case no longer due")

// batchSize bounds the cases one sweep looks at; a sweep loops until none are due.
const batchSize = 500

// Sweeper applies deadline transitions.
type Sweeper struct {
	DB       *db.DB
	Policy   dispute.Policy
	Now      func() time.Time
	Interval time.Duration
	// WebhookRetention is how long finished webhook deliveries are kept (0: forever).
	WebhookRetention time.Duration
	Logger           *slog.Logger
	// OnSweep, when set, is called after every sweep with the number of transitions.
	OnSweep func(n int, err error)
}

// Run sweeps every Interval until ctx ends.
func (s *Sweeper) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		n, err := s.Sweep(ctx)
		if err != nil && ctx.Err() == nil {
			s.Logger.Error("deadline sweep", "err", err, "transitioned", n)
		} else if n > 0 {
			s.Logger.Info("deadline sweep", "transitioned", n)
		}
		if s.OnSweep != nil {
			s.OnSweep(n, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep transitions every case due at Now() and returns how many it changed; then it
// deletes the idempotency records older than db.IdempotencyTTL and the finished webhook
// deliveries older than WebhookRetention.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	now := s.Now().UTC().Truncate(time.Millisecond)
	n, err := s.expire(ctx, now)
	if err != nil {
		return n, err
	}
	purged, err := s.DB.PurgeIdempotencyKeys(ctx, now)
	if purged > 0 && s.Logger != nil {
		s.Logger.Info("idempotency records deleted", "count", purged)
	}
	if err != nil || s.WebhookRetention <= 0 {
		return n, err
	}
	deliveries, messages, err := s.DB.PurgeWebhookDeliveries(ctx, now.Add(-s.WebhookRetention))
	if deliveries+messages > 0 && s.Logger != nil {
		s.Logger.Info("webhook delivery log purged", "deliveries", deliveries, "messages", messages, "retention", s.WebhookRetention)
	}
	return n, err
}

// expire transitions every case due at now.
func (s *Sweeper) expire(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for {
		due, err := s.DB.DueCases(ctx, now, batchSize)
		if err != nil {
			return total, err
		}
		changed := 0
		for _, id := range due {
			_, err := s.DB.UpdateCase(ctx, db.Change{CaseID: id, Scope: db.Scope{All: true},
				Decide: func(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
					// The transition's time is read under the case's lock, as an
					// action's is: an action that committed after the sweep began
					// (and left the case due) must not be followed by an event
					// stamped before it. Due at now, the case is due at any later time.
					at := s.Now().UTC().Truncate(time.Millisecond)
					if at.Before(now) {
						at = now
					}
					next, ev, ok := s.Policy.Expire(c, at)
					if !ok {
						return c, ev, dispute.Effects{}, errNotDue
					}
					return next, ev, dispute.Effects{}, nil
				}})
			switch {
			case err == nil:
				changed++
			case errors.Is(err, errNotDue):
			default:
				return total + changed, err
			}
		}
		total += changed
		if len(due) < batchSize || changed == 0 {
			return total, nil
		}
	}
}
