package dispute

import "time"

// Status is where a case stands. The string values are the wire names used in
// the database, in webhooks and in logs.
type Status string

// The eight statuses: five open, three closed.
const (
	StatusMerchantResponseNeeded Status = "merchant_response_needed"
	StatusCustomerResponseNeeded Status = "customer_response_needed"
	StatusMerchantInfoNeeded     Status = "merchant_info_needed"
	StatusCustomerInfoNeeded     Status = "customer_info_needed"
	StatusUnderPlatformReview    Status = "under_platform_review"
	StatusCustomerWon            Status = "customer_won"
	StatusMerchantWon            Status = "merchant_won"
	StatusCustomerWithdrew       Status = "customer_withdrew"
)

// Statuses lists every status in a stable order.
var Statuses = []Status{
	StatusMerchantResponseNeeded, StatusCustomerResponseNeeded, StatusMerchantInfoNeeded,
	StatusCustomerInfoNeeded, StatusUnderPlatformReview, StatusCustomerWon, StatusMerchantWon,
	StatusCustomerWithdrew,
}

// OpenStatuses lists the statuses in which a case is still undecided.
var OpenStatuses = Statuses[:5]

// Open reports whether the case is still undecided in this status.
func (s Status) Open() bool {
	switch s {
	case StatusMerchantResponseNeeded, StatusCustomerResponseNeeded, StatusMerchantInfoNeeded,
		StatusCustomerInfoNeeded, StatusUnderPlatformReview:
		return true
	}
	return false
}

// Valid reports whether s is one of the eight statuses.
func (s Status) Valid() bool {
	return s.Open() || s == StatusCustomerWon || s == StatusMerchantWon || s == StatusCustomerWithdrew
}

// Issue is what the customer says went wrong.
type Issue string

// The issues a customer can open a case for.
const (
	IssueForgotToCancel              Issue = "forgot_to_cancel"
	IssueItemNotReceived             Issue = "item_not_received"
	IssueSignificantlyNotAsDescribed Issue = "significantly_not_as_described"
	IssueUnauthorizedTransaction     Issue = "unauthorized_transaction"
	IssueProductUnacceptable         Issue = "product_unacceptable"
)

// Issues lists every issue in a stable order.
var Issues = []Issue{
	IssueForgotToCancel, IssueItemNotReceived, IssueSignificantlyNotAsDescribed,
	IssueUnauthorizedTransaction, IssueProductUnacceptable,
}

// Valid reports whether i is a known issue.
func (i Issue) Valid() bool {
	for _, v := range Issues {
		if v == i {
			return true
		}
	}
	return false
}

// Actor is the party acting on a case, derived from the token and the case.
type Actor string

// The four actors. System acts only through deadlines.
const (
	ActorCustomer Actor = "customer"
	ActorMerchant Actor = "merchant"
	ActorPlatform Actor = "platform"
	ActorSystem   Actor = "system"
)

// Action is what an actor asks to do to a case. Which actor may use which action
// is decided by the transition table.
type Action string

// Every action of every actor. Respond and Appeal are shared by customer and merchant.
const (
	ActionRespond             Action = "respond"
	ActionAppeal              Action = "appeal"
	ActionWithdraw            Action = "withdraw"
	ActionAccept              Action = "accept"
	ActionDeny                Action = "deny"
	ActionRequestMoreInfo     Action = "request_more_info"
	ActionRequestBuyerInfo    Action = "request_buyer_info"
	ActionRequestMerchantInfo Action = "request_merchant_info"
	ActionMerchantWins        Action = "merchant_wins"
	ActionMerchantRefund      Action = "merchant_refund"
)

// ActionOpen and ActionRecord name the two changes that are not moves of the
// transition table: opening a case (Policy.Open) and recording an external event such
// as a chargeback (Policy.Record). They identify a request, for example in an
// idempotency record; Apply refuses them.
const (
	ActionOpen   Action = "open"
	ActionRecord Action = "record"
)

// CustomerActions, MerchantActions and PlatformActions list each actor's actions
// in the order the enumerations of the domain give them.
var (
	CustomerActions = []Action{ActionRespond, ActionAppeal, ActionWithdraw}
	MerchantActions = []Action{ActionAccept, ActionDeny, ActionRequestMoreInfo, ActionAppeal, ActionRespond}
	PlatformActions = []Action{ActionRequestBuyerInfo, ActionRequestMerchantInfo, ActionMerchantWins, ActionMerchantRefund}
)

// EventAction is what a timeline entry records.
type EventAction string

// The event actions.
const (
	EventCreated            EventAction = "created"
	EventResponded          EventAction = "responded"
	EventAccepted           EventAction = "accepted"
	EventDenied             EventAction = "denied"
	EventAppealed           EventAction = "appealed"
	EventWithdrew           EventAction = "withdrew"
	EventRequestedMoreInfo  EventAction = "requested_more_info"
	EventEscalated          EventAction = "escalated"
	EventDisputeOpened      EventAction = "dispute_opened"
	EventDisputeCustomerWon EventAction = "dispute_customer_won"
	EventDisputeMerchantWon EventAction = "dispute_merchant_won"
)

// Outcome is how a closed case ended. The zero value means the case is open.
type Outcome string

// The outcomes.
const (
	OutcomeNone        Outcome = ""
	OutcomeCustomerWon Outcome = "customer_won"
	OutcomeMerchantWon Outcome = "merchant_won"
	OutcomeWithdrawn   Outcome = "withdrawn"
)

// Refund says who paid the customer back. The zero value means the case is open.
type Refund string

// The refund kinds.
const (
	RefundUnset    Refund = ""
	RefundNone     Refund = "none"
	RefundMerchant Refund = "merchant"
	RefundPlatform Refund = "platform"
)

// Case is a resolution as the domain sees it: no storage or transport concerns.
type Case struct {
	ID        string
	Status    Status
	Issue     Issue
	CompanyID string
	UserID    string
	PaymentID string
	MemberID  string // empty when the payment is not tied to a membership
	CreatedAt time.Time
	UpdatedAt time.Time
	DueDate   *time.Time // nil when no deadline is active

	CustomerAppealed bool
	MerchantAppealed bool
	Outcome          Outcome
	Refund           Refund
	// DecidedBy is the actor whose action last closed the case; a merchant may
	// appeal a customer_won only when the platform decided it.
	DecidedBy Actor
	// InfoRequests counts the merchant's request_more_info actions (at most 3).
	InfoRequests int
	// PaymentRefunded is true once the payment was refunded (by accept or
	// merchant_refund); a refund happens at most once per payment.
	PaymentRefunded bool
	// Version increases by one with every change, for optimistic concurrency.
	Version int
	// EventCount is the number of events on the timeline; the next event's
	// position is EventCount+1.
	EventCount int
}

// Event is one entry of a case's timeline. Events are never edited or deleted.
type Event struct {
	ID                 string
	ResolutionID       string
	Position           int // 1-based position in the case's timeline
	Action             EventAction
	Reporter           Actor
	Details            string // empty when the action carried no message
	FromStatus         Status
	ToStatus           Status
	ViewableByCustomer bool
	ViewableByMerchant bool
	CreatedAt          time.Time
}
