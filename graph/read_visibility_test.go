package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/ids"
)

// rdVisFixture is a small world for visibility tests:
//
//	caseX: cust vs compA, paid through membership memX; its timeline holds events hidden
//	       from the customer (platform asks the merchant, merchant answers) and from the
//	       merchant (platform asks the buyer, buyer answers).
//	caseY: other vs compB   caseZ: cust vs compB   caseW: other vs compA
//	payNoCase: payer pays compA (membership memPayer) and never opened a case.
type rdVisFixture struct {
	s                              *apptest.Server
	d                              *db.DB
	compA, compB                   db.Company
	cust, other, team, payer       db.User
	memX, memPayer                 db.Membership
	payX, payZ, payNoCase, payFree db.Payment
	caseX, caseY, caseZ, caseW     dispute.Case
	evX                            []dispute.Event // caseX's events by position
	tokens                         map[string]string
}

// Role names.
const (
	rdCustomer      = "owning customer"
	rdOtherCustomer = "other customer"
	rdMerchantKey   = "owning merchant (company key)"
	rdTeamMember    = "owning merchant (team member)"
	rdOtherMerchant = "other merchant"
	rdPlatformDB    = "platform (db token)"
	rdPlatformEnv   = "platform (operator token)"
	rdReadOnly      = "read-only customer"
)

var rdRoles = []string{rdCustomer, rdOtherCustomer, rdMerchantKey, rdTeamMember, rdOtherMerchant, rdPlatformDB, rdPlatformEnv, rdReadOnly}

func rdBuildVisFixture(t *testing.T, d *db.DB) *rdVisFixture {
	t.Helper()
	f := &rdVisFixture{d: d, tokens: map[string]string{}}
	f.compA, f.compB = dbtest.MustCompany(t, d), dbtest.MustCompany(t, d)
	f.cust, f.other, f.team, f.payer = dbtest.MustUser(t, d), dbtest.MustUser(t, d), dbtest.MustUser(t, d), dbtest.MustUser(t, d)
	dbtest.MustTeamMember(t, d, f.compA, f.team)
	f.memX = dbtest.MustMembership(t, d, f.cust, f.compA)
	f.memPayer = dbtest.MustMembership(t, d, f.payer, f.compA)
	f.payX = dbtest.MustPayment(t, d, f.cust, f.compA, f.memX.ID)
	f.payZ = dbtest.MustPayment(t, d, f.cust, f.compB, "")
	f.payNoCase = dbtest.MustPayment(t, d, f.payer, f.compA, f.memPayer.ID)
	f.payFree = dbtest.MustPayment(t, d, f.cust, f.compA, "")

	t0 := rdPageBase
	res := dbtest.MustOpen(t, d, f.payX, dispute.IssueForgotToCancel, t0)
	f.evX = append(f.evX, res.Event)
	for i, st := range []rdStep{
		{rdPlat, dispute.ActionRequestMerchantInfo}, // 2: hidden from the customer
		{rdMerc, dispute.ActionRespond},             // 3: hidden from the customer
		{rdPlat, dispute.ActionRequestBuyerInfo},    // 4: hidden from the merchant
		{rdCust, dispute.ActionRespond},             // 5: hidden from the merchant
		{rdCust, dispute.ActionRespond},             // 6: a statement for the reviewer, both see it
		{rdMerc, dispute.ActionRespond},             // 7: likewise
	} {
		res = dbtest.MustApply(t, d, res.Case.ID, st.actor, st.action, "message "+string(st.actor), t0.Add(time.Duration(i+1)*time.Hour))
		f.evX = append(f.evX, res.Event)
	}
	f.caseX = res.Case
	f.caseY = dbtest.MustOpen(t, d, dbtest.MustPayment(t, d, f.other, f.compB, ""), dispute.IssueItemNotReceived, t0.Add(time.Minute)).Case
	f.caseZ = dbtest.MustOpen(t, d, f.payZ, dispute.IssueProductUnacceptable, t0.Add(2*time.Minute)).Case
	f.caseW = dbtest.MustOpen(t, d, dbtest.MustPayment(t, d, f.other, f.compA, ""), dispute.IssueUnauthorizedTransaction, t0.Add(3*time.Minute)).Case

	f.tokens[rdCustomer] = dbtest.MustToken(t, d, db.TokenUser, f.cust.ID, true)
	f.tokens[rdOtherCustomer] = dbtest.MustToken(t, d, db.TokenUser, f.other.ID, true)
	f.tokens[rdMerchantKey] = dbtest.MustToken(t, d, db.TokenCompany, f.compA.ID, true)
	f.tokens[rdTeamMember] = dbtest.MustToken(t, d, db.TokenUser, f.team.ID, true)
	f.tokens[rdOtherMerchant] = dbtest.MustToken(t, d, db.TokenCompany, f.compB.ID, true)
	f.tokens[rdPlatformDB] = dbtest.MustToken(t, d, db.TokenPlatform, "", true)
	f.tokens[rdPlatformEnv] = apptest.PlatformToken
	f.tokens[rdReadOnly] = dbtest.MustToken(t, d, db.TokenUser, f.cust.ID, false)
	f.s = apptest.New(t, d)
	return f
}

// roleOnX is each role's role on caseX; "" means caseX is foreign to it.
func (f *rdVisFixture) roleOnX(role string) dispute.Actor {
	switch role {
	case rdCustomer, rdReadOnly:
		return dispute.ActorCustomer
	case rdMerchantKey, rdTeamMember:
		return dispute.ActorMerchant
	case rdPlatformDB, rdPlatformEnv:
		return dispute.ActorPlatform
	}
	return ""
}

// visibleCases is the exact set of cases each role may see.
func (f *rdVisFixture) visibleCases(role string) []string {
	var list []dispute.Case
	switch role {
	case rdCustomer, rdReadOnly:
		list = []dispute.Case{f.caseX, f.caseZ}
	case rdOtherCustomer:
		list = []dispute.Case{f.caseY, f.caseW}
	case rdMerchantKey, rdTeamMember:
		list = []dispute.Case{f.caseX, f.caseW}
	case rdOtherMerchant:
		list = []dispute.Case{f.caseY, f.caseZ}
	default:
		list = []dispute.Case{f.caseX, f.caseY, f.caseZ, f.caseW}
	}
	return rdExpectedOrder(list, "CREATED_AT", true)
}

// visibleEventsOfX returns caseX's event IDs a role on it sees, by position.
func (f *rdVisFixture) visibleEventsOfX(role dispute.Actor) []string {
	var out []string
	for _, e := range f.evX {
		if (role == dispute.ActorPlatform) || (role == dispute.ActorCustomer && e.ViewableByCustomer) ||
			(role == dispute.ActorMerchant && e.ViewableByMerchant) {
			out = append(out, e.ID)
		}
	}
	return out
}

// rdSameResponse fails unless two responses are identical in status, data and errors.
func rdSameResponse(tb testing.TB, what string, a, b apptest.Response) {
	tb.Helper()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if a.Status != b.Status || !bytes.Equal(ja, jb) {
		tb.Fatalf("%s: responses differ:\n %d %s\n %d %s", what, a.Status, ja, b.Status, jb)
	}
}

const rdCaseQuery = `query($id: ID!) { resolution(id: $id) { id status viewerActions company { id } user { id } } }`

func TestReadVisibilityCases(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		f := rdBuildVisFixture(t, d)
		s := f.s
		wantActions := map[dispute.Actor][]string{
			dispute.ActorCustomer: {"RESPOND", "WITHDRAW"},
			dispute.ActorMerchant: {"ACCEPT", "RESPOND"},
			dispute.ActorPlatform: {"REQUEST_BUYER_INFO", "REQUEST_MERCHANT_INFO", "MERCHANT_WINS", "MERCHANT_REFUND"},
		}
		if f.caseX.Status != dispute.StatusUnderPlatformReview {
			t.Fatalf("fixture: caseX is %s", f.caseX.Status)
		}
		for _, role := range rdRoles {
			t.Run(role, func(t *testing.T) {
				tok := f.tokens[role]
				// resolution(id:): own case, or NOT_FOUND exactly like an unknown ID.
				r := s.Do(t, tok, rdCaseQuery, map[string]any{"id": f.caseX.ID})
				if on := f.roleOnX(role); on != "" {
					var out struct {
						Resolution *struct {
							ID            string   `json:"id"`
							ViewerActions []string `json:"viewerActions"`
						} `json:"resolution"`
					}
					if len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil || out.Resolution == nil || out.Resolution.ID != f.caseX.ID {
						t.Fatalf("resolution(caseX): %+v %s", r.Errors, r.Data)
					}
					want := wantActions[on]
					if role == rdReadOnly {
						want = []string{} // what the caller may do now: nothing without MANAGE
					}
					if !slices.Equal(out.Resolution.ViewerActions, want) {
						t.Fatalf("viewerActions as %s (%s) = %v, want %v", on, role, out.Resolution.ViewerActions, want)
					}
				} else {
					rdWantCode(t, r, "NOT_FOUND")
					unknown := s.Do(t, tok, rdCaseQuery, map[string]any{"id": ids.New(ids.Resolution)})
					rdSameResponse(t, "foreign vs unknown case", r, unknown)
				}
				// resolutions: exactly the visible set; the summary counts the same set.
				want := f.visibleCases(role)
				rdWantIDs(t, "resolutions", rdFetchCases(t, s, tok, rdPageArgs{first: rdIntp(100)}).ids(), want)
				rdWantIDs(t, "resolutions backward", rdWalkBackward(t, s, tok, 1, nil, nil), want)
				var sum struct {
					S struct{ Total int } `json:"resolutionSummary"`
				}
				s.MustData(t, tok, `{ resolutionSummary { total } }`, nil, &sum)
				if sum.S.Total != len(want) {
					t.Fatalf("resolutionSummary.total = %d, want %d", sum.S.Total, len(want))
				}
				// Filters never widen the scope: a foreign company or customer is simply empty.
				for _, filter := range []map[string]any{{"companyId": f.compB.ID}, {"userId": f.other.ID}, {"companyId": f.compA.ID}} {
					var wantF []string
					for _, id := range want {
						c := map[string]dispute.Case{f.caseX.ID: f.caseX, f.caseY.ID: f.caseY, f.caseZ.ID: f.caseZ, f.caseW.ID: f.caseW}[id]
						if (filter["companyId"] == nil || filter["companyId"] == c.CompanyID) && (filter["userId"] == nil || filter["userId"] == c.UserID) {
							wantF = append(wantF, id)
						}
					}
					rdWantIDs(t, "filtered resolutions", rdFetchCases(t, s, tok, rdPageArgs{first: rdIntp(100), filter: filter}).ids(), wantF)
				}
			})
		}
	})
}

// rdNodeFields selects enough of every node type to tell what it is.
const rdNodeFields = `__typename id
  ... on Resolution { caseStatus: status }
  ... on Payment { currency }
  ... on Membership { membershipStatus: status }
  ... on User { username }
  ... on Company { route }
  ... on ResolutionEvent { position }`

func TestReadVisibilityNodes(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		f := rdBuildVisFixture(t, d)
		s := f.s
		type obj struct {
			name string
			id   string
			// seen lists the roles that may see the object.
			seen []string
		}
		parties := []string{rdCustomer, rdReadOnly, rdMerchantKey, rdTeamMember, rdPlatformDB, rdPlatformEnv}
		objs := []obj{
			{"case", f.caseX.ID, parties},
			{"payment", f.payX.ID, parties},
			{"membership", f.memX.ID, parties},
			// cust paid compA and compB: both merchants see their customer.
			{"user", f.cust.ID, append(slices.Clone(parties), rdOtherMerchant)},
			{"event seen by both", f.evX[0].ID, parties},
			{"event hidden from the customer", f.evX[1].ID, []string{rdMerchantKey, rdTeamMember, rdPlatformDB, rdPlatformEnv}},
			{"event hidden from the merchant", f.evX[3].ID, []string{rdCustomer, rdReadOnly, rdPlatformDB, rdPlatformEnv}},
			{"payment without case", f.payNoCase.ID, []string{rdMerchantKey, rdTeamMember, rdPlatformDB, rdPlatformEnv}},
			{"membership without case", f.memPayer.ID, []string{rdMerchantKey, rdTeamMember, rdPlatformDB, rdPlatformEnv}},
			{"paying user without case", f.payer.ID, []string{rdMerchantKey, rdTeamMember, rdPlatformDB, rdPlatformEnv}},
		}
		unknown := []string{ids.New(ids.Resolution), ids.New(ids.Payment), ids.New(ids.Membership), ids.New(ids.User),
			ids.New(ids.Company), ids.New(ids.Event)}
		for _, role := range rdRoles {
			t.Run(role, func(t *testing.T) {
				tok := f.tokens[role]
				var list []string
				for _, o := range objs {
					list = append(list, o.id)
				}
				list = append(list, unknown...)
				var out struct {
					Nodes []*struct {
						Typename string `json:"__typename"`
						ID       string `json:"id"`
					} `json:"nodes"`
				}
				s.MustData(t, tok, `query($ids: [ID!]!) { nodes(ids: $ids) { `+rdNodeFields+` } }`, map[string]any{"ids": list}, &out)
				if len(out.Nodes) != len(list) {
					t.Fatalf("nodes returned %d entries for %d IDs", len(out.Nodes), len(list))
				}
				for i, o := range objs {
					visible := slices.Contains(o.seen, role)
					got := out.Nodes[i]
					if visible && (got == nil || got.ID != o.id) {
						t.Errorf("nodes: %s should be visible, got %+v", o.name, got)
					}
					if !visible && got != nil {
						t.Errorf("nodes: %s should be null (like an unknown ID), got %+v", o.name, got)
					}
					// node(id:) agrees, and a hidden object answers exactly like an unknown one.
					r := s.Do(t, tok, `query($id: ID!) { node(id: $id) { `+rdNodeFields+` } }`, map[string]any{"id": o.id})
					if len(r.Errors) > 0 {
						t.Fatalf("node(%s): %+v", o.name, r.Errors)
					}
					isNull := strings.Contains(string(r.Data), `"node":null`)
					if visible == isNull {
						t.Errorf("node(%s) as %s: %s", o.name, role, r.Data)
					}
					if !visible {
						u := s.Do(t, tok, `query($id: ID!) { node(id: $id) { `+rdNodeFields+` } }`,
							map[string]any{"id": unknown[slices.IndexFunc(unknown, func(id string) bool { return ids.Prefix(id) == ids.Prefix(o.id) })]})
						rdSameResponse(t, "hidden "+o.name+" vs unknown", r, u)
					}
				}
				for i := range unknown {
					if out.Nodes[len(objs)+i] != nil {
						t.Errorf("unknown %s resolved to %+v", unknown[i], out.Nodes[len(objs)+i])
					}
				}
			})
		}
	})
}

// TestReadVisibilityForeignCompany: a company the viewer has nothing to do with is a
// foreign ID, and a foreign ID must never reveal that it exists.
func TestReadVisibilityForeignCompany(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		f := rdBuildVisFixture(t, d)
		lonely := dbtest.MustCompany(t, d) // no payment, no case, no team member
		for _, role := range []string{rdCustomer, rdOtherCustomer, rdMerchantKey, rdOtherMerchant} {
			r := f.s.Do(t, f.tokens[role], `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": lonely.ID})
			u := f.s.Do(t, f.tokens[role], `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": ids.New(ids.Company)})
			if !bytes.Equal(r.Data, u.Data) {
				t.Errorf("as %s: node(foreign company) = %s, but node(unknown company) = %s", role, r.Data, u.Data)
			}
		}
		// Companies the viewer deals with stay visible.
		for role, id := range map[string]string{rdCustomer: f.compB.ID, rdMerchantKey: f.compA.ID, rdTeamMember: f.compA.ID, rdPlatformDB: lonely.ID} {
			var out struct {
				Node *struct{ ID string } `json:"node"`
			}
			f.s.MustData(t, f.tokens[role], `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}, &out)
			if out.Node == nil || out.Node.ID != id {
				t.Errorf("as %s: node(%s) = %+v", role, id, out.Node)
			}
		}
	})
}

type rdEvent struct {
	ID                 string `json:"id"`
	Position           int    `json:"position"`
	ViewableByCustomer bool   `json:"viewableByCustomer"`
	ViewableByMerchant bool   `json:"viewableByMerchant"`
}

func TestReadVisibilityEvents(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		f := rdBuildVisFixture(t, d)
		s := f.s
		// The fixture's flags: 2,3 hidden from the customer; 4,5 hidden from the merchant.
		flags := [][2]bool{{true, true}, {false, true}, {false, true}, {true, false}, {true, false}, {true, true}, {true, true}}
		for i, e := range f.evX {
			if e.ViewableByCustomer != flags[i][0] || e.ViewableByMerchant != flags[i][1] {
				t.Fatalf("fixture: event %d flags %v/%v, want %v", i+1, e.ViewableByCustomer, e.ViewableByMerchant, flags[i])
			}
		}
		for _, role := range []string{rdCustomer, rdReadOnly, rdMerchantKey, rdTeamMember, rdPlatformDB, rdPlatformEnv} {
			t.Run(role, func(t *testing.T) {
				tok := f.tokens[role]
				on := f.roleOnX(role)
				want := f.visibleEventsOfX(on)
				var out struct {
					Resolution struct {
						ResolutionEvents []rdEvent `json:"resolutionEvents"`
						Events           struct {
							Nodes []rdEvent `json:"nodes"`
						} `json:"events"`
						Last struct {
							Nodes []rdEvent `json:"nodes"`
						} `json:"last"`
					} `json:"resolution"`
				}
				s.MustData(t, tok, `query($id: ID!) { resolution(id: $id) {
					resolutionEvents { id position viewableByCustomer viewableByMerchant }
					events(first: 100) { nodes { id position viewableByCustomer viewableByMerchant } }
					last: events(last: 2) { nodes { id position viewableByCustomer viewableByMerchant } } } }`,
					map[string]any{"id": f.caseX.ID}, &out)
				idsOf := func(list []rdEvent) []string {
					var o []string
					for _, e := range list {
						o = append(o, e.ID)
						if (on == dispute.ActorCustomer && !e.ViewableByCustomer) || (on == dispute.ActorMerchant && !e.ViewableByMerchant) {
							t.Errorf("%s sees event %d not meant for it", on, e.Position)
						}
					}
					return o
				}
				rdWantIDs(t, "resolutionEvents", idsOf(out.Resolution.ResolutionEvents), want)
				rdWantIDs(t, "events", idsOf(out.Resolution.Events.Nodes), rdReversed(want))
				rdWantIDs(t, "events(last: 2)", idsOf(out.Resolution.Last.Nodes), rdReversed(want[:2]))
				rdWantIDs(t, "events walked by one", rdWalkEventsForward(t, s, tok, f.caseX.ID, 1), rdReversed(want))
				rdWantIDs(t, "events walked back by two", rdWalkEventsBackward(t, s, tok, f.caseX.ID, 2), rdReversed(want))
				for _, e := range f.evX {
					var n struct {
						Node *struct{ ID string } `json:"node"`
					}
					s.MustData(t, tok, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": e.ID}, &n)
					if (n.Node != nil) != slices.Contains(want, e.ID) {
						t.Errorf("node(event %d) as %s = %+v", e.Position, on, n.Node)
					}
				}
			})
		}
	})
}

// rdEmail extracts a nullable e-mail.
type rdEmail struct {
	Email *string `json:"email"`
}

func TestReadVisibilityEmail(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		f := rdBuildVisFixture(t, d)
		s := f.s
		const viaCase = `query($id: ID!) { resolution(id: $id) {
			user { email } payment { user { email } } member { user { email } } } }`
		const viaPayment = `query($id: ID!) { node(id: $id) { ... on Payment { user { email } } } }`
		const viaMembership = `query($id: ID!) { node(id: $id) { ... on Membership { user { email } } } }`
		const viaUser = `query($id: ID!) { node(id: $id) { ... on User { email } } }`

		// Through a case: every party sees its customer's e-mail, on every path.
		for _, role := range []string{rdCustomer, rdMerchantKey, rdTeamMember, rdPlatformDB, rdPlatformEnv} {
			var out struct {
				Resolution struct {
					User    rdEmail                 `json:"user"`
					Payment struct{ User rdEmail }  `json:"payment"`
					Member  *struct{ User rdEmail } `json:"member"`
				} `json:"resolution"`
			}
			s.MustData(t, f.tokens[role], viaCase, map[string]any{"id": f.caseX.ID}, &out)
			r := out.Resolution
			if r.Member == nil {
				t.Fatalf("as %s: caseX has no member", role)
			}
			for path, e := range map[string]*string{"user": r.User.Email, "payment.user": r.Payment.User.Email, "member.user": r.Member.User.Email} {
				if e == nil || *e != f.cust.Email {
					t.Errorf("as %s: resolution.%s.email = %v, want %s", role, path, e, f.cust.Email)
				}
			}
		}

		type check struct {
			role, query, id string
			want            *string // nil: the e-mail must be null
		}
		payerMail, custMail := f.payer.Email, f.cust.Email
		checks := []check{
			// A merchant whose customer never opened a case with it does not get the e-mail.
			{rdMerchantKey, viaPayment, f.payNoCase.ID, nil},
			{rdMerchantKey, viaMembership, f.memPayer.ID, nil},
			{rdMerchantKey, viaUser, f.payer.ID, nil},
			{rdTeamMember, viaPayment, f.payNoCase.ID, nil},
			{rdTeamMember, viaMembership, f.memPayer.ID, nil},
			{rdTeamMember, viaUser, f.payer.ID, nil},
			// The platform and the user always do.
			{rdPlatformDB, viaPayment, f.payNoCase.ID, &payerMail},
			{rdPlatformEnv, viaUser, f.payer.ID, &payerMail},
			{rdCustomer, viaUser, f.cust.ID, &custMail},
			{rdCustomer, viaPayment, f.payFree.ID, &custMail},
			// A merchant the user has a case with does, through any path.
			{rdMerchantKey, viaUser, f.cust.ID, &custMail},
			{rdMerchantKey, viaPayment, f.payFree.ID, &custMail},
			{rdOtherMerchant, viaUser, f.cust.ID, &custMail},
			{rdOtherMerchant, viaPayment, f.payZ.ID, &custMail},
		}
		run := func(c check) {
			t.Helper()
			r := s.Do(t, f.tokens[c.role], c.query, map[string]any{"id": c.id})
			if len(r.Errors) > 0 {
				t.Fatalf("%s %s: %+v", c.role, c.id, r.Errors)
			}
			var out struct {
				Node *struct {
					Email *string  `json:"email"`
					User  *rdEmail `json:"user"`
				} `json:"node"`
			}
			if err := json.Unmarshal(r.Data, &out); err != nil || out.Node == nil {
				t.Fatalf("%s: node(%s) = %s (the object itself must be visible)", c.role, c.id, r.Data)
			}
			got := out.Node.Email
			if out.Node.User != nil {
				got = out.Node.User.Email
			}
			if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
				t.Errorf("as %s, e-mail via %s: got %v, want %v (%s)", c.role, c.id, rdDeref(got), rdDeref(c.want), r.Data)
			}
		}
		for _, c := range checks {
			run(c)
		}
		// A case with another merchant reveals the e-mail to that merchant only.
		dbtest.MustOpen(t, d, dbtest.MustPayment(t, d, f.payer, f.compB, ""), dispute.IssueItemNotReceived, rdPageBase.Add(time.Hour))
		for _, c := range []check{
			{rdOtherMerchant, viaUser, f.payer.ID, &payerMail},
			{rdMerchantKey, viaUser, f.payer.ID, nil},
			{rdMerchantKey, viaPayment, f.payNoCase.ID, nil},
			{rdTeamMember, viaMembership, f.memPayer.ID, nil},
		} {
			run(c)
		}
	})
}

func rdDeref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

// rdPost sends a raw request to the server and returns the status and body.
func rdPost(tb testing.TB, url string, header map[string]string, body io.Reader, length int64) (int, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		tb.Fatal(err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

func rdFirstCode(tb testing.TB, raw []byte) string {
	tb.Helper()
	var r apptest.Response
	if err := json.Unmarshal(raw, &r); err != nil {
		tb.Fatalf("decode %q: %v", raw, err)
	}
	return r.FirstCode()
}

func TestReadUnauthenticated(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		f := rdBuildVisFixture(t, d)
		s := f.s
		t.Run("schema answers without a token", func(t *testing.T) {
			var out struct {
				Typename string `json:"__typename"`
			}
			s.MustData(t, "", `{ __typename }`, nil, &out)
			if out.Typename != "Query" {
				t.Fatalf("__typename = %q", out.Typename)
			}
			var intro struct {
				Schema struct {
					QueryType struct{ Name string }   `json:"queryType"`
					Types     []struct{ Name string } `json:"types"`
				} `json:"__schema"`
			}
			s.MustData(t, "", `{ __schema { queryType { name } types { name } } }`, nil, &intro)
			if intro.Schema.QueryType.Name != "Query" || len(intro.Schema.Types) < 20 {
				t.Fatalf("introspection: %+v", intro.Schema.QueryType)
			}
		})
		t.Run("data needs a token", func(t *testing.T) {
			for _, q := range []struct {
				query string
				vars  map[string]any
			}{
				{`{ viewer { role } }`, nil},
				{`{ resolutions { edges { node { id } } } }`, nil},
				{`{ resolutionSummary { total } }`, nil},
				{`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": f.caseX.ID}},
				{`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": f.compA.ID}},
				{`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{f.caseX.ID, f.cust.ID}}},
				{`query($id: ID!) { resolution(id: $id) { id } }`, map[string]any{"id": f.caseX.ID}},
				{`mutation { createCompany(input: {title: "x", route: "x"}) { company { id } } }`, nil},
			} {
				r := s.Do(t, "", q.query, q.vars)
				rdWantCode(t, r, "UNAUTHENTICATED")
				if strings.Contains(string(r.Data), f.caseX.ID) || strings.Contains(string(r.Data), f.compA.ID) {
					t.Fatalf("unauthenticated response leaks data: %s", r.Data)
				}
			}
		})
		// A revoked token is as bad as an unknown one.
		revoked := dbtest.MustToken(t, d, db.TokenPlatform, "", true)
		if _, err := d.Raw(context.Background(), nil, "UPDATE api_tokens SET revoked_at = ? WHERE hash = ?",
			time.Now().UTC(), db.HashToken(revoked)); err != nil {
			t.Fatal(err)
		}
		for name, header := range map[string]string{
			"unknown token":   "Bearer rc_" + strings.Repeat("A", 43),
			"garbage token":   "Bearer not-a-token",
			"revoked token":   "Bearer " + revoked,
			"basic auth":      "Basic dXNlcjpwYXNz",
			"empty bearer":    "Bearer ",
			"huge token":      "Bearer " + strings.Repeat("x", 600),
			"platform suffix": "Bearer " + apptest.PlatformToken + "x",
		} {
			t.Run(name, func(t *testing.T) {
				for _, q := range []string{`{ __typename }`, `{ viewer { role } }`} {
					body, _ := json.Marshal(map[string]any{"query": q})
					status, raw := rdPost(t, s.URL, map[string]string{"Authorization": header}, bytes.NewReader(body), int64(len(body)))
					if status != http.StatusUnauthorized || rdFirstCode(t, raw) != "UNAUTHENTICATED" {
						t.Fatalf("%q: %d %s", q, status, raw)
					}
				}
			})
		}
		rdMustHealthy(t, s)
	})
}

func TestReadViewer(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		f := rdBuildVisFixture(t, d)
		ro := map[string]string{
			"read-only company":  dbtest.MustToken(t, d, db.TokenCompany, f.compA.ID, false),
			"read-only platform": dbtest.MustToken(t, d, db.TokenPlatform, "", false),
		}
		type want struct {
			role      string
			scopes    []string
			user      string
			email     string
			company   string
			companies []string
		}
		rw := []string{"READ", "MANAGE"}
		cases := map[string]want{
			rdCustomer:           {"USER", rw, f.cust.ID, f.cust.Email, "", nil},
			rdOtherCustomer:      {"USER", rw, f.other.ID, f.other.Email, "", nil},
			rdMerchantKey:        {"COMPANY", rw, "", "", f.compA.ID, nil},
			rdTeamMember:         {"USER", rw, f.team.ID, f.team.Email, "", []string{f.compA.ID}},
			rdOtherMerchant:      {"COMPANY", rw, "", "", f.compB.ID, nil},
			rdPlatformDB:         {"PLATFORM", rw, "", "", "", nil},
			rdPlatformEnv:        {"PLATFORM", rw, "", "", "", nil},
			rdReadOnly:           {"USER", []string{"READ"}, f.cust.ID, f.cust.Email, "", nil},
			"read-only company":  {"COMPANY", []string{"READ"}, "", "", f.compA.ID, nil},
			"read-only platform": {"PLATFORM", []string{"READ"}, "", "", "", nil},
		}
		// A user in two teams lists both.
		dbtest.MustTeamMember(t, d, f.compB, f.team)
		tw := cases[rdTeamMember]
		tw.companies = []string{f.compA.ID, f.compB.ID}
		sort.Strings(tw.companies)
		cases[rdTeamMember] = tw
		for name, w := range cases {
			t.Run(name, func(t *testing.T) {
				tok := f.tokens[name]
				if tok == "" {
					tok = ro[name]
				}
				var out struct {
					Viewer struct {
						Role   string   `json:"role"`
						Scopes []string `json:"scopes"`
						User   *struct {
							ID    string  `json:"id"`
							Email *string `json:"email"`
						} `json:"user"`
						Company *struct {
							ID string `json:"id"`
						} `json:"company"`
						Companies []struct {
							ID string `json:"id"`
						} `json:"companies"`
					} `json:"viewer"`
				}
				f.s.MustData(t, tok, `{ viewer { role scopes user { id email } company { id } companies { id } } }`, nil, &out)
				v := out.Viewer
				if v.Role != w.role || !slices.Equal(v.Scopes, w.scopes) {
					t.Fatalf("role/scopes = %s %v, want %s %v", v.Role, v.Scopes, w.role, w.scopes)
				}
				if (v.User == nil) != (w.user == "") || (v.User != nil && (v.User.ID != w.user || rdDeref(v.User.Email) != w.email)) {
					t.Fatalf("user = %+v, want %s <%s>", v.User, w.user, w.email)
				}
				if (v.Company == nil) != (w.company == "") || (v.Company != nil && v.Company.ID != w.company) {
					t.Fatalf("company = %+v, want %q", v.Company, w.company)
				}
				var got []string
				for _, c := range v.Companies {
					got = append(got, c.ID)
				}
				sort.Strings(got)
				if !slices.Equal(got, w.companies) {
					t.Fatalf("companies = %v, want %v", got, w.companies)
				}
			})
		}
	})
}

// rdMutations are every mutation with an input that would pass validation, so that a
// refusal can only come from the token's scope.
func rdMutations(f *rdVisFixture) map[string]string {
	x := f.caseX.ID
	msg := func(op string) string {
		return `mutation { ` + op + `(input: {resolutionId: "` + x + `", message: "hello"}) { userErrors { code } } }`
	}
	decide := func(op string) string {
		return `mutation { ` + op + `(input: {resolutionId: "` + x + `"}) { userErrors { code } } }`
	}
	return map[string]string{
		"createCompany":    `mutation { createCompany(input: {title: "Read Only", route: "read-only-co"}) { company { id } } }`,
		"createUser":       `mutation { createUser(input: {username: "readonly", email: "ro@example.com"}) { user { id } } }`,
		"addTeamMember":    `mutation { addTeamMember(input: {companyId: "` + f.compB.ID + `", userId: "` + f.cust.ID + `"}) { company { id } } }`,
		"createPayment":    `mutation { createPayment(input: {userId: "` + f.cust.ID + `", companyId: "` + f.compA.ID + `", currency: "USD", totalMinor: 500}) { payment { id } } }`,
		"createMembership": `mutation { createMembership(input: {userId: "` + f.cust.ID + `", companyId: "` + f.compB.ID + `"}) { membership { id } } }`,
		"createToken":      `mutation { createToken(input: {holder: {platform: true}, scopes: [READ, MANAGE]}) { token } }`,
		"openResolution": `mutation { openResolution(input: {paymentId: "` + f.payFree.ID +
			`", issue: ITEM_NOT_RECEIVED, message: "where is it"}) { userErrors { code } } }`,
		"withdrawResolution":    decide("withdrawResolution"),
		"acceptResolution":      decide("acceptResolution"),
		"denyResolution":        msg("denyResolution"),
		"requestMoreInfo":       msg("requestMoreInfo"),
		"respondToResolution":   msg("respondToResolution"),
		"appealResolution":      msg("appealResolution"),
		"requestBuyerInfo":      msg("requestBuyerInfo"),
		"requestMerchantInfo":   msg("requestMerchantInfo"),
		"decideMerchantWins":    decide("decideMerchantWins"),
		"decideMerchantRefund":  decide("decideMerchantRefund"),
		"recordChargebackEvent": `mutation { recordChargebackEvent(input: {resolutionId: "` + x + `", action: DISPUTE_OPENED}) { userErrors { code } } }`,
	}
}

// rdCounts counts the rows of every table a mutation could touch.
func rdCounts(tb testing.TB, d *db.DB) map[string]int {
	tb.Helper()
	out := map[string]int{}
	for _, table := range []string{"companies", "users", "team_members", "memberships", "payments", "resolutions",
		"resolution_events", "api_tokens"} {
		var n int
		_, err := d.Raw(context.Background(), &n, "SELECT count(*) FROM "+table)
		if err != nil {
			tb.Fatalf("count %s: %v", table, err)
		}
		out[table] = int(n)
	}
	var versions []int
	if _, err := d.Raw(context.Background(), &versions, "SELECT version FROM resolutions ORDER BY id"); err != nil {
		tb.Fatal(err)
	}
	out["versions"] = 0
	for _, v := range versions {
		out["versions"] += v
	}
	return out
}

func TestReadOnlyTokensCannotMutate(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		f := rdBuildVisFixture(t, d)
		tokens := map[string]string{
			"customer":  f.tokens[rdReadOnly],
			"company":   dbtest.MustToken(t, d, db.TokenCompany, f.compA.ID, false),
			"team":      dbtest.MustToken(t, d, db.TokenUser, f.team.ID, false),
			"platform":  dbtest.MustToken(t, d, db.TokenPlatform, "", false),
			"no-manage": dbtest.MustToken(t, d, db.TokenUser, f.other.ID, false),
		}
		before := rdCounts(t, d)
		for name, tok := range tokens {
			t.Run(name, func(t *testing.T) {
				// Reads work.
				var v struct {
					Viewer struct{ Scopes []string } `json:"viewer"`
				}
				f.s.MustData(t, tok, `{ viewer { scopes } }`, nil, &v)
				if !slices.Equal(v.Viewer.Scopes, []string{"READ"}) {
					t.Fatalf("scopes = %v", v.Viewer.Scopes)
				}
				rdFetchCases(t, f.s, tok, rdPageArgs{})
				// Every mutation is refused, before anything else is checked.
				for op, q := range rdMutations(f) {
					r := f.s.Do(t, tok, q, nil)
					if len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN" {
						t.Errorf("%s: want FORBIDDEN, got %+v %s", op, r.Errors, r.Data)
					}
					rdWantNoData(t, r)
				}
			})
		}
		if after := rdCounts(t, d); !maps.Equal(before, after) {
			t.Fatalf("read-only mutations changed the database: %v -> %v", before, after)
		}
		// The same mutations with a manage token do reach the business rules, so the
		// refusals above came from the scope.
		r := f.s.Do(t, f.tokens[rdCustomer], rdMutations(f)["respondToResolution"], nil)
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"userErrors":[]`) {
			t.Fatalf("manage token respond: %+v %s", r.Errors, r.Data)
		}
	})
}
