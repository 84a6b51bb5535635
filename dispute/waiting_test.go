package dispute

import (
	"slices"
	"testing"
)

func TestWaitsOn(t *testing.T) {
	want := map[Status]Actor{
		StatusMerchantResponseNeeded: ActorMerchant,
		StatusCustomerResponseNeeded: ActorCustomer,
		StatusMerchantInfoNeeded:     ActorMerchant,
		StatusCustomerInfoNeeded:     ActorCustomer,
		StatusUnderPlatformReview:    ActorPlatform,
		StatusCustomerWon:            "",
		StatusMerchantWon:            "",
		StatusCustomerWithdrew:       "",
	}
	for _, s := range Statuses {
		if got := s.WaitsOn(); got != want[s] {
			t.Errorf("%s waits on %q, want %q", s, got, want[s])
		}
	}
	if got := Status("bogus").WaitsOn(); got != "" {
		t.Errorf("unknown status waits on %q", got)
	}
	for a, list := range map[Actor][]Status{
		ActorCustomer: {StatusCustomerResponseNeeded, StatusCustomerInfoNeeded},
		ActorMerchant: {StatusMerchantResponseNeeded, StatusMerchantInfoNeeded},
		ActorPlatform: {StatusUnderPlatformReview},
		ActorSystem:   nil,
		"":            nil,
	} {
		if got := StatusesWaitingOn(a); !slices.Equal(got, list) {
			t.Errorf("StatusesWaitingOn(%q) = %v, want %v", a, got, list)
		}
	}
	if WaitingOn(StatusUnderPlatformReview, "") || !WaitingOn(StatusUnderPlatformReview, ActorPlatform) ||
		WaitingOn(StatusMerchantResponseNeeded, ActorCustomer) {
		t.Error("WaitingOn disagrees with WaitsOn")
	}
}

// TestWaitsOnAgreesWithDeadlines checks the reading of the table against its other
// rules: a status that waits on the customer or the merchant is exactly one with a
// response window (a deadline row decides for the silent side), and the side it waits
// on is the one the deadline rules against (a silent merchant is escalated, a silent
// customer loses).
func TestWaitsOnAgreesWithDeadlines(t *testing.T) {
	for _, s := range Statuses {
		side := s.WaitsOn()
		party := side == ActorCustomer || side == ActorMerchant
		if party != s.Waiting() {
			t.Errorf("%s waits on %q but Waiting() = %v", s, side, s.Waiting())
		}
		r := lookup(s, ActorSystem, actionDeadline)
		if party != (r != nil) {
			t.Errorf("%s waits on %q but has deadline row %v", s, side, r != nil)
			continue
		}
		switch side {
		case ActorMerchant:
			if r.to != StatusUnderPlatformReview {
				t.Errorf("%s: a silent merchant goes to %s", s, r.to)
			}
		case ActorCustomer:
			if r.to != StatusMerchantWon {
				t.Errorf("%s: a silent customer goes to %s", s, r.to)
			}
		}
	}
}
