package app

import (
	"testing"
	"time"
)

// TestReadinessObserve: the readiness state machine alone. Failures count from the
// first of a run of failed checks; a good check clears them at once; LISTEN counts
// only while the database answers, from the first check that finds it down.
func TestReadinessObserve(t *testing.T) {
	rd := newReadiness(nil, nil, 10*time.Second)
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	steps := []struct {
		at             float64
		dbUp, listenUp bool
		wantDown       time.Duration // 0: serving
		wantNotReady   bool
		what           string
	}{
		{0, true, true, 0, false, "healthy"},
		{1, false, false, time.Nanosecond, false, "first failed check: noted, still ready"},
		{6, false, false, 5 * time.Second, false, "failing for 5 s"},
		{11, false, false, 10 * time.Second, true, "failing for 10 s: not ready"},
		{12, true, false, time.Nanosecond, false, "database back, LISTEN reconnecting: ready at the first good check"},
		{16, true, true, 0, false, "LISTEN back"},
		{17, true, false, time.Nanosecond, false, "LISTEN lost while the database answers"},
		{27, true, false, 10 * time.Second, true, "LISTEN down for 10 s: not ready"},
		{28, false, false, time.Nanosecond, false, "the database fails too: its own count starts"},
		{29, true, true, 0, false, "all back"},
	}
	for _, s := range steps {
		down, why := rd.observe(at(s.at), s.dbUp, s.listenUp)
		notReady := down > 0 && down >= rd.failAfter
		if down != s.wantDown || notReady != s.wantNotReady {
			t.Errorf("%s (t=%vs): down %v (%s), not ready %v; want %v, %v", s.what, s.at, down, why, notReady, s.wantDown, s.wantNotReady)
		}
	}
}
