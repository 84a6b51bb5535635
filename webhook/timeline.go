package webhook

import (
	"sync"

	"resolutioncenter/dispute"
)

// timelineBudget bounds the memory the timeline cache holds (estimated bytes).
const timelineBudget = 16 << 20

// timelines keeps, for cases whose changes this process committed, the events their
// payloads carry (the recentEvents latest that the viewer may see, oldest first) as of
// the last such change. Reading those events was the largest read in the change's
// transaction (50 rows, a fifth of the outbox's cost). Events never change once written,
// and each change appends exactly one, at the position after the case's last: so the
// timeline as of a change is the one as of the change before plus the change's own
// event (when the viewer may see it). The cache answers only then, when its entry is as
// of the position just before; anything else (a change another process committed in
// between, an evicted entry, a process that just started) misses and reads the events
// in the transaction. An entry is stored only once its change has committed: a change
// that rolled back must never lend its event to a later change's timeline.
type timelines struct {
	mu    sync.Mutex
	by    map[string]timeline
	bytes int
	// hits and misses count answers (for tests).
	hits, misses int
}

type timeline struct {
	position int // of the change the events are as of
	events   []dispute.Event
	size     int
}

// next returns the timeline as of ev's change, when it follows from the cached one.
// The opening change (position 1) needs no entry: its timeline is its own event.
func (c *timelines) next(caseID string, ev dispute.Event) ([]dispute.Event, bool) {
	if ev.Position == 1 {
		return appendVisible(nil, ev), true
	}
	c.mu.Lock()
	t, ok := c.by[caseID]
	if ok && t.position == ev.Position-1 {
		c.hits++
	} else {
		c.misses++
		ok = false
	}
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	return appendVisible(t.events, ev), true
}

// appendVisible returns a new slice: events then ev when the viewer may see it, the
// recentEvents latest of them. The cached slice is never written to.
func appendVisible(events []dispute.Event, ev dispute.Event) []dispute.Event {
	if !ev.VisibleTo(viewer) {
		return events
	}
	keep := events[max(0, len(events)+1-recentEvents):]
	out := make([]dispute.Event, 0, len(keep)+1)
	return append(append(out, keep...), ev)
}

// store records the timeline as of the committed change at position, unless one as of a
// later change is there already; then it evicts entries, arbitrary ones, while the
// cache is over its budget.
func (c *timelines) store(caseID string, position int, events []dispute.Event) {
	size := len(caseID) + 64
	for _, e := range events {
		size += eventSize(e)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.by == nil {
		c.by = map[string]timeline{}
	}
	if old, ok := c.by[caseID]; ok {
		if old.position >= position {
			return
		}
		c.bytes -= old.size
	}
	c.by[caseID] = timeline{position: position, events: events, size: size}
	c.bytes += size
	for id, t := range c.by {
		if c.bytes <= timelineBudget {
			break
		}
		if id != caseID {
			delete(c.by, id)
			c.bytes -= t.size
		}
	}
}

// eventSize estimates an event's memory: its strings and the struct around them.
func eventSize(e dispute.Event) int {
	return len(e.ID) + len(e.Details) + len(e.Action) + len(e.Reporter) + len(e.FromStatus) + len(e.ToStatus) + 160
}
