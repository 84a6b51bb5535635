package dispute

import "strconv"

// actionDeadline is the pseudo-action of the system's deadline rows. It is not
// an Action a caller can send: Apply refuses it, only Expire uses it.
const actionDeadline Action = "deadline"

// refundRule says what a closing transition records as the case's refund.
type refundRule uint8

const (
	refundNotClosing     refundRule = iota // the rule does not close the case
	refundNone                             // nobody paid the customer back
	refundByMerchant                       // the merchant's balance pays, once per payment
	refundPlatformIfPaid                   // merchant keeps the funds; platform covers an earlier refund
)

// rule is one row of the transition table: in a status matching from, actor may
// take action when guard (if any) passes; the case moves to to (empty: stays)
// and one event is appended. Everything Apply, Allowed and Expire decide comes
// from these rows.
type rule struct {
	from   func(Status) bool
	actor  Actor
	action Action
	// guard refuses a row that matches by status, actor and action but not by
	// the case's history (appeal already used, info requests used up).
	guard           func(p Policy, c Case) *Error
	to              Status // empty: the status does not change
	event           EventAction
	messageRequired bool
	hiddenFrom      Actor // the side that may not see the event; empty: both see it
	refund          refundRule
	appeal          bool // sets the actor's appeal flag and reopens the case
	countsInfo      bool // counts towards Policy.MaxInfoRequests
	mayCancel       bool // Input.TerminateMembership cancels the membership
}

// in returns a from-predicate matching exactly the given statuses.
func in(statuses ...Status) func(Status) bool {
	return func(s Status) bool {
		for _, v := range statuses {
			if v == s {
				return true
			}
		}
		return false
	}
}

// anyOpen matches every open status.
func anyOpen(s Status) bool { return s.Open() }

// noAppealYet enforces "appealed at most once, by either side".
func noAppealYet(_ Policy, c Case) *Error {
	if c.CustomerAppealed || c.MerchantAppealed {
		return NotAllowed("this case was already appealed; the decision is final", nil)
	}
	return nil
}

// merchantMayAppeal adds to noAppealYet that a merchant cannot appeal its own accept.
func merchantMayAppeal(p Policy, c Case) *Error {
	if err := noAppealYet(p, c); err != nil {
		return err
	}
	if c.DecidedBy != ActorPlatform {
		return NotAllowed("only a decision by the platform can be appealed", nil)
	}
	return nil
}

// infoRequestsLeft caps the merchant's request_more_info.
func infoRequestsLeft(p Policy, c Case) *Error {
	if c.InfoRequests >= p.MaxInfoRequests {
		return LimitReached("more information was already requested "+
			strconv.Itoa(c.InfoRequests)+" times, the limit is "+strconv.Itoa(p.MaxInfoRequests), nil)
	}
	return nil
}

// table is the lifecycle, row for row: one row per (statuses, actor, action) the
// product allows, and nothing else. At most one row matches a
// given status, actor and action (a test checks it).
var table = []rule{
	// Merchant's answers while it is the merchant's or customer's turn.
	{from: in(StatusMerchantResponseNeeded, StatusCustomerResponseNeeded), actor: ActorMerchant, action: ActionDeny,
		to: StatusMerchantWon, event: EventDenied, messageRequired: true, refund: refundNone},
	{from: in(StatusMerchantResponseNeeded), actor: ActorMerchant, action: ActionRequestMoreInfo, guard: infoRequestsLeft,
		to: StatusCustomerResponseNeeded, event: EventRequestedMoreInfo, messageRequired: true, countsInfo: true},
	{from: in(StatusMerchantResponseNeeded), actor: ActorMerchant, action: ActionRespond,
		to: StatusCustomerResponseNeeded, event: EventResponded, messageRequired: true},
	{from: in(StatusMerchantResponseNeeded), actor: ActorCustomer, action: ActionRespond,
		event: EventResponded, messageRequired: true},
	{from: in(StatusCustomerResponseNeeded), actor: ActorCustomer, action: ActionRespond,
		to: StatusMerchantResponseNeeded, event: EventResponded, messageRequired: true},
	{from: in(StatusCustomerResponseNeeded), actor: ActorMerchant, action: ActionRespond,
		event: EventResponded, messageRequired: true},

	// Answers to the platform's requests, each hidden from the other side.
	{from: in(StatusMerchantInfoNeeded), actor: ActorMerchant, action: ActionRespond,
		to: StatusUnderPlatformReview, event: EventResponded, messageRequired: true, hiddenFrom: ActorCustomer},
	{from: in(StatusCustomerInfoNeeded), actor: ActorCustomer, action: ActionRespond,
		to: StatusUnderPlatformReview, event: EventResponded, messageRequired: true, hiddenFrom: ActorMerchant},

	// Statements for the reviewer.
	{from: in(StatusUnderPlatformReview), actor: ActorCustomer, action: ActionRespond,
		event: EventResponded, messageRequired: true},
	{from: in(StatusUnderPlatformReview), actor: ActorMerchant, action: ActionRespond,
		event: EventResponded, messageRequired: true},

	// Either side may end an open case in the customer's favour.
	{from: anyOpen, actor: ActorMerchant, action: ActionAccept,
		to: StatusCustomerWon, event: EventAccepted, refund: refundByMerchant, mayCancel: true},
	// A customer who withdraws after being refunded (the merchant appealed a platform
	// refund) keeps the money, which is never taken back: the platform covers it.
	{from: anyOpen, actor: ActorCustomer, action: ActionWithdraw,
		to: StatusCustomerWithdrew, event: EventWithdrew, refund: refundPlatformIfPaid},

	// The platform moderates any open case.
	{from: anyOpen, actor: ActorPlatform, action: ActionRequestBuyerInfo,
		to: StatusCustomerInfoNeeded, event: EventRequestedMoreInfo, messageRequired: true, hiddenFrom: ActorMerchant},
	{from: anyOpen, actor: ActorPlatform, action: ActionRequestMerchantInfo,
		to: StatusMerchantInfoNeeded, event: EventRequestedMoreInfo, messageRequired: true, hiddenFrom: ActorCustomer},
	{from: anyOpen, actor: ActorPlatform, action: ActionMerchantWins,
		to: StatusMerchantWon, event: EventDenied, refund: refundPlatformIfPaid},
	{from: anyOpen, actor: ActorPlatform, action: ActionMerchantRefund,
		to: StatusCustomerWon, event: EventAccepted, refund: refundByMerchant},

	// One appeal per case, by the losing side.
	{from: in(StatusMerchantWon), actor: ActorCustomer, action: ActionAppeal, guard: noAppealYet,
		to: StatusUnderPlatformReview, event: EventAppealed, messageRequired: true, appeal: true},
	{from: in(StatusCustomerWon), actor: ActorMerchant, action: ActionAppeal, guard: merchantMayAppeal,
		to: StatusUnderPlatformReview, event: EventAppealed, messageRequired: true, appeal: true},

	// Deadlines: a silent merchant goes to review, a silent customer loses.
	{from: in(StatusMerchantResponseNeeded, StatusMerchantInfoNeeded), actor: ActorSystem, action: actionDeadline,
		to: StatusUnderPlatformReview, event: EventEscalated},
	{from: in(StatusCustomerResponseNeeded, StatusCustomerInfoNeeded), actor: ActorSystem, action: actionDeadline,
		to: StatusMerchantWon, event: EventDenied, refund: refundPlatformIfPaid},
}

// lookup returns the row for status, actor and action, ignoring its guard, or nil.
func lookup(s Status, actor Actor, action Action) *rule {
	for i := range table {
		r := &table[i]
		if r.actor == actor && r.action == action && r.from(s) {
			return r
		}
	}
	return nil
}

// permits reports whether the row exists and its guard passes.
func (p Policy) permits(c Case, actor Actor, action Action) (*rule, *Error) {
	r := lookup(c.Status, actor, action)
	if r == nil {
		return nil, &Error{Code: CodeActionNotAllowed, Refused: &Refusal{Actor: actor, Action: action, Status: c.Status}}
	}
	if r.guard != nil {
		if err := r.guard(p, c); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// actionsOf returns the actions an actor can ever take, in the domain's order.
func actionsOf(actor Actor) []Action {
	switch actor {
	case ActorCustomer:
		return CustomerActions
	case ActorMerchant:
		return MerchantActions
	case ActorPlatform:
		return PlatformActions
	}
	return nil
}

// WaitingStatuses are the statuses that wait on one party: entering one starts a
// response window (dueDate), and letting it lapse lets the system decide (Expire).
// under_platform_review waits on the platform, which has no deadline.
var WaitingStatuses = []Status{StatusMerchantResponseNeeded, StatusCustomerResponseNeeded,
	StatusMerchantInfoNeeded, StatusCustomerInfoNeeded}

// Waiting reports whether s is one of the WaitingStatuses.
func (s Status) Waiting() bool {
	switch s {
	case StatusMerchantResponseNeeded, StatusCustomerResponseNeeded,
		StatusMerchantInfoNeeded, StatusCustomerInfoNeeded:
		return true
	}
	return false
}

// outcomeOf maps a closed status to its outcome.
func outcomeOf(s Status) Outcome {
	switch s {
	case StatusCustomerWon:
		return OutcomeCustomerWon
	case StatusMerchantWon:
		return OutcomeMerchantWon
	case StatusCustomerWithdrew:
		return OutcomeWithdrawn
	}
	return OutcomeNone
}
