package gctune

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		base     int
		headroom uint64
		live     uint64
		want     int
	}{
		{200, 64 * mb, 10 * mb, 200},  // small heap: GOGC's percent
		{200, 64 * mb, 32 * mb, 200},  // exactly the headroom
		{200, 64 * mb, 64 * mb, 100},  // goal = live + headroom
		{200, 64 * mb, 160 * mb, 40},  // 10,000 idle subscriptions
		{200, 64 * mb, 1024 * mb, 25}, // never below the floor
		{20, 64 * mb, 1024 * mb, 20},  // nor above a base under the floor
		{200, 0, 1024 * mb, 200},      // no headroom: off
		{100, 64 * mb, 0, 100},        // nothing measured yet
	} {
		if got := Percent(c.base, c.headroom, c.live); got != c.want {
			t.Errorf("Percent(%d, %d MB, %d MB) = %d, want %d", c.base, c.headroom/mb, c.live/mb, got, c.want)
		}
	}
}

// The tuner, on the real runtime: a large live heap lowers the percent after a
// collection, and freeing it restores GOGC's.
func TestTunerFollowsTheLiveHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	tu := Start(200, 16<<20)
	defer tu.Stop()
	waitFor := func(what string, ok func(p int) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok(tu.Current()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: percent stayed %d", what, tu.Current())
			}
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("small heap", func(p int) bool { return p == 200 })

	hold := make([][]byte, 128)
	for i := range hold {
		hold[i] = make([]byte, 1<<20) // 128 MB live: 16 MB of headroom is 12%, floored at 25
	}
	waitFor("128 MB live", func(p int) bool { return p == MinPercent })
	if got := debug.SetGCPercent(-1); got != MinPercent {
		t.Errorf("runtime percent %d, want %d", got, MinPercent)
	} else {
		debug.SetGCPercent(got)
	}
	runtime.KeepAlive(hold)

	hold = nil
	waitFor("heap freed", func(p int) bool { return p == 200 })

	tu.Stop()
	if got := debug.SetGCPercent(100); got != 200 {
		t.Errorf("after Stop the percent is %d, want the base 200", got)
	}
}

// Process: the first caller's settings hold while it runs; a second caller shares it,
// and the last stop restores the base.
func TestProcessShared(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	stop1 := Process(300, 64<<20)
	stop2 := Process(500, 1<<20)
	got := debug.SetGCPercent(-1)
	debug.SetGCPercent(got)
	if got != 300 {
		t.Errorf("percent %d, want the first caller's 300", got)
	}
	stop1()
	stop1() // twice is harmless
	procMu.Lock()
	running := procTuner != nil
	procMu.Unlock()
	if !running {
		t.Fatal("the tuner stopped while a caller still uses it")
	}
	stop2()
	procMu.Lock()
	running = procTuner != nil
	procMu.Unlock()
	if running {
		t.Fatal("the tuner runs on after the last stop")
	}
	Process(0, 0)() // off: a no-op stop
}
