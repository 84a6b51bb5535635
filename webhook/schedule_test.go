package webhook

import (
	"testing"
	"time"
)

// TestRetrySchedule: delays double from the base up to 12 h, with at most ±20% jitter,
// and with the default 5 s base a delivery gets 19 to 21 attempts, the last the first at
// or after RetryFor (72 h), at most 87 h after the change.
func TestRetrySchedule(t *testing.T) {
	s := &Service{opts: Options{}}
	s.opts.defaults()
	var total time.Duration
	attempts := 1
	for n := 1; total < s.opts.RetryFor; n++ {
		d := s.retryDelay(n)
		nominal := min(s.opts.RetryBase<<min(n-1, 20), 12*time.Hour)
		if d < nominal*8/10 || d > nominal*12/10 {
			t.Fatalf("delay %d = %s, want %s ±20%%", n, d, nominal)
		}
		total += d
		attempts++
	}
	// README: 19 to 21 attempts, the last (the first at or after RetryFor) within 87 h.
	if attempts < 19 || attempts > 21 || total > 87*time.Hour {
		t.Errorf("%d attempts, the last %s after the change; README says 19 to 21, the last within 87h", attempts, total)
	}
}
