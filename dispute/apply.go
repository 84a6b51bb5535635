package dispute

import (
	"strconv"
	"strings"
	"time"
)

// Policy holds the configurable numbers of the lifecycle. A zero or negative
// field means its default, so the zero Policy behaves like DefaultPolicy.
type Policy struct {
	// ResponseWindow is how long a party has to answer before the deadline row applies.
	ResponseWindow time.Duration
	// MaxInfoRequests caps the merchant's request_more_info per case.
	MaxInfoRequests int
	// MessagesPerHour is the message budget of one party on one case (see
	// MessageBudget). Unlike the fields above, zero means no budget; servers run with
	// DefaultMessagesPerHour unless configured otherwise.
	MessagesPerHour int
}

// The defaults of DefaultPolicy.
const (
	DefaultResponseWindow  = 7 * 24 * time.Hour
	DefaultMaxInfoRequests = 3
)

// DefaultPolicy returns the policy of the domain contract: 7 days, 3 requests.
func DefaultPolicy() Policy {
	return Policy{ResponseWindow: DefaultResponseWindow, MaxInfoRequests: DefaultMaxInfoRequests}
}

// normalized fills unset fields with their defaults.
func (p Policy) normalized() Policy {
	if p.ResponseWindow <= 0 {
		p.ResponseWindow = DefaultResponseWindow
	}
	if p.MaxInfoRequests <= 0 {
		p.MaxInfoRequests = DefaultMaxInfoRequests
	}
	return p
}

// Input is what an actor sends along with an action.
type Input struct {
	// Message becomes the event's details; required or optional per action.
	Message string
	// TerminateMembership asks accept to also cancel the customer's membership.
	TerminateMembership bool
}

// Effects are the changes outside the case that the store must make in the same
// transaction.
type Effects struct {
	// RefundPayment: refund the case's payment in full now.
	RefundPayment bool
	// CancelMembership: cancel the case's membership now.
	CancelMembership bool
}

// Apply decides one action by a human actor (the system acts only through
// Expire). It never mutates c. On success it returns the next case, the one
// event to append (ID left for the store to assign) and the outside effects. On
// refusal it returns a *Error: ACTION_NOT_ALLOWED or LIMIT_REACHED with the
// actions allowed now, or INVALID_ARGUMENT. Permission is checked before the
// message, so a refused action never reports a message problem.
func (p Policy) Apply(c Case, actor Actor, action Action, in Input, now time.Time) (Case, Event, Effects, error) {
	p = p.normalized()
	if !knownActor(actor) {
		return Case{}, Event{}, Effects{}, Invalid("actor", "unknown actor "+quote(string(actor)))
	}
	if !knownAction(action) {
		return Case{}, Event{}, Effects{}, Invalid("action", "unknown action "+quote(string(action)))
	}
	r, refusal := p.permits(c, actor, action)
	if refusal != nil {
		refusal.Allowed = p.Allowed(c, actor)
		return Case{}, Event{}, Effects{}, refusal
	}
	if err := validateText("message", in.Message, r.messageRequired); err != nil {
		return Case{}, Event{}, Effects{}, err
	}
	next, ev, eff := p.step(c, r, actor, in, now)
	return next, ev, eff, nil
}

// Allowed returns the actions actor may take on c now, in the actor's enum
// order: exactly those Apply accepts given a valid message. The system has no
// actions (nil); a human actor with nothing to do gets an empty, non-nil list.
func (p Policy) Allowed(c Case, actor Actor) []Action {
	p = p.normalized()
	all := actionsOf(actor)
	if all == nil {
		return nil
	}
	out := make([]Action, 0, len(all))
	for _, a := range all {
		if _, err := p.permits(c, actor, a); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// ViewerActions is what a caller in role may do on c now: the role's allowed actions
// when the caller may act at all (its token has the manage scope), and nothing
// otherwise. It is the one place that rule lives: Resolution.viewerActions and every
// other producer of the list call it, so what it offers always succeeds.
func (p Policy) ViewerActions(c Case, role Actor, mayAct bool) []Action {
	if !mayAct {
		return []Action{}
	}
	out := p.Allowed(c, role)
	if out == nil {
		return []Action{}
	}
	return out
}

// CheckMessages refuses ev, about to be appended to c, when its reporter has used up
// the message budget (MessagesPerHour) on c; recent are the creation times of the
// reporter's latest messages on c, newest first (see MessageBudget.Check).
func (p Policy) CheckMessages(c Case, ev Event, recent []time.Time) error {
	b := MessageBudget{PerHour: p.MessagesPerHour}
	if !b.Counts(ev) {
		return nil
	}
	return b.Check(ev, recent, p.Allowed(c, ev.Reporter))
}

// step applies row r; the caller has checked that it is permitted.
func (p Policy) step(c Case, r *rule, actor Actor, in Input, now time.Time) (Case, Event, Effects) {
	var eff Effects
	n := c
	n.DueDate = cloneTime(c.DueDate)
	if r.to != "" {
		n.Status = r.to
	}

	// A new window starts only when the status changes into a waiting status.
	switch {
	case n.Status == c.Status:
	case n.Status.Waiting():
		due := now.Add(p.ResponseWindow)
		n.DueDate = &due
	default:
		n.DueDate = nil
	}

	if r.appeal {
		if actor == ActorCustomer {
			n.CustomerAppealed = true
		} else {
			n.MerchantAppealed = true
		}
		n.Outcome, n.Refund, n.DecidedBy = OutcomeNone, RefundUnset, ""
	}

	if !n.Status.Open() {
		n.Outcome = outcomeOf(n.Status)
		n.DecidedBy = actor
		switch r.refund {
		case refundByMerchant:
			n.Refund = RefundMerchant
			if !c.PaymentRefunded {
				eff.RefundPayment = true
				n.PaymentRefunded = true
			}
		case refundPlatformIfPaid:
			n.Refund = RefundNone
			if c.PaymentRefunded {
				n.Refund = RefundPlatform
			}
		default:
			n.Refund = RefundNone
		}
	}

	if r.countsInfo {
		n.InfoRequests++
	}
	if r.mayCancel && in.TerminateMembership && c.MemberID != "" {
		eff.CancelMembership = true
	}

	n.UpdatedAt = now
	n.Version++
	n.EventCount++
	ev := Event{
		ResolutionID:       c.ID,
		Position:           n.EventCount,
		Action:             r.event,
		Reporter:           actor,
		Details:            in.Message,
		FromStatus:         c.Status,
		ToStatus:           n.Status,
		ViewableByCustomer: r.hiddenFrom != ActorCustomer,
		ViewableByMerchant: r.hiddenFrom != ActorMerchant,
		CreatedAt:          now,
	}
	return n, ev, eff
}

func knownActor(a Actor) bool {
	return a == ActorCustomer || a == ActorMerchant || a == ActorPlatform || a == ActorSystem
}

func knownAction(a Action) bool {
	for _, all := range [][]Action{CustomerActions, MerchantActions, PlatformActions} {
		for _, v := range all {
			if v == a {
				return true
			}
		}
	}
	return false
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := *t
	return &v
}

// list renders allowed actions for a message, each name passed through name.
func list(actions []Action, name func(string) string) string {
	if len(actions) == 0 {
		return "none"
	}
	s := make([]string, len(actions))
	for i, a := range actions {
		s[i] = name(string(a))
	}
	return strings.Join(s, ", ")
}

// quote keeps caller-supplied values short and printable in messages.
func quote(s string) string {
	const limit = 40
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	return strconv.Quote(s)
}
