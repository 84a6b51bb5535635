package dispute

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestViewerActions(t *testing.T) {
	p := DefaultPolicy()
	c := fixture(StatusMerchantResponseNeeded)
	for _, role := range []Actor{cust, merc, plat} {
		if got, want := p.ViewerActions(c, role, true), p.Allowed(c, role); !slices.Equal(got, want) || len(got) == 0 {
			t.Errorf("%s may act: %v, want %v", role, got, want)
		}
		if got := p.ViewerActions(c, role, false); got == nil || len(got) != 0 {
			t.Errorf("%s without manage: %v, want an empty list", role, got)
		}
	}
	if got := p.ViewerActions(c, ActorSystem, true); got == nil || len(got) != 0 {
		t.Errorf("system: %v, want an empty list", got)
	}
}

func TestMessageBudget(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	msg := func(r Actor) Event { return Event{Action: EventResponded, Reporter: r, CreatedAt: now} }
	// recent returns n message times, newest first, every step apart, the newest at
	// newest before now.
	recent := func(n int, newest, step time.Duration) []time.Time {
		out := make([]time.Time, n)
		for i := range out {
			out[i] = now.Add(-newest - time.Duration(i)*step)
		}
		return out
	}
	b := MessageBudget{PerHour: 3}
	allowed := []Action{ActionRespond, ActionWithdraw}
	tests := []struct {
		name   string
		b      MessageBudget
		ev     Event
		recent []time.Time
		refuse bool
	}{
		{"under the budget", b, msg(cust), recent(2, time.Minute, time.Minute), false},
		{"budget used within the hour", b, msg(cust), recent(3, time.Minute, time.Minute), true},
		{"merchant likewise", b, msg(merc), recent(5, time.Second, time.Second), true},
		{"the oldest counted left the window", b, msg(cust), recent(3, time.Minute, 30*time.Minute), false},
		{"exactly an hour ago is outside", b, msg(cust), recent(3, 59*time.Minute, 30*time.Second), false},
		{"platform not limited", b, msg(plat), recent(10, time.Second, time.Second), false},
		{"other actions not counted", b, Event{Action: EventWithdrew, Reporter: cust, CreatedAt: now}, recent(10, time.Second, time.Second), false},
		{"zero is no limit", MessageBudget{}, msg(cust), recent(100, time.Second, time.Second), false},
	}
	for _, tc := range tests {
		err := tc.b.Check(tc.ev, tc.recent, allowed)
		if (err != nil) != tc.refuse {
			t.Errorf("%s: %v, refuse %v", tc.name, err, tc.refuse)
			continue
		}
		if err == nil {
			continue
		}
		var de *Error
		if !errors.As(err, &de) || de.Code != CodeLimitReached {
			t.Errorf("%s: %v, want LIMIT_REACHED", tc.name, err)
			continue
		}
		if !slices.Equal(de.Allowed, []Action{ActionWithdraw}) {
			t.Errorf("%s: allowed %v, want the other actions", tc.name, de.Allowed)
		}
		if !strings.Contains(de.Message, "at most 3 messages") {
			t.Errorf("%s: message %q", tc.name, de.Message)
		}
	}
}
