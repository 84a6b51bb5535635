package seed

import (
	"context"
	"fmt"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
)

// DemoTokensAgain mints three fresh tokens for the demo data already in d (the clear
// tokens are shown once and never stored, so they cannot be recovered, only replaced):
// the demo customer, the demo merchant's API key and a platform key, with read and
// manage scopes, labelled "(minted again)". Tokens minted before keep working; revoke
// them with revokeToken. It fails when the demo data is not there.
func DemoTokensAgain(ctx context.Context, d *db.DB, now time.Time) (DemoTokens, error) {
	feat := demoCases[demoFeatured]
	var customer demoUser
	for _, u := range demoUsers {
		if u.username == feat.customer {
			customer = u
		}
	}
	var merchant demoCompany
	for _, c := range demoCompanies {
		if c.key == feat.company {
			merchant = c
		}
	}
	u, err := d.UserByUsername(ctx, customer.username)
	if err != nil {
		return DemoTokens{}, fmt.Errorf("seed: no demo data here (user %s: %w); seed it with: seed -demo", customer.username, err)
	}
	c, err := d.CompanyByRoute(ctx, merchant.route)
	if err != nil {
		return DemoTokens{}, fmt.Errorf("seed: no demo data here (company %s: %w); seed it with: seed -demo", merchant.route, err)
	}
	// The featured case: the customer's most recent case with the merchant on its issue.
	page, err := d.ListCases(ctx, db.Scope{UserID: u.ID}, db.Filter{CompanyID: c.ID, Issues: []dispute.Issue{feat.issue}},
		db.Page{Field: db.OrderCreatedAt, Desc: true, Limit: 1})
	if err != nil {
		return DemoTokens{}, err
	}
	now = ms(now)
	scopes := []string{"read", "manage"}
	var toks DemoTokens
	for _, t := range []struct {
		tok  db.Token
		dest *string
	}{
		{db.Token{Kind: db.TokenUser, UserID: u.ID, Scopes: scopes, Label: "demo customer (" + customer.name + "), minted again"}, &toks.Customer},
		{db.Token{Kind: db.TokenCompany, CompanyID: c.ID, Scopes: scopes, Label: "demo merchant API key (" + merchant.title + "), minted again"}, &toks.Merchant},
		{db.Token{Kind: db.TokenPlatform, Scopes: scopes, Label: "demo platform staff, minted again"}, &toks.Platform},
	} {
		if _, *t.dest, err = d.CreateToken(ctx, t.tok, now); err != nil {
			return DemoTokens{}, err
		}
	}
	if len(page.Cases) > 0 {
		toks.CaseID = page.Cases[0].ID
	}
	return toks, nil
}
