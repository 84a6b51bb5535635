package graph_test

import (
	"testing"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
)

// TestSecondMutationSeesTheFirst: mutation fields of one operation run one after
// another, and each payload shows the case as its own change left it, not what an
// earlier field of the same operation loaded: here a merchant's reply loads the
// payment, membership and timeline, then the merchant accepts with the membership
// ended, and the second payload shows the payment refunded, the membership canceled
// and the accepted event, as the database has them.
func TestSecondMutationSeesTheFirst(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		e := newCaseEnv(t, d)
		id := e.open(t, e.cast.MustPayment(t, d).ID)
		var out struct {
			A, B struct {
				Resolution struct {
					Status, Refund string
					Payment        struct {
						Status     string
						RefundedAt *string
					}
					Member           struct{ Status string }
					ResolutionEvents []struct{ Action string }
				}
				UserErrors []struct{ Code string }
			}
		}
		const sel = `resolution { status refund payment { status refundedAt } member { status } resolutionEvents { action } } userErrors { code }`
		e.s.MustData(t, e.cast.CompanyToken, `mutation($id: ID!) {
			a: respondToResolution(input: {resolutionId: $id, message: "We shipped."}) { `+sel+` }
			b: acceptResolution(input: {resolutionId: $id, terminateMembership: true}) { `+sel+` } }`,
			map[string]any{"id": id}, &out)
		if len(out.A.UserErrors)+len(out.B.UserErrors) > 0 {
			t.Fatalf("refused: %+v %+v", out.A.UserErrors, out.B.UserErrors)
		}
		if n := len(out.A.Resolution.ResolutionEvents); n != 2 || out.A.Resolution.Payment.Status != "PAID" {
			t.Fatalf("a: %+v", out.A.Resolution)
		}
		b := out.B.Resolution
		if b.Status != "CUSTOMER_WON" || b.Payment.Status != "REFUNDED" || b.Payment.RefundedAt == nil {
			t.Errorf("b: status %s, payment %+v; want the payment refunded", b.Status, b.Payment)
		}
		if b.Member.Status != "CANCELED" {
			t.Errorf("b: membership %s, want CANCELED", b.Member.Status)
		}
		if n := len(b.ResolutionEvents); n != 3 || b.ResolutionEvents[n-1].Action != "ACCEPTED" {
			t.Errorf("b: events %+v, want created, responded, accepted", b.ResolutionEvents)
		}
	})
}
