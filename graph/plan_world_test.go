package graph_test

import (
	"context"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// planWorld is the data the differential test queries: two merchants, customers of
// both, a team member who is also a customer, cases in open and closed statuses with
// timelines hidden from one side or the other, refunded payments and canceled
// memberships, payments without subtotal or membership, currencies with 0 and 3
// decimals, text that needs escaping, and tokens of every kind, labelled and not,
// revoked and not. Pools hold IDs of every kind, unknown and
// malformed ones included, for the generated operations.
type planWorld struct {
	roles []planRole
	// ID pools by kind ("reso", "biz", "user", "pay", "mem", "revt"), each with a few
	// IDs nobody can see or that do not exist.
	ids map[string][]string
	// cursors found by reading the world (resolution and event cursors, and a few
	// that are not).
	cursors []string
}

// planRole is a caller: a name and its token ("" for none).
type planRole struct {
	name, token string
}

var planT0 = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// odd are messages whose JSON encoding must match gqlgen's byte for byte.
var odd = []string{
	"quotes \" and backslashes \\ and a slash /",
	"lines\nand\ttabs\rand a bell \a and NUL-free controls \x01\x1f",
	"unicode: café, 日本語, emoji 🎉, U+2028 \u2028 and U+2029 \u2029",
	"html <script>alert('x')</script> & ampersands",
	"a plain message",
}

func buildPlanWorld(t *testing.T, d *db.DB) *planWorld {
	t.Helper()
	ctx := context.Background()
	w := &planWorld{ids: map[string][]string{}}
	cast := dbtest.MustCast(t, d)
	bizA, bizB := cast.Company, cast.OtherCompany
	cust, other, team := cast.Customer, cast.OtherCustomer, cast.TeamMember
	nameless, err := d.CreateUser(ctx, "", "nameless", "nameless@example.com", dbtest.Now())
	if err != nil {
		t.Fatal(err)
	}
	add := func(kind string, id string) { w.ids[kind] = append(w.ids[kind], id) }
	for _, c := range []db.Company{bizA, bizB} {
		add("biz", c.ID)
	}
	for _, u := range []db.User{cust, other, team, nameless} {
		add("user", u.ID)
	}
	at := planT0
	step := func() time.Time { at = at.Add(time.Minute); return at }
	open := func(u db.User, c db.Company, withMember bool, currency string, subtotal *int64) dispute.Case {
		memberID := ""
		if withMember {
			memberID = dbtest.MustMembership(t, d, u, c).ID
			add("mem", memberID)
		}
		p, err := d.CreatePayment(ctx, db.NewPayment{UserID: u.ID, CompanyID: c.ID, MembershipID: memberID, Currency: currency,
			Total: 123456, Subtotal: subtotal, PaidAt: step()}, at)
		if err != nil {
			t.Fatal(err)
		}
		add("pay", p.ID)
		res := dbtest.MustOpen(t, d, p, dispute.Issues[len(w.ids["reso"])%len(dispute.Issues)], step())
		add("reso", res.Case.ID)
		return res.Case
	}
	apply := func(c dispute.Case, actor dispute.Actor, action dispute.Action, msg string) {
		dbtest.MustApply(t, d, c.ID, actor, action, msg, step())
	}
	sub := int64(1000)
	// cust vs bizA: a long timeline with events hidden from each side.
	c1 := open(cust, bizA, true, "USD", &sub)
	apply(c1, dispute.ActorPlatform, dispute.ActionRequestMerchantInfo, odd[0])
	apply(c1, dispute.ActorMerchant, dispute.ActionRespond, odd[1])
	apply(c1, dispute.ActorPlatform, dispute.ActionRequestBuyerInfo, odd[2])
	apply(c1, dispute.ActorCustomer, dispute.ActionRespond, odd[3])
	for i := range 6 {
		apply(c1, []dispute.Actor{dispute.ActorCustomer, dispute.ActorMerchant}[i%2], dispute.ActionRespond, odd[4])
	}
	// cust vs bizA: accepted with the membership terminated (refunded, canceled).
	c2 := open(cust, bizA, true, "JPY", nil)
	if _, err := d.UpdateCase(ctx, db.Change{CaseID: c2.ID, Scope: db.Scope{All: true}, Now: step(),
		Decide: func(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
			return dispute.DefaultPolicy().Apply(c, dispute.ActorMerchant, dispute.ActionAccept,
				dispute.Input{TerminateMembership: true, Message: "refunded"}, at)
		}}); err != nil {
		t.Fatal(err)
	}
	// cust vs bizB (no membership), denied then appealed.
	c3 := open(cust, bizB, false, "KWD", &sub)
	apply(c3, dispute.ActorMerchant, dispute.ActionDeny, "no")
	apply(c3, dispute.ActorCustomer, dispute.ActionAppeal, "please")
	// other vs bizA, waiting on the customer.
	c4 := open(other, bizA, true, "USD", nil)
	apply(c4, dispute.ActorMerchant, dispute.ActionRequestMoreInfo, "which parcel?")
	// the team member of bizA as a customer of bizA and of bizB.
	open(team, bizA, false, "USD", &sub)
	c6 := open(team, bizB, true, "EUR", &sub)
	apply(c6, dispute.ActorCustomer, dispute.ActionWithdraw, "")
	// the nameless user vs bizB, decided by the platform.
	c7 := open(nameless, bizB, false, "USD", nil)
	apply(c7, dispute.ActorPlatform, dispute.ActionMerchantRefund, "platform decides")
	for range 3 {
		open(other, bizB, false, "USD", &sub)
	}
	for _, c := range w.ids["reso"] {
		for _, e := range dbtest.MustEvents(t, d, c) {
			add("revt", e.ID)
		}
	}
	// IDs nobody has, and malformed ones.
	for kind, bad := range map[string][]string{"reso": {"reso_00000000000000000000000000", "nope"},
		"biz": {"biz_00000000000000000000000000"}, "user": {"user_00000000000000000000000000"},
		"pay": {"pay_00000000000000000000000000"}, "mem": {"mem_00000000000000000000000000"},
		"revt": {"revt_00000000000000000000000000", "tok_123"}} {
		w.ids[kind] = append(w.ids[kind], bad...)
	}
	// Tokens beside the roles' own: labelled (with text to escape), revoked, read only.
	for i, tok := range []db.Token{
		{Kind: db.TokenUser, UserID: cust.ID, Scopes: []string{"read"}, Label: odd[1]},
		{Kind: db.TokenUser, UserID: cust.ID, Scopes: []string{"read", "manage"}, Label: "laptop"},
		{Kind: db.TokenCompany, CompanyID: bizA.ID, Scopes: []string{"read", "manage"}, Label: odd[2]},
		{Kind: db.TokenCompany, CompanyID: bizB.ID, Scopes: []string{"read"}},
		{Kind: db.TokenPlatform, Scopes: []string{"read"}, Label: "ops"},
		{Kind: db.TokenUser, UserID: team.ID, Scopes: []string{"read", "manage"}},
	} {
		created, _, err := d.CreateToken(ctx, tok, step())
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			if _, err := d.RevokeToken(ctx, db.TokenOwner{All: true}, created.ID, step()); err != nil {
				t.Fatal(err)
			}
		}
	}
	stranger := dbtest.MustUser(t, d)
	w.roles = []planRole{
		{"platform (operator token)", apptest.PlatformToken},
		{"platform (db token)", cast.PlatformToken},
		{"platform (read only)", cast.PlatformReadToken},
		{"customer", cast.CustomerToken},
		{"customer (read only)", cast.CustomerReadToken},
		{"other customer", cast.OtherCustomerToken},
		{"merchant (company key)", cast.CompanyToken},
		{"merchant (company key, read only)", cast.CompanyReadToken},
		{"merchant (team member, also a customer)", cast.TeamMemberToken},
		{"other merchant", cast.OtherCompanyToken},
		{"stranger", dbtest.MustToken(t, d, db.TokenUser, stranger.ID, false)},
		{"nobody", ""},
	}
	return w
}

// findCursors reads real cursors from the server (resolution cursors in both orders
// and event cursors) for the generated operations.
func (w *planWorld) findCursors(t *testing.T, s *apptest.Server) {
	t.Helper()
	var out struct {
		A struct {
			Edges []struct {
				Cursor string
				Node   struct {
					Events struct{ Edges []struct{ Cursor string } }
				}
			}
		}
		B struct{ Edges []struct{ Cursor string } }
		C struct{ Edges []struct{ Cursor string } }
	}
	s.MustData(t, apptest.PlatformToken, `{ a: resolutions(first: 100) { edges { cursor node { events(first: 100) { edges { cursor } } } } }
		b: resolutions(first: 5, orderBy: {field: DUE_DATE, direction: ASC}) { edges { cursor } }
		c: tokens(first: 100, filter: {includeRevoked: true}) { edges { cursor } } }`, nil, &out)
	for i, e := range out.A.Edges {
		if i%3 == 0 {
			w.cursors = append(w.cursors, e.Cursor)
		}
		for j, ev := range e.Node.Events.Edges {
			if j%4 == 1 {
				w.cursors = append(w.cursors, ev.Cursor)
			}
		}
	}
	for _, e := range out.B.Edges {
		w.cursors = append(w.cursors, e.Cursor)
	}
	for i, e := range out.C.Edges {
		if i%3 == 0 {
			w.cursors = append(w.cursors, e.Cursor)
		}
	}
	w.cursors = append(w.cursors, "", "garbage", "cjF8Y3JlYXRlZF9hdHwxfHJlc29feA") // the last: a well-formed cursor of an unknown case
}
