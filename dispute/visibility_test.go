package dispute

import (
	"slices"
	"testing"
)

func TestVisibleTo(t *testing.T) {
	both := Event{ViewableByCustomer: true, ViewableByMerchant: true}
	custOnly := Event{ViewableByCustomer: true}
	mercOnly := Event{ViewableByMerchant: true}
	tests := []struct {
		ev    Event
		actor Actor
		want  bool
	}{
		{both, cust, true}, {both, merc, true}, {both, plat, true},
		{custOnly, cust, true}, {custOnly, merc, false}, {custOnly, plat, true},
		{mercOnly, cust, false}, {mercOnly, merc, true}, {mercOnly, plat, true},
		{Event{}, plat, true}, {Event{}, cust, false}, {Event{}, merc, false},
		{both, ActorSystem, false}, {both, "", false}, {both, "admin", false},
	}
	for _, tt := range tests {
		if got := tt.ev.VisibleTo(tt.actor); got != tt.want {
			t.Errorf("%+v.VisibleTo(%q) = %v, want %v", tt.ev, tt.actor, got, tt.want)
		}
	}
}

// TestVisibilityOfTimeline follows the domain's example: a platform request for
// merchant information and its answer are hidden from the customer, a request
// for buyer information and its answer from the merchant.
func TestVisibilityOfTimeline(t *testing.T) {
	p := DefaultPolicy()
	c, created, err := p.Open(Case{ID: "reso_v", Issue: IssueItemNotReceived}, "where is it?", t0)
	if err != nil {
		t.Fatal(err)
	}
	timeline := []Event{created}
	steps := []struct {
		actor  Actor
		action Action
	}{
		{plat, ActionRequestMerchantInfo}, {merc, ActionRespond},
		{plat, ActionRequestBuyerInfo}, {cust, ActionRespond},
		{cust, ActionRespond}, {plat, ActionMerchantRefund},
	}
	for _, s := range steps {
		var ev Event
		c, ev, _, err = p.Apply(c, s.actor, s.action, Input{Message: "m"}, t0)
		if err != nil {
			t.Fatalf("%s %s: %v", s.actor, s.action, err)
		}
		timeline = append(timeline, ev)
	}
	positions := func(actor Actor) []int {
		var out []int
		for _, e := range VisibleEvents(timeline, actor) {
			out = append(out, e.Position)
		}
		return out
	}
	if got, want := positions(plat), []int{1, 2, 3, 4, 5, 6, 7}; !slices.Equal(got, want) {
		t.Errorf("platform sees %v, want %v", got, want)
	}
	if got, want := positions(cust), []int{1, 4, 5, 6, 7}; !slices.Equal(got, want) {
		t.Errorf("customer sees %v, want %v", got, want)
	}
	if got, want := positions(merc), []int{1, 2, 3, 6, 7}; !slices.Equal(got, want) {
		t.Errorf("merchant sees %v, want %v", got, want)
	}
	if got := VisibleEvents(nil, cust); got == nil || len(got) != 0 {
		t.Errorf("VisibleEvents(nil) = %#v, want empty", got)
	}
}
