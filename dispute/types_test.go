package dispute

import "testing"

func TestStatusSets(t *testing.T) {
	open := map[Status]bool{sMR: true, sCR: true, sMI: true, sCI: true, sUR: true}
	if len(Statuses) != 8 || len(OpenStatuses) != 5 {
		t.Fatalf("%d statuses, %d open", len(Statuses), len(OpenStatuses))
	}
	for _, s := range Statuses {
		if !s.Valid() || s.Open() != open[s] {
			t.Errorf("%s: Valid=%v Open=%v", s, s.Valid(), s.Open())
		}
	}
	for _, s := range OpenStatuses {
		if !open[s] {
			t.Errorf("%s listed as open", s)
		}
	}
	for _, s := range []Status{"", "open", "MERCHANT_RESPONSE_NEEDED"} {
		if s.Valid() || s.Open() {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestIssueValid(t *testing.T) {
	for _, i := range Issues {
		if !i.Valid() {
			t.Errorf("%s invalid", i)
		}
	}
	for _, i := range []Issue{"", "other", "ITEM_NOT_RECEIVED"} {
		if i.Valid() {
			t.Errorf("%q valid", i)
		}
	}
}

// TestActionLists pins the actor action lists to the product's enumerations,
// whose order Allowed follows.
func TestActionLists(t *testing.T) {
	want := map[Actor][]Action{
		cust: {"respond", "appeal", "withdraw"},
		merc: {"accept", "deny", "request_more_info", "appeal", "respond"},
		plat: {"request_buyer_info", "request_merchant_info", "merchant_wins", "merchant_refund"},
	}
	for actor, actions := range want {
		got := actionsOf(actor)
		if len(got) != len(actions) {
			t.Fatalf("%s: %v", actor, got)
		}
		for i := range got {
			if got[i] != actions[i] {
				t.Errorf("%s[%d] = %s, want %s", actor, i, got[i], actions[i])
			}
		}
	}
	if actionsOf(ActorSystem) != nil {
		t.Error("system has actions")
	}
}
