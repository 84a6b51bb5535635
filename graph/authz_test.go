package graph_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/ids"
)

// The authorization matrix: every case mutation as every kind of caller. A caller is
// allowed exactly where the lifecycle table says; a foreign case is NOT_FOUND exactly like an
// unknown ID; a token without manage is FORBIDDEN; no token is UNAUTHENTICATED; the
// wrong role on a visible case is ACTION_NOT_ALLOWED in userErrors. A refused call
// changes nothing.

func TestAuthz(t *testing.T) {
	runSuites(t, suite{"matrix", authzMatrix}, suite{"open resolution", authzOpenResolution},
		suite{"customer who is also a team member", authzCustomerAndTeamMember})
}

// The callers of the matrix.
const (
	pCustomer      = "owning customer"
	pOtherCustomer = "other customer"
	pMerchantKey   = "owning merchant (company key)"
	pTeamMember    = "owning merchant (team member)"
	pOtherMerchant = "other merchant"
	pPlatform      = "platform"
	pReadOnly      = "read-only token"
	pNoToken       = "no token"
)

var authzPrincipals = []string{pCustomer, pOtherCustomer, pMerchantKey, pTeamMember, pOtherMerchant, pPlatform, pReadOnly, pNoToken}

// token returns the caller's token; readOnly is the role whose read-only token stands
// for pReadOnly.
func (e *caseEnv) token(p string, readOnly dispute.Actor) string {
	c := e.cast
	switch p {
	case pCustomer:
		return c.CustomerToken
	case pOtherCustomer:
		return c.OtherCustomerToken
	case pMerchantKey:
		return c.CompanyToken
	case pTeamMember:
		return c.TeamMemberToken
	case pOtherMerchant:
		return c.OtherCompanyToken
	case pPlatform:
		return c.PlatformToken
	case pReadOnly:
		switch readOnly {
		case dispute.ActorCustomer:
			return c.CustomerReadToken
		case dispute.ActorMerchant:
			return c.CompanyReadToken
		}
		return c.PlatformReadToken
	}
	return ""
}

// caseState prepares a case in the state a row needs and returns its ID.
type caseState func(t *testing.T, e *caseEnv) string

func openedCase(t *testing.T, e *caseEnv) string {
	pay := e.cast.MustPayment(t, e.d)
	return dbtest.MustOpen(t, e.d, pay, dispute.IssueItemNotReceived, e.clock.Now()).Case.ID
}

// after returns a state reached from an opened case by some actions.
func afterSteps(steps ...func(id string) (dispute.Actor, dispute.Action)) caseState {
	return func(t *testing.T, e *caseEnv) string {
		id := openedCase(t, e)
		for _, s := range steps {
			actor, action := s(id)
			dbtest.MustApply(t, e.d, id, actor, action, "setup", e.clock.Now())
		}
		return id
	}
}

func did(actor dispute.Actor, action dispute.Action) func(string) (dispute.Actor, dispute.Action) {
	return func(string) (dispute.Actor, dispute.Action) { return actor, action }
}

var merchants = []string{pMerchantKey, pTeamMember}

var authzRows = []struct {
	name, op     string
	state        caseState
	input        map[string]any // resolutionId is added
	allowed      []string
	reporter     string        // the event's reporterType when allowed
	readOnly     dispute.Actor // whose read-only token is tried
	platformOnly bool          // refused to every non-platform caller with FORBIDDEN, whatever the case
}{
	{"withdraw", "withdrawResolution", openedCase, nil, []string{pCustomer}, "CUSTOMER", dispute.ActorCustomer, false},
	{"accept", "acceptResolution", openedCase, map[string]any{"terminateMembership": true}, merchants, "MERCHANT", dispute.ActorMerchant, false},
	{"deny", "denyResolution", openedCase, map[string]any{"message": "No."}, merchants, "MERCHANT", dispute.ActorMerchant, false},
	{"request more info", "requestMoreInfo", openedCase, map[string]any{"message": "Which?"}, merchants, "MERCHANT", dispute.ActorMerchant, false},
	{"respond", "respondToResolution", openedCase, map[string]any{"message": "Hello."},
		[]string{pCustomer, pMerchantKey, pTeamMember}, "", dispute.ActorCustomer, false},
	{"customer appeal", "appealResolution", afterSteps(did(dispute.ActorMerchant, dispute.ActionDeny)),
		map[string]any{"message": "Unfair."}, []string{pCustomer}, "CUSTOMER", dispute.ActorCustomer, false},
	{"merchant appeal", "appealResolution", afterSteps(did(dispute.ActorPlatform, dispute.ActionMerchantRefund)),
		map[string]any{"message": "Unfair."}, merchants, "MERCHANT", dispute.ActorMerchant, false},
	{"request buyer info", "requestBuyerInfo", openedCase, map[string]any{"message": "Proof?"}, []string{pPlatform}, "PLATFORM", dispute.ActorPlatform, false},
	{"request merchant info", "requestMerchantInfo", openedCase, map[string]any{"message": "Proof?"}, []string{pPlatform}, "PLATFORM", dispute.ActorPlatform, false},
	{"merchant wins", "decideMerchantWins", openedCase, nil, []string{pPlatform}, "PLATFORM", dispute.ActorPlatform, false},
	{"merchant refund", "decideMerchantRefund", openedCase, nil, []string{pPlatform}, "PLATFORM", dispute.ActorPlatform, false},
	// A chargeback record is a platform-only write with no role on the case: every other
	// caller is FORBIDDEN before the case is looked at, which reveals nothing either.
	{"chargeback", "recordChargebackEvent", openedCase, map[string]any{"action": "DISPUTE_OPENED"}, []string{pPlatform}, "PLATFORM",
		dispute.ActorPlatform, true},
}

func authzMatrix(t *testing.T, e *caseEnv) {
	for _, row := range authzRows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			for _, p := range authzPrincipals {
				id := row.state(t, e)
				input := map[string]any{"resolutionId": id}
				for k, v := range row.input {
					input[k] = v
				}
				before := e.caseSnapshot(t, id)
				r := e.act(t, e.token(p, row.readOnly), row.op, input)

				switch {
				case p == pNoToken:
					wantTopError(t, r, "UNAUTHENTICATED")
				case p == pReadOnly:
					wantTopError(t, r, "FORBIDDEN")
				case slices.Contains(row.allowed, p):
					if len(r.Errors) > 0 || len(r.P.UserErrors) > 0 || r.P.Resolution == nil {
						t.Fatalf("%s: %s refused: %+v %+v", p, row.op, r.Errors, r.P.UserErrors)
					}
					if r.P.Resolution.Version != before.Case.Version+1 {
						t.Errorf("%s: version %d after %d", p, r.P.Resolution.Version, before.Case.Version)
					}
					want := row.reporter
					if want == "" {
						want = map[string]string{pCustomer: "CUSTOMER", pMerchantKey: "MERCHANT", pTeamMember: "MERCHANT"}[p]
					}
					if r.P.Event.ReporterType != want {
						t.Errorf("%s: event reporter %s, want %s (the role comes from the token)", p, r.P.Event.ReporterType, want)
					}
					continue
				case row.platformOnly:
					wantTopError(t, r, "FORBIDDEN")
				case p == pOtherCustomer || p == pOtherMerchant:
					got := wantTopError(t, r, "NOT_FOUND")
					// Indistinguishable from an ID that does not exist.
					input["resolutionId"] = ids.New(ids.Resolution)
					unknown := e.act(t, e.token(p, row.readOnly), row.op, input)
					if !reflect.DeepEqual(unknown.Errors, r.Errors) || string(unknown.Data) != string(r.Data) {
						t.Errorf("%s: foreign case answers %+v %s, unknown ID answers %+v %s", p, got, r.Data, unknown.Errors, unknown.Data)
					}
				default:
					wantUserError(t, r, "ACTION_NOT_ALLOWED", "")
				}
				e.expectSnapshot(t, id, before)
			}
		})
	}
}

func authzOpenResolution(t *testing.T, e *caseEnv) {
	d := e.d
	want := map[string]string{
		pCustomer:      "",
		pOtherCustomer: "NOT_FOUND", // someone else's payment
		pMerchantKey:   "FORBIDDEN", // only a customer's user token opens cases
		pTeamMember:    "NOT_FOUND", // a user, but not the payer
		pOtherMerchant: "FORBIDDEN",
		pPlatform:      "FORBIDDEN",
		pReadOnly:      "FORBIDDEN",
		pNoToken:       "UNAUTHENTICATED",
	}
	for _, p := range authzPrincipals {
		pay := e.cast.MustPayment(t, d)
		r := e.act(t, e.token(p, dispute.ActorCustomer), "openResolution",
			map[string]any{"paymentId": pay.ID, "issue": "FORGOT_TO_CANCEL", "message": "Please refund."})
		if want[p] == "" {
			if len(r.Errors) > 0 || len(r.P.UserErrors) > 0 || r.P.Resolution == nil {
				t.Fatalf("%s: refused: %+v %+v", p, r.Errors, r.P.UserErrors)
			}
			continue
		}
		wantTopError(t, r, want[p])
		if n := casesOnPayment(t, d, pay.ID); n != 0 {
			t.Errorf("%s: refused open left %d cases on the payment", p, n)
		}
		if got := dbtest.MustGetPayment(t, d, pay.ID); !reflect.DeepEqual(got, pay) {
			t.Errorf("%s: payment changed: %+v -> %+v", p, pay, got)
		}
	}
}

func casesOnPayment(tb testing.TB, d *db.DB, paymentID string) int64 {
	tb.Helper()
	var n int64
	_, err := d.Raw(context.Background(), &n, "SELECT count(*) FROM resolutions WHERE payment_id = ?", paymentID)
	if err != nil {
		tb.Fatalf("count cases: %v", err)
	}
	return n
}

// A team member disputing their own payment to their own company is the customer on
// that case, never the merchant: nobody decides their own dispute.
func authzCustomerAndTeamMember(t *testing.T, e *caseEnv) {
	d := e.d
	u := dbtest.MustUser(t, d)
	dbtest.MustTeamMember(t, d, e.cast.Company, u)
	token := dbtest.MustToken(t, d, db.TokenUser, u.ID, true)
	pay := dbtest.MustPayment(t, d, u, e.cast.Company, "")
	p := e.mustAct(t, token, "openResolution", map[string]any{"paymentId": pay.ID, "issue": "FORGOT_TO_CANCEL", "message": "Oops."})
	id := p.Resolution.ID
	if !slices.Equal(p.Resolution.ViewerActions, []string{"RESPOND", "WITHDRAW"}) {
		t.Errorf("viewerActions = %v, want the customer's", p.Resolution.ViewerActions)
	}
	before := e.caseSnapshot(t, id)
	for _, op := range []string{"acceptResolution", "denyResolution", "requestMoreInfo"} {
		wantUserError(t, e.act(t, token, op, map[string]any{"resolutionId": id, "message": "Mine."}), "ACTION_NOT_ALLOWED", "")
	}
	e.expectSnapshot(t, id, before)
	if p := e.mustAct(t, token, "respondToResolution", map[string]any{"resolutionId": id, "message": "Hello?"}); p.Event.ReporterType != "CUSTOMER" {
		t.Errorf("respond reported by %s, want CUSTOMER", p.Event.ReporterType)
	}
}
