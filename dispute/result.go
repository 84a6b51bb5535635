package dispute

import (
	"encoding/json"
	"time"
)

// A stored result is the first outcome of an idempotent request, kept so that a retry
// returns it unchanged. It is written once and read back up to a day later, possibly by
// a newer build, so its encoding names every field explicitly: renaming a Go field
// must not change what was stored. The names are the ones the first stored results
// used (the Go field names of the time) and must never change; add fields, never
// rename them. The conversions storedCase(c) and Case(r.Case) stop compiling when Case
// or Event gain, lose or retype a field, which is the moment to extend these structs.

type storedCase struct {
	ID               string     `json:"ID"`
	Status           Status     `json:"Status"`
	Issue            Issue      `json:"Issue"`
	CompanyID        string     `json:"CompanyID"`
	UserID           string     `json:"UserID"`
	PaymentID        string     `json:"PaymentID"`
	MemberID         string     `json:"MemberID"`
	CreatedAt        time.Time  `json:"CreatedAt"`
	UpdatedAt        time.Time  `json:"UpdatedAt"`
	DueDate          *time.Time `json:"DueDate"`
	CustomerAppealed bool       `json:"CustomerAppealed"`
	MerchantAppealed bool       `json:"MerchantAppealed"`
	Outcome          Outcome    `json:"Outcome"`
	Refund           Refund     `json:"Refund"`
	DecidedBy        Actor      `json:"DecidedBy"`
	InfoRequests     int        `json:"InfoRequests"`
	PaymentRefunded  bool       `json:"PaymentRefunded"`
	Version          int        `json:"Version"`
	EventCount       int        `json:"EventCount"`
}

type storedEvent struct {
	ID                 string      `json:"ID"`
	ResolutionID       string      `json:"ResolutionID"`
	Position           int         `json:"Position"`
	Action             EventAction `json:"Action"`
	Reporter           Actor       `json:"Reporter"`
	Details            string      `json:"Details"`
	FromStatus         Status      `json:"FromStatus"`
	ToStatus           Status      `json:"ToStatus"`
	ViewableByCustomer bool        `json:"ViewableByCustomer"`
	ViewableByMerchant bool        `json:"ViewableByMerchant"`
	CreatedAt          time.Time   `json:"CreatedAt"`
}

type storedResult struct {
	Case  storedCase  `json:"case"`
	Event storedEvent `json:"event"`
}

// EncodeResult encodes the outcome of a change (the case after it and its event) for
// an idempotency record.
func EncodeResult(c Case, e Event) ([]byte, error) {
	return json.Marshal(storedResult{Case: storedCase(c), Event: storedEvent(e)})
}

// DecodeResult decodes what EncodeResult stored, by this build or an earlier one.
func DecodeResult(b []byte) (Case, Event, error) {
	var r storedResult
	if err := json.Unmarshal(b, &r); err != nil {
		return Case{}, Event{}, err
	}
	return Case(r.Case), Event(r.Event), nil
}
