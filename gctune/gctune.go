// Package gctune bounds the garbage the Go runtime lets pile up between collections.
//
// GOGC sets the next heap goal as a multiple of the live heap. That is right for a
// small heap, where collecting less often saves CPU for little memory, but a large
// live heap then grows by the same factor: with 10,000 idle subscriptions (about
// 120 MB live) GOGC=200 let the heap reach 360 MB before collecting, and the process
// kept that memory. The tuner keeps GOGC's percent while the garbage it allows stays
// under a headroom, and beyond that lowers the percent so that the goal is the live
// heap plus the headroom (never below a floor, which bounds the CPU spent collecting).
// It decides again after every collection.
//
// gctune imports nothing of this module.
package gctune

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// MinPercent is the lowest percent the tuner sets: with a huge live heap the
// headroom is a small fraction of it, and collecting that often would cost more CPU
// than the memory is worth.
const MinPercent = 25

// Percent is the GC percent for roots bytes of GC roots (the live heap, plus the
// stacks and globals scanned, which the runtime counts in its goal too): base while
// roots*base/100 fits in headroom, else the percent that makes the goal the live heap
// plus the headroom, at least MinPercent (or base, if that is lower).
func Percent(base int, headroom, roots uint64) int {
	if base <= 0 || headroom == 0 || roots == 0 {
		return base
	}
	if roots*uint64(base)/100 <= headroom {
		return base
	}
	p := int(headroom * 100 / roots)
	return max(p, min(MinPercent, base))
}

// Tuner adjusts the runtime's GC percent after each collection.
type Tuner struct {
	base     int
	headroom uint64

	mu      sync.Mutex
	stopped bool
	current int
	sample  []metrics.Sample
}

// sentinel is allocated each cycle; its cleanup runs after the collection that finds
// it unreachable. It holds a pointer so that it is never a tiny allocation, which
// could share its memory block with a longer-lived object.
type sentinel struct {
	_ *int
	_ [8]byte
}

// Start sets the GC percent to base and starts tuning it with the given headroom in
// bytes. base must be positive. The GC percent is the process's: run one Tuner at a
// time (see Process).
func Start(base int, headroom uint64) *Tuner {
	t := &Tuner{base: base, headroom: headroom, current: base,
		sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}}
	debug.SetGCPercent(base)
	t.arm()
	return t
}

var (
	procMu    sync.Mutex
	procTuner *Tuner
	procRefs  int
)

// Process starts tuning the process's GC with the given headroom, from base percent,
// or from the current one (GOGC) when base is 0, unless GC is off or a tuning started
// by Process runs already (as when tests run several servers in one process: the first
// one's settings stay); stop ends it once every caller has stopped.
func Process(base int, headroom uint64) (stop func()) {
	procMu.Lock()
	defer procMu.Unlock()
	if procTuner == nil {
		if base <= 0 {
			base = debug.SetGCPercent(-1)
			debug.SetGCPercent(base)
		}
		if base <= 0 || headroom == 0 {
			return func() {}
		}
		procTuner = Start(base, headroom)
	}
	procRefs++
	var once sync.Once
	return func() {
		once.Do(func() {
			procMu.Lock()
			defer procMu.Unlock()
			if procRefs--; procRefs == 0 {
				procTuner.Stop()
				procTuner = nil
			}
		})
	}
}

func (t *Tuner) arm() {
	s := &sentinel{}
	runtime.AddCleanup(s, func(t *Tuner) { t.adjust() }, t)
}

// adjust runs on the runtime's cleanup goroutine after a collection.
func (t *Tuner) adjust() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	metrics.Read(t.sample)
	var roots uint64
	for _, s := range t.sample {
		if s.Value.Kind() == metrics.KindUint64 {
			roots += s.Value.Uint64()
		}
	}
	if p := Percent(t.base, t.headroom, roots); p != t.current {
		t.current = p
		debug.SetGCPercent(p)
	}
	t.arm()
}

// Current is the percent last set.
func (t *Tuner) Current() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.current
}

// Stop ends the tuning and restores the base percent.
func (t *Tuner) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.stopped = true
		debug.SetGCPercent(t.base)
	}
}
