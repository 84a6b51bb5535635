package seed

import (
	"context"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

func TestDemo(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Millisecond)
		toks, err := Demo(ctx, d, dispute.DefaultPolicy(), now)
		if err != nil {
			t.Fatalf("Demo: %v", err)
		}
		s := mustLoad(t, d)
		byStatus := checkConsistent(t, s, now, 1, 20)
		for _, st := range dispute.Statuses {
			if byStatus[st] == 0 {
				t.Errorf("no case in %s", st)
			}
		}
		if len(s.companies) != 4 || len(s.users) != 12 || len(s.cases) < 16 || len(s.payments) < 35 || len(s.payments) > 50 {
			t.Errorf("%d companies, %d users, %d cases, %d payments", len(s.companies), len(s.users), len(s.cases), len(s.payments))
		}
		if len(s.team) == 0 {
			t.Error("no team members")
		}
		// Every demo user can sign in with a JWT of the example's local issuer.
		for _, u := range s.users {
			if byExt, err := d.UserByExternalID(ctx, DemoExternalID(u.Username)); err != nil || byExt.ID != u.ID {
				t.Errorf("demo user %s by external ID %q: %+v, %v", u.Username, DemoExternalID(u.Username), byExt, err)
			}
		}
		currencies := map[string]bool{}
		for _, p := range s.payments {
			currencies[p.Currency] = true
		}
		for _, c := range []string{"USD", "EUR", "GBP", "JPY"} {
			if !currencies[c] {
				t.Errorf("no payment in %s", c)
			}
		}

		// The features the demo is there to show.
		var hiddenFromCustomer, hiddenFromMerchant, appealed, platformRefund, withdrawn, chargeback, escalated, canceled bool
		for _, c := range s.cases {
			appealed = appealed || c.CustomerAppealed || c.MerchantAppealed
			platformRefund = platformRefund || c.Refund == dispute.RefundPlatform
			withdrawn = withdrawn || c.Outcome == dispute.OutcomeWithdrawn
			for _, e := range s.events[c.ID] {
				hiddenFromCustomer = hiddenFromCustomer || !e.ViewableByCustomer
				hiddenFromMerchant = hiddenFromMerchant || !e.ViewableByMerchant
				chargeback = chargeback || e.Action == dispute.EventDisputeOpened
				escalated = escalated || e.Action == dispute.EventEscalated
				if e.Details == "" && (e.Action == dispute.EventCreated || e.Action == dispute.EventResponded) {
					t.Errorf("case %s: %s event %d without a message", c.ID, e.Action, e.Position)
				}
			}
		}
		for _, m := range s.memberships {
			canceled = canceled || !m.Active
		}
		for what, ok := range map[string]bool{"event hidden from the customer": hiddenFromCustomer,
			"event hidden from the merchant": hiddenFromMerchant, "appeal": appealed, "platform refund": platformRefund,
			"withdrawn case": withdrawn, "chargeback event": chargeback, "escalation": escalated, "canceled membership": canceled} {
			if !ok {
				t.Errorf("the demo has no %s", what)
			}
		}

		// The tokens authenticate and all three can see the featured case.
		var featured *dispute.Case
		for i := range s.cases {
			if s.cases[i].ID == toks.CaseID {
				featured = &s.cases[i]
			}
		}
		if featured == nil {
			t.Fatalf("case %q not found", toks.CaseID)
		}
		cust, err := d.LookupToken(ctx, toks.Customer)
		if err != nil || cust.Kind != db.TokenUser || cust.UserID != featured.UserID {
			t.Errorf("customer token: %+v, %v; case user %s", cust, err, featured.UserID)
		}
		merch, err := d.LookupToken(ctx, toks.Merchant)
		if err != nil || merch.Kind != db.TokenCompany || merch.CompanyID != featured.CompanyID {
			t.Errorf("merchant token: %+v, %v; case company %s", merch, err, featured.CompanyID)
		}
		plat, err := d.LookupToken(ctx, toks.Platform)
		if err != nil || plat.Kind != db.TokenPlatform {
			t.Errorf("platform token: %+v, %v", plat, err)
		}
		for _, tok := range []db.Token{cust, merch, plat} {
			if len(tok.Scopes) != 2 || tok.Scopes[0] != "read" || tok.Scopes[1] != "manage" {
				t.Errorf("token %s scopes %v", tok.Kind, tok.Scopes)
			}
		}
		mine, withMerchant := 0, 0
		for _, c := range s.cases {
			if c.UserID == cust.UserID {
				mine++
				if c.CompanyID == merch.CompanyID {
					withMerchant++
				}
			}
		}
		if mine < 3 || withMerchant < 3 {
			t.Errorf("the customer has %d cases, %d with the merchant", mine, withMerchant)
		}

		// A second run is refused: the demo needs an empty database.
		if _, err := Demo(ctx, d, dispute.DefaultPolicy(), now); err == nil {
			t.Error("Demo on a seeded database succeeded")
		}
	})
}

// The scripts hold for other response windows: waits scale, deadlines stay ahead.
func TestDemoWindows(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, w := range []time.Duration{time.Hour, 3 * 24 * time.Hour, 14 * 24 * time.Hour} {
		dd, err := buildDemo(dispute.Policy{ResponseWindow: w}, now)
		if err != nil {
			t.Fatalf("window %s: %v", w, err)
		}
		for _, c := range dd.Cases {
			if c.DueDate != nil && !c.DueDate.After(now) {
				t.Errorf("window %s: case due %s", w, c.DueDate)
			}
		}
	}
}

// The demo depends only on now, apart from IDs.
func TestDemoDeterministic(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a, err := buildDemo(dispute.DefaultPolicy(), now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := buildDemo(dispute.DefaultPolicy(), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Cases) != len(b.Cases) || len(a.Events) != len(b.Events) || len(a.Payments) != len(b.Payments) {
		t.Fatal("different sizes")
	}
	for i := range a.Events {
		x, y := a.Events[i], b.Events[i]
		if x.Action != y.Action || !x.CreatedAt.Equal(y.CreatedAt) || x.Details != y.Details {
			t.Fatalf("event %d differs: %+v vs %+v", i, x, y)
		}
	}
}
