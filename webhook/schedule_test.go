package webhook

import (
	"testing"
	"time"
)

// TestRetrySchedule: delays double from the base up to 12 h, with at most ±20% jitter,
// and with the default 5 s base a delivery gets 19 to 21 attempts, the last at RetryFor
// (72 h) after the change: the delay that would pass it is cut short there (it put the
// last attempt up to 87 h after the change).
func TestRetrySchedule(t *testing.T) {
	s := &Service{opts: Options{}}
	s.opts.defaults()
	for n := 1; n < 30; n++ {
		d := s.retryDelay(n)
		nominal := min(s.opts.RetryBase<<min(n-1, 20), 12*time.Hour)
		if d < nominal*8/10 || d > nominal*12/10 {
			t.Fatalf("delay %d = %s, want %s ±20%%", n, d, nominal)
		}
	}
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 200 {
		at, attempts := created, 1
		for at.Sub(created) < s.opts.RetryFor { // the attempt at at failed before RetryFor
			next := s.nextAttempt(created, at, attempts)
			if !next.After(at) {
				t.Fatalf("attempt %d at %s: the next at %s", attempts, at.Sub(created), next.Sub(created))
			}
			at = next
			attempts++
		}
		// README: 19 to 21 attempts, the last at 72 h.
		if attempts < 19 || attempts > 21 || at.Sub(created) != s.opts.RetryFor {
			t.Fatalf("%d attempts, the last %s after the change; README says 19 to 21, the last at 72h", attempts, at.Sub(created))
		}
	}
}
