package webhook

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
)

// The event types. Every committed change of a case is `updated` (an action, a deadline
// transition, a chargeback record), except the opening, which is `created`; a change
// that closes the case (a final outcome, again after an appeal) is also `decided`,
// sent after its `updated`.
const (
	EventCreated = "resolution_center_case.created"
	EventUpdated = "resolution_center_case.updated"
	EventDecided = "resolution_center_case.decided"
)

// EventTypes lists every event type, in documentation order.
var EventTypes = []string{EventCreated, EventUpdated, EventDecided}

// recentEvents is how many events data.resolution_events carries, as the API's
// Resolution.resolutionEvents does.
const recentEvents = 50

// maxPayloadDetails bounds the characters of the payload's event messages together:
// data.resolution_events holds the latest visible events, at most recentEvents of them
// and no older one once their messages would pass this (the newest is always there). A
// payload is stored with its change and kept for the delivery log's retention, and
// messages may be dispute.MaxMessageLength (10,000) characters: without this bound,
// each change could store the 50 latest messages again, about 500,000 characters, so
// that a party writing long messages made the server store 50 times what it wrote.
// With it a payload holds at most about 90,000 characters; a receiver that needs
// older events reads them through the API.
const maxPayloadDetails = 64 << 10

// MaxPayloadChars bounds the characters of a delivery's body, for the API's cost model
// (WebhookDelivery.payload is priced as a text of this length): the case with its
// recent events, their messages within maxPayloadDetails characters and
// payloadEventChars of other fields each, and payloadCaseChars for the envelope, the
// case's other attributes, previous_attributes, and the company's and customer's names
// at their longest. Like the API's other texts it counts characters before JSON
// escaping. About 90,000.
const MaxPayloadChars = maxPayloadDetails + recentEvents*payloadEventChars + payloadCaseChars

const (
	payloadEventChars = 400
	payloadCaseChars  = 5000
)

// viewer is whose eyes the payload's data is seen through: the company's (merchant).
// Platform endpoints receive the same view, so one payload serves every endpoint.
const viewer = dispute.ActorMerchant

// viewerMayAct: the payload carries no viewerActions (it goes to the company's backend,
// not to a token), so whether the viewer may act only matters to the model's
// constructor; the response action lists it carries are everyone's.
const viewerMayAct = true

// timeLayout is the API's DateTime: RFC 3339 in UTC with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z"

// Envelope is the JSON body of every delivery (schema: schema/payload.schema.json).
type Envelope struct {
	// ID is the delivery's ID, the same as its webhook-id header.
	ID        string `json:"id"`
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	CompanyID string `json:"company_id"`
	Data      *Case  `json:"data"`
	// PreviousAttributes holds the old values of the case's top-level attributes that
	// the change modified (absent for created).
	PreviousAttributes map[string]any `json:"previous_attributes,omitempty"`
}

// Case is a case as its company sees it, in the wire names of the domain.
type Case struct {
	ID                      string     `json:"id"`
	Status                  string     `json:"status"`
	Issue                   string     `json:"issue"`
	CreatedAt               string     `json:"created_at"`
	UpdatedAt               string     `json:"updated_at"`
	DueDate                 *string    `json:"due_date"`
	CustomerAppealed        bool       `json:"customer_appealed"`
	MerchantAppealed        bool       `json:"merchant_appealed"`
	CustomerResponseActions []string   `json:"customer_response_actions"`
	MerchantResponseActions []string   `json:"merchant_response_actions"`
	PlatformResponseActions []string   `json:"platform_response_actions"`
	Outcome                 *string    `json:"outcome"`
	Refund                  *string    `json:"refund"`
	Version                 int        `json:"version"`
	Company                 Company    `json:"company"`
	User                    User       `json:"user"`
	Payment                 Payment    `json:"payment"`
	Member                  *Member    `json:"member"`
	ResolutionEvents        []Event    `json:"resolution_events"`
	attrs                   attributes `json:"-"`
}

// Company is the merchant.
type Company struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Route     string `json:"route"`
	CreatedAt string `json:"created_at"`
}

// User is the customer; email follows the API's rule (a merchant sees the e-mail of a
// customer who has a case with it, so it is always present here).
type User struct {
	ID       string  `json:"id"`
	Name     *string `json:"name"`
	Username string  `json:"username"`
	Email    *string `json:"email"`
}

// Money is an exact amount, as the API's Money.
type Money struct {
	Amount     string `json:"amount"`
	Currency   string `json:"currency"`
	MinorUnits int64  `json:"minor_units"`
}

// Payment is the disputed payment.
type Payment struct {
	ID             string  `json:"id"`
	Currency       string  `json:"currency"`
	Total          Money   `json:"total"`
	Subtotal       *Money  `json:"subtotal"`
	RefundedAmount Money   `json:"refunded_amount"`
	Status         string  `json:"status"`
	PaidAt         *string `json:"paid_at"`
	RefundedAt     *string `json:"refunded_at"`
	CreatedAt      string  `json:"created_at"`
}

// Member is the customer's membership the payment belongs to.
type Member struct {
	ID         string  `json:"id"`
	Status     string  `json:"status"`
	CreatedAt  string  `json:"created_at"`
	CanceledAt *string `json:"canceled_at"`
}

// Event is a timeline entry the company may see.
type Event struct {
	ID                 string  `json:"id"`
	Position           int     `json:"position"`
	Action             string  `json:"action"`
	ReporterType       string  `json:"reporter_type"`
	Details            *string `json:"details"`
	FromStatus         string  `json:"from_status"`
	ToStatus           string  `json:"to_status"`
	ViewableByCustomer bool    `json:"viewable_by_customer"`
	ViewableByMerchant bool    `json:"viewable_by_merchant"`
	CreatedAt          string  `json:"created_at"`
}

// attributes are the case's own top-level attributes, compared for
// previous_attributes.
type attributes map[string]any

// NewCase builds the company's view of case c from what it refers to, with the
// conversions and visibility rules of the API (graph/model, dispute.VisibleEvents).
func NewCase(c dispute.Case, parts db.CaseParts, policy *dispute.Policy) *Case {
	r := model.NewResolution(c, viewer, viewerMayAct, policy)
	out := &Case{ID: r.ID(), Version: r.Version(), attrs: caseAttributes(r)}
	a := out.attrs
	out.Status, out.Issue = a["status"].(string), a["issue"].(string)
	out.CreatedAt, out.UpdatedAt, out.DueDate = a["created_at"].(string), a["updated_at"].(string), a["due_date"].(*string)
	out.CustomerAppealed, out.MerchantAppealed = a["customer_appealed"].(bool), a["merchant_appealed"].(bool)
	out.CustomerResponseActions = a["customer_response_actions"].([]string)
	out.MerchantResponseActions = a["merchant_response_actions"].([]string)
	out.PlatformResponseActions = a["platform_response_actions"].([]string)
	out.Outcome, out.Refund = a["outcome"].(*string), a["refund"].(*string)

	co := model.NewCompany(parts.Company)
	out.Company = Company{ID: co.ID, Title: co.Title, Route: co.Route, CreatedAt: ts(co.CreatedAt)}
	// The customer has a case with this merchant, so the API shows the merchant the
	// customer's e-mail (Resolution.user); the same holds here.
	u := model.NewUser(parts.User, true)
	out.User = User{ID: u.ID, Name: u.Name, Username: u.Username, Email: u.Email}
	p := &model.Payment{P: parts.Payment}
	out.Payment = Payment{ID: p.ID(), Currency: p.Currency(), Total: money(p.Total()), RefundedAmount: money(p.RefundedAmount()),
		Status: strings.ToLower(string(p.Status())), PaidAt: tsPtr(p.PaidAt()), RefundedAt: tsPtr(p.RefundedAt()), CreatedAt: ts(p.CreatedAt())}
	if s := p.Subtotal(); s != nil {
		m := money(*s)
		out.Payment.Subtotal = &m
	}
	if parts.Membership != nil {
		m := &model.Membership{M: *parts.Membership}
		out.Member = &Member{ID: m.ID(), Status: strings.ToLower(string(m.Status())), CreatedAt: ts(m.CreatedAt()), CanceledAt: tsPtr(m.CanceledAt())}
	}
	visible := dispute.VisibleEvents(parts.Events, viewer)
	out.ResolutionEvents = make([]Event, len(visible))
	for i, e := range visible {
		out.ResolutionEvents[i] = newEvent(e)
	}
	out.ResolutionEvents = latestWithin(out.ResolutionEvents, maxPayloadDetails)
	return out
}

// latestWithin returns the latest of events (oldest first) whose messages together
// take at most limit characters, and always the newest.
func latestWithin(events []Event, limit int) []Event {
	n := 0
	for i := len(events) - 1; i >= 0; i-- {
		if d := events[i].Details; d != nil {
			n += utf8.RuneCountInString(*d)
		}
		if n > limit && i < len(events)-1 {
			return events[i+1:]
		}
	}
	return events
}

// newEvent is a timeline entry as the API shows it.
func newEvent(e dispute.Event) Event {
	me := model.NewEvent(e)
	return Event{ID: me.ID(), Position: me.Position(), Action: string(me.Action()),
		ReporterType: string(me.ReporterType()), Details: me.Details(), FromStatus: string(me.FromStatus()),
		ToStatus: string(me.ToStatus()), ViewableByCustomer: me.ViewableByCustomer(),
		ViewableByMerchant: me.ViewableByMerchant(), CreatedAt: ts(me.CreatedAt())}
}

// caseAttributes are the top-level attributes of a case as the company sees it.
func caseAttributes(r *model.Resolution) attributes {
	return attributes{
		"status":                    string(r.Status()),
		"issue":                     string(r.Issue()),
		"created_at":                ts(r.CreatedAt()),
		"updated_at":                ts(r.UpdatedAt()),
		"due_date":                  tsPtr(r.DueDate()),
		"customer_appealed":         r.CustomerAppealed(),
		"merchant_appealed":         r.MerchantAppealed(),
		"customer_response_actions": actions(r.CustomerResponseActions()),
		"merchant_response_actions": actions(r.MerchantResponseActions()),
		"platform_response_actions": actions(r.PlatformResponseActions()),
		"outcome":                   enumPtr(r.Outcome()),
		"refund":                    enumPtr(r.Refund()),
		"version":                   r.Version(),
	}
}

// previousAttributes returns the old values of the attributes that differ between
// before and after.
func previousAttributes(before, after attributes) map[string]any {
	out := map[string]any{}
	for k, old := range before {
		a, _ := json.Marshal(old)
		b, _ := json.Marshal(after[k])
		if string(a) != string(b) {
			out[k] = old
		}
	}
	return out
}

// eventTypes returns the event types a change produces, in sending order.
func eventTypes(ch db.CaseChange) []string {
	if ch.Before == nil {
		return []string{EventCreated}
	}
	types := []string{EventUpdated}
	if ch.Before.Status.Open() && !ch.After.Status.Open() {
		types = append(types, EventDecided)
	}
	return types
}

func ts(t time.Time) string { return t.UTC().Format(timeLayout) }

func tsPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := ts(*t)
	return &s
}

func money(m model.Money) Money {
	return Money{Amount: m.Amount(), Currency: m.Code, MinorUnits: m.Minor}
}

func actions(list []dispute.Action) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = string(a)
	}
	return out
}

func enumPtr[T ~string](v *T) *string {
	if v == nil {
		return nil
	}
	s := string(*v)
	return &s
}
