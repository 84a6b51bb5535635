package dispute

import (
	"strconv"
	"time"
)

// MessageWindow is the sliding window of the message budget.
const MessageWindow = time.Hour

// DefaultMessagesPerHour is the message budget of the contract's default deployment:
// one party may add at most this many messages to one case in any hour.
const DefaultMessagesPerHour = 20

// MessageBudget bounds how fast one party grows one case's timeline: at most PerHour
// messages (respond actions) by the customer, and as many by the merchant, in any
// sliding hour (MessageWindow). The platform and the system are not limited; the
// other actions are not counted, since the lifecycle bounds them already (an appeal
// once, request_more_info three times, the rest close or hand over the case). PerHour
// 0 means no limit.
//
// The budget is a rate, not a rule of the transition table: the action lists keep
// offering respond, and a respond over the budget is LIMIT_REACHED, its message
// saying when the oldest counted message leaves the window.
type MessageBudget struct {
	PerHour int
}

// Counts reports whether ev, about to be appended, is spent from the budget.
func (b MessageBudget) Counts(ev Event) bool {
	return b.PerHour > 0 && ev.Action == EventResponded &&
		(ev.Reporter == ActorCustomer || ev.Reporter == ActorMerchant)
}

// Check refuses ev when its reporter already added PerHour messages to the case in
// the hour before ev.CreatedAt. recent holds the creation times of the reporter's
// latest messages on the case, newest first (at least PerHour of them when there are
// that many). allowed is what the reporter may still do now (respond excepted), for
// the error.
func (b MessageBudget) Check(ev Event, recent []time.Time, allowed []Action) error {
	if !b.Counts(ev) || len(recent) < b.PerHour {
		return nil
	}
	oldest := recent[b.PerHour-1]
	if !oldest.After(ev.CreatedAt.Add(-MessageWindow)) {
		return nil
	}
	others := make([]Action, 0, len(allowed))
	for _, a := range allowed {
		if a != ActionRespond {
			others = append(others, a)
		}
	}
	next := oldest.Add(MessageWindow).UTC().Format(time.RFC3339)
	// Error.Text appends the actions allowed now, by the names of the surface.
	return LimitReached("at most "+strconv.Itoa(b.PerHour)+" messages per party per case in an hour; the next one is accepted from "+
		next, others)
}
