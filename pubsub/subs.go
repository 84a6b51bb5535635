package pubsub

import (
	"slices"
	"sync"
	"time"

	"resolutioncenter/dispute"
)

// EventSub receives one case's new timeline events that its role may see.
type EventSub struct {
	CaseID string
	Role   dispute.Actor
	// Class groups subscribers that turn an event into the same value (see Share);
	// "" shares nothing.
	Class string
	// C carries the events of a subscriber made by SubscribeEvents (nil for one made
	// by SubscribeEventsFunc).
	C <-chan dispute.Event

	deliver func(*dispute.Event, *Share) bool // non-blocking; false when the receiver is full
	onEnd   func(error)
	last    int // position of the last event handled (delivered or invisible); hub-owned
	// held is what was read for the subscriber and not yet handed over because it was
	// full: the rest of one read's answer (shared, read only), offered again before
	// anything more is read for it; hub-owned.
	held []dispute.Event
	// planned is the last round of the hub that planned a read for the subscriber;
	// hub-owned.
	planned uint64
	// removed is set when the subscriber leaves the hub's set (hub-owned): a field
	// read, where a lookup in the case's set cost a thousand subscribers about half a
	// millisecond a round, twice.
	removed bool
	// stalledSince is when the subscriber's buffer was first found full; hub-owned.
	stalledSince time.Time
	once         sync.Once
	err          error
}

func (s *EventSub) offer(e *dispute.Event, sh *Share) bool { return s.deliver(e, sh) }

// end ends the subscription once, recording why. Called with the hub's lock held.
func (s *EventSub) end(err error) {
	s.once.Do(func() {
		s.err = err
		s.onEnd(err)
	})
}

// Err tells why the subscription ended: ErrSlowConsumer, ErrClosed, or nil after
// Unsubscribe. Read it only after C is closed.
func (s *EventSub) Err() error { return s.err }

// SubscribeEvents registers a subscriber to caseID's events after position after, seen
// in role, delivered on the returned subscriber's channel C (closed at the end). It
// immediately reads anything already committed after that position, so a subscriber
// resuming from a cursor gets what it missed first, and one starting at the case's
// current position misses nothing committed meanwhile.
func (h *Hub) SubscribeEvents(caseID string, role dispute.Actor, after int) *EventSub {
	c := make(chan dispute.Event, EventBuffer)
	s := h.SubscribeEventsFunc(caseID, role, after, "", trySend(c), func(error) { close(c) })
	s.C = c
	return s
}

// SubscribeEventsFunc is SubscribeEvents with the delivery up to the caller: the hub
// calls deliver for each event (it must not block; false means "full, try later") and
// onEnd once when the subscription ends, both with the hub's lock held. It saves the
// goroutine that would forward from a channel to the caller's own. The event is shared
// by every subscriber: read only. Subscribers of the case with the same non-empty
// class get the same *Share with each event delivered in the same round (nil with
// class ""), to compute what the event becomes for them once.
func (h *Hub) SubscribeEventsFunc(caseID string, role dispute.Actor, after int, class string,
	deliver func(*dispute.Event, *Share) bool, onEnd func(error)) *EventSub {
	s := &EventSub{CaseID: caseID, Role: role, Class: class, deliver: deliver, onEnd: onEnd, last: after}
	h.mu.Lock()
	if h.closed {
		s.end(ErrClosed)
		h.mu.Unlock()
		return s
	}
	set := h.events[caseID]
	if set == nil {
		set = map[*EventSub]struct{}{}
		h.events[caseID] = set
	}
	set[s] = struct{}{}
	h.catchup[s] = true
	h.mu.Unlock()
	h.signal()
	return s
}

// UnsubscribeEvents removes a subscriber and closes its channel. Safe to call twice.
func (h *Hub) UnsubscribeEvents(s *EventSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeEvent(s)
	s.end(nil)
}

// UpdateFilter narrows case updates; the visibility scope always applies.
type UpdateFilter struct {
	// Visibility: All, or cases of UserID or of CompanyIDs.
	All        bool
	UserID     string
	CompanyIDs []string
	// Narrowing (optional).
	CompanyID string
	Customer  string
	CaseIDs   []string
}

// UpdateSub receives changed cases.
type UpdateSub struct {
	Filter UpdateFilter
	// Class groups subscribers that turn a case into the same value (see Share); ""
	// shares nothing.
	Class string
	C     <-chan dispute.Case

	deliver func(*dispute.Case, *Share) bool // non-blocking; false when the receiver is full
	onEnd   func(error)
	once    sync.Once
	err     error
	// pending holds, per case, the latest state not yet handed over while the
	// subscriber is full; stalledSince is when it first was. Both hub-owned.
	pending      map[string]*dispute.Case
	stalledSince time.Time
}

func (s *UpdateSub) matches(c dispute.Case) bool {
	f := s.Filter
	if !f.All && c.UserID != f.UserID && !slices.Contains(f.CompanyIDs, c.CompanyID) {
		return false
	}
	if f.CompanyID != "" && c.CompanyID != f.CompanyID {
		return false
	}
	if f.Customer != "" && c.UserID != f.Customer {
		return false
	}
	if len(f.CaseIDs) > 0 && !slices.Contains(f.CaseIDs, c.ID) {
		return false
	}
	return true
}

func (s *UpdateSub) offer(c *dispute.Case, sh *Share) bool { return s.deliver(c, sh) }

func (s *UpdateSub) end(err error) {
	s.once.Do(func() {
		s.err = err
		s.onEnd(err)
	})
}

// Err tells why C was closed. Read it only after C is closed.
func (s *UpdateSub) Err() error { return s.err }

// SubscribeUpdates registers a subscriber to changed cases matching f.
func (h *Hub) SubscribeUpdates(f UpdateFilter) *UpdateSub {
	c := make(chan dispute.Case, UpdateBuffer)
	s := h.SubscribeUpdatesFunc(f, "", trySend(c), func(error) { close(c) })
	s.C = c
	return s
}

// SubscribeUpdatesFunc is SubscribeUpdates with the delivery up to the caller, as
// SubscribeEventsFunc: deliver must not block (false means "full, try later"), onEnd
// runs once at the end; both with the hub's lock held; the case is shared by every
// subscriber (read only); subscribers with the same non-empty class share each case's
// *Share in a round. C is nil.
func (h *Hub) SubscribeUpdatesFunc(f UpdateFilter, class string, deliver func(*dispute.Case, *Share) bool,
	onEnd func(error)) *UpdateSub {
	s := &UpdateSub{Filter: f, Class: class, deliver: deliver, onEnd: onEnd}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		s.end(ErrClosed)
		return s
	}
	h.updates[s] = struct{}{}
	return s
}

// UnsubscribeUpdates removes a subscriber and closes its channel (calls its onEnd).
// Safe to call twice.
func (h *Hub) UnsubscribeUpdates(s *UpdateSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.updates, s)
	s.end(nil)
}

// trySend is a deliver function for a channel: it sends without blocking.
func trySend[T any](c chan<- T) func(*T, *Share) bool {
	return func(v *T, _ *Share) bool {
		select {
		case c <- *v:
			return true
		default:
			return false
		}
	}
}
