package dbtest

import (
	"context"
	"testing"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
)

// Cast is everyone who can touch one merchant's cases, with a token for each: the
// customer, the merchant (its company API key and a team member's user token), the
// platform, and outsiders (another customer, another merchant). Tokens have both
// scopes unless their name says Read.
type Cast struct {
	Company       db.Company // the merchant of the cast's payments
	OtherCompany  db.Company // a merchant with no business with the customer
	Customer      db.User    // the payer of the cast's payments
	OtherCustomer db.User    // a customer with payments of their own, to Company too
	TeamMember    db.User    // acts as Company's merchant

	CustomerToken      string
	OtherCustomerToken string
	CompanyToken       string // Company's API key
	TeamMemberToken    string // TeamMember's user token: the merchant on Company's cases
	OtherCompanyToken  string
	PlatformToken      string // a stored platform (staff) token

	CustomerReadToken string
	CompanyReadToken  string
	PlatformReadToken string
}

// MustCast creates a cast in d.
func MustCast(tb testing.TB, d *db.DB) *Cast {
	tb.Helper()
	c := &Cast{Company: MustCompany(tb, d), OtherCompany: MustCompany(tb, d),
		Customer: MustUser(tb, d), OtherCustomer: MustUser(tb, d), TeamMember: MustUser(tb, d)}
	MustTeamMember(tb, d, c.Company, c.TeamMember)
	// The other customer pays the same merchant, so "foreign" is about the case, not
	// about never having met the company.
	MustPayment(tb, d, c.OtherCustomer, c.Company, "")
	c.CustomerToken = MustToken(tb, d, db.TokenUser, c.Customer.ID, true)
	c.OtherCustomerToken = MustToken(tb, d, db.TokenUser, c.OtherCustomer.ID, true)
	c.CompanyToken = MustToken(tb, d, db.TokenCompany, c.Company.ID, true)
	c.TeamMemberToken = MustToken(tb, d, db.TokenUser, c.TeamMember.ID, true)
	c.OtherCompanyToken = MustToken(tb, d, db.TokenCompany, c.OtherCompany.ID, true)
	c.PlatformToken = MustToken(tb, d, db.TokenPlatform, "", true)
	c.CustomerReadToken = MustToken(tb, d, db.TokenUser, c.Customer.ID, false)
	c.CompanyReadToken = MustToken(tb, d, db.TokenCompany, c.Company.ID, false)
	c.PlatformReadToken = MustToken(tb, d, db.TokenPlatform, "", false)
	return c
}

// MustPayment creates a paid payment of the customer to the company, tied to a fresh
// active membership of its own (so cancelling it touches no other case).
func (c *Cast) MustPayment(tb testing.TB, d *db.DB) db.Payment {
	tb.Helper()
	m := MustMembership(tb, d, c.Customer, c.Company)
	return MustPayment(tb, d, c.Customer, c.Company, m.ID)
}

// MustGetCase reads a case as stored, whoever it belongs to.
func MustGetCase(tb testing.TB, d *db.DB, id string) dispute.Case {
	tb.Helper()
	m, err := d.CasesByID(context.Background(), []string{id})
	if err != nil {
		tb.Fatalf("get case %s: %v", id, err)
	}
	c, ok := m[id]
	if !ok {
		tb.Fatalf("get case %s: not found", id)
	}
	return c
}

// MustGetPayment reads a payment as stored.
func MustGetPayment(tb testing.TB, d *db.DB, id string) db.Payment {
	tb.Helper()
	m, err := d.PaymentsByID(context.Background(), []string{id})
	if err != nil {
		tb.Fatalf("get payment %s: %v", id, err)
	}
	p, ok := m[id]
	if !ok {
		tb.Fatalf("get payment %s: not found", id)
	}
	return p
}

// MustGetMembership reads a membership as stored.
func MustGetMembership(tb testing.TB, d *db.DB, id string) db.Membership {
	tb.Helper()
	m, err := d.MembershipsByID(context.Background(), []string{id})
	if err != nil {
		tb.Fatalf("get membership %s: %v", id, err)
	}
	v, ok := m[id]
	if !ok {
		tb.Fatalf("get membership %s: not found", id)
	}
	return v
}

// MustEvents returns a case's whole timeline as the platform sees it, oldest first.
func MustEvents(tb testing.TB, d *db.DB, caseID string) []dispute.Event {
	tb.Helper()
	m, err := d.ListEvents(context.Background(),
		[]db.CaseView{{CaseID: caseID, Role: dispute.ActorPlatform}}, db.EventPage{Limit: 100000})
	if err != nil {
		tb.Fatalf("list events of %s: %v", caseID, err)
	}
	return m[caseID]
}
