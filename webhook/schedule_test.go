package webhook

import (
	"testing"
	"time"
)

// TestRetrySchedule: delays double from the base up to 12 h, with at most ±20% jitter,
// and with the default 5 s base the attempts within RetryFor span about 3 days.
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
	if attempts < 15 || attempts > 22 {
		t.Errorf("%d attempts in %s, want about 18", attempts, s.opts.RetryFor)
	}
}
