// Package pubsub fans committed case changes out to subscribers. The timeline table is
// the log: a notice says only which case moved (and its new event position and
// version); the hub reads what is new from the store by position and hands each
// subscriber the events it may see, each once and in order. It reads a bounded chunk
// at a time from where each subscriber stands (readChunk), and nothing more for a
// subscriber that has not yet taken what was read for it. Notices come from an
// in-process call after commit (SQLite) or from PostgreSQL LISTEN/NOTIFY, which
// delivers at commit and never on rollback, to every server process.
//
// A publisher never waits for a subscriber: deliveries are non-blocking, and a
// subscriber whose buffer is full is ended with ErrSlowConsumer; it resumes from the
// cursor it last received.
//
// Subscribers register with a class: those of one class turn a change into the same
// value (for the GraphQL layer: the same response bytes), so the hub hands them one
// Share per change, and the first to need the value computes it for all (share.go).
//
// The hub is the db package's change-feed sink (Notify, Resync) and reads through the
// small Store interface; pubsub imports dispute and nothing else of this module.
package pubsub

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"resolutioncenter/dispute"
)

// Store reads what the hub delivers. The db package implements it.
type Store interface {
	// EventsAfter answers each read with its case's next events (after its position,
	// that one of its viewers may see, in position order, at most its limit), in the
	// order of reads.
	EventsAfter(ctx context.Context, reads []dispute.TimelineRead) ([][]dispute.Event, error)
	// CasesByID returns the current cases, keyed by ID.
	CasesByID(ctx context.Context, ids []string) (map[string]dispute.Case, error)
	// CasesUpdatedSince returns the cases updated at or after t (for catching up after
	// missed notices), at most limit.
	CasesUpdatedSince(ctx context.Context, t time.Time, limit int) ([]dispute.Case, error)
}

// ErrSlowConsumer ends a subscription whose client does not keep up.
var ErrSlowConsumer = errors.New("subscriber too slow: resubscribe with the last cursor received")

// ErrClosed ends subscriptions when the hub shuts down.
var ErrClosed = errors.New("server shutting down")

// EventBuffer is how many undelivered events a subscriber holds in memory. When it is
// full the hub does not wait and does not drop at once: the rest of what was read for
// the subscriber waits with it (at most readChunk events, shared with whoever was read
// for with it) and the hub offers it again shortly, reading nothing more for the
// subscriber until it has taken that; only a subscriber that stays full past the stall
// limit is dropped. A small buffer keeps idle subscriptions cheap.
const EventBuffer = 16

// readChunk is the most events one read asks for from a subscriber's position. The hub
// reads a timeline a chunk at a time, from where each subscriber stands, so resuming
// far back costs reads in proportion to what is delivered (reading everything after
// the position, as it once did, returned the whole rest of the timeline again each time
// a subscriber's buffer had filled: O(n²/EventBuffer) rows to deliver n events). A
// subscriber takes at most EventBuffer in a round, so a longer chunk would mostly wait
// in memory.
const readChunk = EventBuffer

// UpdateBuffer is how many undelivered case updates a subscriber may hold before it is
// dropped as too slow.
const UpdateBuffer = 64

// Hub tracks subscribers and delivers notices to them. Create it with NewHub and run
// it with Run.
type Hub struct {
	store  Store
	logger *slog.Logger
	now    func() time.Time

	mu         sync.Mutex
	events     map[string]map[*EventSub]struct{} // by case ID
	updates    map[*UpdateSub]struct{}
	pending    map[string]dispute.Notice // cases with notices not yet processed
	catchup    map[*EventSub]bool        // subscribers that need a read from the store
	resync     bool                      // notices may have been missed: re-read everything
	lastNotice time.Time                 // when the last notice arrived (for resync windows)
	// resyncFrom is lastNotice as it was when the pending resync was asked for: the
	// last notice before the gap. Notices that arrive after the reconnect, before the
	// hub gets to the resync, must not move the window past the gap.
	resyncFrom time.Time
	broadcast  map[string]int // case ID -> last version sent to update subscribers
	closed     bool
	wake       chan struct{}
	// flushScheduled is true while a retry of stalled update subscribers is pending.
	flushScheduled bool
	// round counts the rounds of process, to plan each subscriber's read once a round.
	round uint64

	// OnDeliver, when set, observes every delivery (for metrics), with the time of the
	// change's commit as best known (the event's createdAt).
	OnDeliver func(committed time.Time)
	// OnDrop, when set, is called for every subscriber dropped as too slow.
	OnDrop func()
}

// NewHub returns a hub reading from store.
func NewHub(store Store, logger *slog.Logger) *Hub {
	return &Hub{store: store, logger: logger, now: time.Now,
		events: map[string]map[*EventSub]struct{}{}, updates: map[*UpdateSub]struct{}{},
		pending: map[string]dispute.Notice{}, catchup: map[*EventSub]bool{}, broadcast: map[string]int{},
		wake: make(chan struct{}, 1), lastNotice: time.Now()}
}

// Notify records that a case changed. It never blocks.
func (h *Hub) Notify(n dispute.Notice) {
	h.mu.Lock()
	if old, ok := h.pending[n.CaseID]; !ok || n.Position > old.Position || n.Version > old.Version {
		h.pending[n.CaseID] = n
	}
	h.lastNotice = h.now()
	h.mu.Unlock()
	h.signal()
}

// Resync asks the hub to re-read everything its subscribers may have missed, e.g.
// after the LISTEN connection was lost.
func (h *Hub) Resync() {
	h.mu.Lock()
	h.markResync(h.lastNotice)
	h.mu.Unlock()
	h.signal()
}

// markResync asks for a resync of what changed since from (the last notice before the
// gap), keeping the earliest such time while one is pending. Called with the lock held.
func (h *Hub) markResync(from time.Time) {
	if !h.resync || from.Before(h.resyncFrom) {
		h.resyncFrom = from
	}
	h.resync = true
}

func (h *Hub) signal() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Stats counts the hub's subscribers.
type Stats struct{ EventSubscribers, UpdateSubscribers int }

// Stats returns the current subscriber counts.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, set := range h.events {
		n += len(set)
	}
	return Stats{EventSubscribers: n, UpdateSubscribers: len(h.updates)}
}

// Run processes notices until ctx ends, then ends every subscription with ErrClosed.
func (h *Hub) Run(ctx context.Context) {
	defer h.closeAll()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
		}
		h.process(ctx)
	}
}

func (h *Hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, set := range h.events {
		for s := range set {
			s.removed = true
			s.end(ErrClosed)
		}
	}
	for s := range h.updates {
		s.end(ErrClosed)
	}
	h.events = map[string]map[*EventSub]struct{}{}
	h.updates = map[*UpdateSub]struct{}{}
}

// resyncWindow is how far back a resync looks for changed cases, to cover
// transactions that were in flight when notices stopped.
const resyncWindow = time.Minute

// process handles everything pending in one round: subscribers that were full are
// offered what waits with them, then one store read gets the next events of all
// changed cases and of the subscribers catching up, and one the changed cases.
func (h *Hub) process(ctx context.Context) {
	h.mu.Lock()
	pending, catchup, resync, last := h.pending, h.catchup, h.resync, h.resyncFrom
	h.pending, h.catchup, h.resync = map[string]dispute.Notice{}, map[*EventSub]bool{}, false
	now := h.now()
	stalled := false
	sh := eventShares{}
	for s := range catchup {
		if len(s.held) > 0 && h.registered(s) && !h.hand(s, s.held, sh, now) {
			stalled = true
		}
	}
	// What to read: from where each subscriber that is not holding events stands.
	h.round++
	plan := readPlan{round: h.round, at: map[readAt]int{}}
	for s := range catchup {
		h.plan(&plan, s)
	}
	for caseID := range pending {
		for s := range h.events[caseID] {
			h.plan(&plan, s)
		}
	}
	if resync {
		for _, set := range h.events {
			for s := range set {
				h.plan(&plan, s)
			}
		}
	}
	wantUpdates := len(h.updates) > 0
	h.mu.Unlock()
	if stalled {
		h.retrySoon()
	}

	if len(plan.reads) > 0 {
		answers, err := h.store.EventsAfter(ctx, plan.reads)
		if err != nil {
			h.retryLater(ctx, pending, catchup, resync, last, err)
			return
		}
		h.deliverEvents(&plan, answers)
	}
	if wantUpdates {
		var cases []dispute.Case
		ids := make([]string, 0, len(pending))
		for id := range pending {
			ids = append(ids, id)
		}
		if len(ids) > 0 {
			m, err := h.store.CasesByID(ctx, ids)
			if err != nil {
				h.retryLater(ctx, pending, nil, resync, last, err)
				return
			}
			for _, c := range m {
				cases = append(cases, c)
			}
		}
		if resync {
			since := last.Add(-resyncWindow)
			more, err := h.store.CasesUpdatedSince(ctx, since, resyncCases)
			if err != nil {
				h.retryLater(ctx, nil, nil, true, last, err)
				return
			}
			if len(more) >= resyncCases {
				// More cases changed during the gap than a resync reads: the update
				// subscribers cannot be told about all of them. Rather than leave the
				// rest out without a word, end them: they resubscribe and read the
				// cases again.
				h.logger.Warn("pubsub: too many cases changed while notices were missed; ending update subscriptions",
					"since", since, "read", len(more))
				h.endUpdates()
			} else {
				cases = append(cases, more...)
			}
		}
		h.deliverUpdates(cases)
	}
}

// resyncCases is the most changed cases a resync reads for update subscribers.
const resyncCases = 10000

// endUpdates ends every update subscriber as too slow (see process).
func (h *Hub) endUpdates() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.updates {
		h.dropUpdate(s)
	}
}

// retryLater puts work back after a store failure and tries again shortly.
func (h *Hub) retryLater(ctx context.Context, pending map[string]dispute.Notice, catchup map[*EventSub]bool, resync bool,
	resyncFrom time.Time, err error) {
	if ctx.Err() != nil {
		return
	}
	h.logger.Warn("pubsub: store read failed; retrying", "err", err)
	h.mu.Lock()
	for id, n := range pending {
		if _, ok := h.pending[id]; !ok {
			h.pending[id] = n
		}
	}
	for s := range catchup {
		h.catchup[s] = true
	}
	if resync {
		h.markResync(resyncFrom)
	}
	h.mu.Unlock()
	time.AfterFunc(200*time.Millisecond, h.signal)
}

// retrySoon offers full subscribers what waits with them again shortly.
func (h *Hub) retrySoon() { time.AfterFunc(50*time.Millisecond, h.signal) }

// stallLimit is how long a subscriber may stay full before it is dropped as too slow.
// Until then its undelivered events wait in the store, but for the rest of one read
// that waits with it.
const stallLimit = 5 * time.Second

// readPlan is a round's event reads: one per case and position that subscribers stand
// at, for all their roles, and the subscribers each is for.
type readPlan struct {
	round uint64
	reads []dispute.TimelineRead
	subs  [][]*EventSub
	at    map[readAt]int // index in reads
}

type readAt struct {
	caseID string
	after  int
}

// plan adds a read for s, from its position, unless s still holds events (it reads
// again once it took them) or is gone. Called with the lock held.
func (h *Hub) plan(p *readPlan, s *EventSub) {
	if len(s.held) > 0 || s.planned == p.round || !h.registered(s) {
		return
	}
	s.planned = p.round
	k := readAt{s.CaseID, s.last}
	i, ok := p.at[k]
	if !ok {
		i = len(p.reads)
		p.at[k] = i
		p.reads = append(p.reads, dispute.TimelineRead{CaseID: s.CaseID, After: s.last, Limit: readChunk})
		p.subs = append(p.subs, nil)
	}
	if !slices.Contains(p.reads[i].Viewers, s.Role) {
		p.reads[i].Viewers = append(p.reads[i].Viewers, s.Role)
	}
	p.subs[i] = append(p.subs[i], s)
}

// deliverEvents hands each read's answer to the subscribers it was made for that are
// still there (one registered while the read ran has a read of its own planned). A
// subscriber that took a whole chunk reads on at once; one that was full waits.
func (h *Hub) deliverEvents(p *readPlan, answers [][]dispute.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	sh := eventShares{}
	more, stalled := false, false
	for i, r := range p.reads {
		for _, s := range p.subs[i] {
			if !h.registered(s) {
				continue
			}
			if !h.hand(s, answers[i], sh, now) {
				stalled = true
			} else if len(answers[i]) >= r.Limit { // there may be more
				h.catchup[s] = true
				more = true
			}
		}
	}
	if more {
		h.signal()
	}
	if stalled {
		h.retrySoon()
	}
}

// hand gives s, in order, the events of list after its position that it may see. When
// s is full, the rest of list waits with it (held) for the next round, or, once s has
// stayed full past the stall limit, s is dropped. It reports whether s took it all.
// Called with the lock held.
func (h *Hub) hand(s *EventSub, list []dispute.Event, sh eventShares, now time.Time) bool {
	for i := range list {
		e := &list[i] // shared by every subscriber: read only
		if e.Position <= s.last {
			continue
		}
		if e.VisibleTo(s.Role) {
			if !s.offer(e, sh.of(e, s.Class)) {
				s.held = list[i:]
				if s.stalledSince.IsZero() {
					s.stalledSince = now
				}
				if now.Sub(s.stalledSince) > stallLimit {
					h.dropEvent(s)
				} else {
					h.catchup[s] = true
				}
				return false
			}
			s.stalledSince = time.Time{}
			if h.OnDeliver != nil {
				h.OnDeliver(e.CreatedAt)
			}
		}
		s.last = e.Position
	}
	s.held = nil
	return true
}

// eventShares hands out the Shares of a round's events, one per event and class.
type eventShares map[eventAt]shares

type eventAt struct {
	caseID   string
	position int
}

func (m eventShares) of(e *dispute.Event, class string) *Share {
	if class == "" {
		return nil
	}
	k := eventAt{e.ResolutionID, e.Position}
	sh := m[k]
	v := sh.of(class)
	m[k] = sh
	return v
}

// registered reports whether s is still subscribed. Called with the lock held.
func (h *Hub) registered(s *EventSub) bool { return !s.removed }

func (h *Hub) deliverUpdates(cases []dispute.Case) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	for i := range cases {
		c := &cases[i] // shared by every subscriber: read only
		if v, ok := h.broadcast[c.ID]; ok && c.Version <= v {
			continue
		}
		h.broadcast[c.ID] = c.Version
		var sh shares
		for s := range h.updates {
			if s.matches(*c) {
				h.offerUpdate(s, c, sh.of(s.Class), now)
			}
		}
	}
	h.trimBroadcast()
}

// maxPendingUpdates bounds the cases a stalled update subscriber may have waiting.
const maxPendingUpdates = 10000

// offerUpdate hands a case to an update subscriber. When the subscriber is full, the
// case waits in its pending set (only the latest state of each case is kept) and the
// hub retries shortly (without a Share: a stalled subscriber computes its own); a
// subscriber that stays full past the stall limit, or falls too far behind, is
// dropped.
func (h *Hub) offerUpdate(s *UpdateSub, c *dispute.Case, sh *Share, now time.Time) {
	if len(s.pending) == 0 && s.offer(c, sh) {
		if h.OnDeliver != nil {
			h.OnDeliver(c.UpdatedAt)
		}
		return
	}
	if s.pending == nil {
		s.pending = map[string]*dispute.Case{}
	}
	s.pending[c.ID] = c
	if s.stalledSince.IsZero() {
		s.stalledSince = now
	}
	if now.Sub(s.stalledSince) > stallLimit || len(s.pending) > maxPendingUpdates {
		h.dropUpdate(s)
		return
	}
	h.scheduleFlush()
}

// scheduleFlush retries stalled update subscribers shortly, once however many ask.
// Called with the lock held.
func (h *Hub) scheduleFlush() {
	if h.flushScheduled {
		return
	}
	h.flushScheduled = true
	time.AfterFunc(50*time.Millisecond, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.flushScheduled = false
		h.flushUpdates(h.now())
	})
}

// flushUpdates retries the pending cases of stalled update subscribers. Called with
// the lock held.
func (h *Hub) flushUpdates(now time.Time) {
	for s := range h.updates {
		if len(s.pending) == 0 {
			continue
		}
		took := false
		for id, c := range s.pending {
			if !s.offer(c, nil) {
				break
			}
			took = true
			delete(s.pending, id)
			if h.OnDeliver != nil {
				h.OnDeliver(c.UpdatedAt)
			}
		}
		if len(s.pending) == 0 {
			s.stalledSince = time.Time{}
			continue
		}
		if took {
			// It takes what it is offered: full again, not stalled. Only one that
			// takes nothing past the stall limit is too slow, as for event
			// subscribers (a steady client could otherwise not outlast a burst
			// longer than the limit to hand over).
			s.stalledSince = now
		}
		if now.Sub(s.stalledSince) > stallLimit {
			h.dropUpdate(s)
			continue
		}
		h.scheduleFlush()
	}
}

// trimBroadcast bounds the version memory; forgetting a case only risks sending its
// current state once more after a resync.
func (h *Hub) trimBroadcast() {
	if len(h.broadcast) > 100000 {
		h.broadcast = map[string]int{}
	}
}

func (h *Hub) dropEvent(s *EventSub) {
	h.removeEvent(s)
	s.end(ErrSlowConsumer)
	if h.OnDrop != nil {
		h.OnDrop()
	}
}

func (h *Hub) dropUpdate(s *UpdateSub) {
	delete(h.updates, s)
	s.end(ErrSlowConsumer)
	if h.OnDrop != nil {
		h.OnDrop()
	}
}

func (h *Hub) removeEvent(s *EventSub) {
	s.removed = true
	if set := h.events[s.CaseID]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(h.events, s.CaseID)
		}
	}
	delete(h.catchup, s)
	s.held = nil
}
