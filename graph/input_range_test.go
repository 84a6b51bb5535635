package graph_test

import (
	"strings"
	"testing"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// TestDateTimeRange: DateTime inputs outside the years 1 to 9999 (UTC) are
// INVALID_ARGUMENT naming the argument, on every argument and both engines, and
// nothing is created; the bounds themselves are stored and read back. Issue 11: year
// 0000 answered INTERNAL on PostgreSQL ("out of range") and was stored by SQLite.
func TestDateTimeRange(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d)
		c := dbtest.MustCast(t, d)
		dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
		tok := apptest.PlatformToken
		bad := []string{"0000-01-01T00:00:00Z", "0001-01-01T00:30:00+01:00", "-0001-01-01T00:00:00Z"}
		for _, v := range bad {
			for _, tc := range []struct{ query, field string }{
				{`query($v: DateTime) { resolutions(filter: {createdAfter: $v}) { edges { node { id } } } }`, "filter.createdAfter"},
				{`query($v: DateTime) { resolutions(filter: {createdBefore: $v}) { edges { node { id } } } }`, "filter.createdBefore"},
				{`query($v: DateTime) { resolutions(filter: {dueBefore: $v}) { edges { node { id } } } }`, "filter.dueBefore"},
				{`query($v: DateTime) { resolutionSummary(filter: {createdAfter: $v}) { total } }`, "filter.createdAfter"},
				{`query($v: DateTime) { resolutionSummary(filter: {createdBefore: $v}) { total } }`, "filter.createdBefore"},
				{`query($v: DateTime) { resolutionSummary(filter: {dueBefore: $v}) { total } }`, "filter.dueBefore"},
				{`mutation($v: DateTime, $u: ID!, $c: ID!) { createPayment(input: {userId: $u, companyId: $c, currency: "USD", totalMinor: 100, paidAt: $v}) { payment { id } } }`, "input.paidAt"},
			} {
				r := s.Do(t, tok, tc.query, map[string]any{"v": v, "u": c.Customer.ID, "c": c.Company.ID})
				if r.FirstCode() != "INVALID_ARGUMENT" || r.Errors[0].Extensions["field"] != tc.field || len(r.Errors) != 1 {
					t.Errorf("%s as %s: %s, want INVALID_ARGUMENT with field %s", v, tc.field, apptest.Trunc(r.Raw, 300), tc.field)
				}
			}
		}
		// The same out-of-range value written in the document, not a variable.
		r := s.Do(t, tok, `{ resolutions(filter: {createdAfter: "0000-01-01T00:00:00Z"}) { edges { node { id } } } }`, nil)
		if r.FirstCode() != "INVALID_ARGUMENT" || r.Errors[0].Extensions["field"] != "filter.createdAfter" {
			t.Errorf("literal: %s", r.Raw)
		}
		// The bounds are accepted, stored and read back unchanged (a payment's paidAt at
		// the first instant of year 1 is refused: it is the zero time, "not paid").
		if r := s.Do(t, tok, `mutation($u: ID!, $c: ID!) { createPayment(input: {userId: $u, companyId: $c, currency: "USD", totalMinor: 100, paidAt: "0001-01-01T00:00:00Z"}) { payment { id } userErrors { code field } } }`,
			map[string]any{"u": c.Customer.ID, "c": c.Company.ID}); !strings.Contains(string(r.Data), `"userErrors":[{"code":"INVALID_ARGUMENT","field":"paidAt"}]`) {
			t.Errorf("paidAt at the zero time: %s", r.Raw)
		}
		for _, v := range []string{"0001-01-01T00:00:00.001Z", "9999-12-31T23:59:59.999Z"} {
			var out struct {
				CreatePayment struct{ Payment struct{ ID, PaidAt string } }
			}
			s.MustData(t, tok, `mutation($v: DateTime, $u: ID!, $c: ID!) { createPayment(input: {userId: $u, companyId: $c, currency: "USD", totalMinor: 100, paidAt: $v}) { payment { id paidAt } } }`,
				map[string]any{"v": v, "u": c.Customer.ID, "c": c.Company.ID}, &out)
			if out.CreatePayment.Payment.PaidAt != v {
				t.Errorf("paidAt %s came back as %q", v, out.CreatePayment.Payment.PaidAt)
			}
			var read struct{ Node struct{ PaidAt string } }
			s.MustData(t, tok, `query($id: ID!) { node(id: $id) { ... on Payment { paidAt } } }`, map[string]any{"id": out.CreatePayment.Payment.ID}, &read)
			if read.Node.PaidAt != v {
				t.Errorf("paidAt %s read back as %q", v, read.Node.PaidAt)
			}
		}
		for _, v := range []string{"0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"} {
			r := s.Do(t, tok, `query($v: DateTime) { resolutions(filter: {createdAfter: $v, dueBefore: $v}) { edges { node { id } } } resolutionSummary(filter: {createdBefore: $v}) { total } }`, map[string]any{"v": v})
			if len(r.Errors) > 0 {
				t.Errorf("filters at %s: %s", v, r.Raw)
			}
		}
	})
}
