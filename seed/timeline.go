package seed

import (
	"fmt"
	"time"

	"resolutioncenter/dispute"
)

// timeline builds one case the way the server would: Policy.Open, then one
// Policy.Apply, Expire or Record per event, keeping the events and the times of the
// outside effects (refund, membership cancellation) for the rows.
type timeline struct {
	p      dispute.Policy
	c      dispute.Case
	events []dispute.Event
	// refundedAt and canceledAt are when the payment was refunded and the membership
	// canceled; zero when that did not happen.
	refundedAt time.Time
	canceledAt time.Time
}

// ms truncates t to the millisecond precision the rows keep, in UTC.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// last returns the time of the latest event.
func (tl *timeline) last() time.Time { return tl.events[len(tl.events)-1].CreatedAt }

func (tl *timeline) open(c dispute.Case, msg string, t time.Time) error {
	next, ev, err := tl.p.Open(c, msg, ms(t))
	if err != nil {
		return fmt.Errorf("open %s case: %w", c.Issue, err)
	}
	tl.c = next
	tl.events = append(tl.events[:0], ev)
	tl.refundedAt, tl.canceledAt = time.Time{}, time.Time{}
	return nil
}

func (tl *timeline) apply(actor dispute.Actor, action dispute.Action, in dispute.Input, t time.Time) error {
	t = ms(t)
	next, ev, eff, err := tl.p.Apply(tl.c, actor, action, in, t)
	if err != nil {
		return fmt.Errorf("%s %s at event %d (%s): %w", actor, action, tl.c.EventCount+1, tl.c.Status, err)
	}
	if eff.RefundPayment {
		tl.refundedAt = t
	}
	if eff.CancelMembership {
		tl.canceledAt = t
	}
	tl.c = next
	tl.events = append(tl.events, ev)
	return nil
}

func (tl *timeline) expire(t time.Time) error {
	next, ev, ok := tl.p.Expire(tl.c, ms(t))
	if !ok {
		return fmt.Errorf("no deadline due at event %d (%s)", tl.c.EventCount+1, tl.c.Status)
	}
	tl.c = next
	tl.events = append(tl.events, ev)
	return nil
}

func (tl *timeline) record(action dispute.EventAction, details string, t time.Time) error {
	next, ev, err := tl.p.Record(tl.c, action, details, ms(t))
	if err != nil {
		return fmt.Errorf("record %s: %w", action, err)
	}
	tl.c = next
	tl.events = append(tl.events, ev)
	return nil
}

// shift moves the whole timeline by d (a whole number of milliseconds), which the
// policy cannot tell apart: it only compares times of the same case.
func (tl *timeline) shift(d time.Duration) {
	if d == 0 {
		return
	}
	tl.c.CreatedAt = tl.c.CreatedAt.Add(d)
	tl.c.UpdatedAt = tl.c.UpdatedAt.Add(d)
	if tl.c.DueDate != nil {
		due := tl.c.DueDate.Add(d)
		tl.c.DueDate = &due
	}
	for i := range tl.events {
		tl.events[i].CreatedAt = tl.events[i].CreatedAt.Add(d)
	}
	if !tl.refundedAt.IsZero() {
		tl.refundedAt = tl.refundedAt.Add(d)
	}
	if !tl.canceledAt.IsZero() {
		tl.canceledAt = tl.canceledAt.Add(d)
	}
}

// ref returns a pointer to a copy of t.
func ref(t time.Time) *time.Time { return &t }
