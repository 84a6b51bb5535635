package dbtest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
)

var counter atomic.Int64

func next() int64 { return counter.Add(1) }

// Now is the current time at the precision the store keeps.
func Now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// MustCompany creates a company.
func MustCompany(tb testing.TB, d *db.DB) db.Company {
	tb.Helper()
	n := next()
	c, err := d.CreateCompany(context.Background(), fmt.Sprintf("Company %d", n), fmt.Sprintf("company-%d", n), Now())
	if err != nil {
		tb.Fatalf("create company: %v", err)
	}
	return c
}

// MustUser creates a user.
func MustUser(tb testing.TB, d *db.DB) db.User {
	tb.Helper()
	n := next()
	u, err := d.CreateUser(context.Background(), fmt.Sprintf("User %d", n), fmt.Sprintf("user%d", n),
		fmt.Sprintf("user%d@example.com", n), Now())
	if err != nil {
		tb.Fatalf("create user: %v", err)
	}
	return u
}

// MustTeamMember makes u a team member of c.
func MustTeamMember(tb testing.TB, d *db.DB, c db.Company, u db.User) {
	tb.Helper()
	if err := d.AddTeamMember(context.Background(), c.ID, u.ID, Now()); err != nil {
		tb.Fatalf("add team member: %v", err)
	}
}

// MustMembership creates an active membership.
func MustMembership(tb testing.TB, d *db.DB, u db.User, c db.Company) db.Membership {
	tb.Helper()
	m, err := d.CreateMembership(context.Background(), u.ID, c.ID, Now())
	if err != nil {
		tb.Fatalf("create membership: %v", err)
	}
	return m
}

// MustPayment creates a paid payment of 1999 USD cents from u to c, optionally tied
// to a membership.
func MustPayment(tb testing.TB, d *db.DB, u db.User, c db.Company, membershipID string) db.Payment {
	tb.Helper()
	sub := int64(1800)
	p, err := d.CreatePayment(context.Background(), db.NewPayment{UserID: u.ID, CompanyID: c.ID,
		MembershipID: membershipID, Currency: "USD", Total: 1999, Subtotal: &sub, PaidAt: Now()}, Now())
	if err != nil {
		tb.Fatalf("create payment: %v", err)
	}
	return p
}

// Token kinds for MustToken.
const (
	ScopesRead   = "read"
	ScopesManage = "read,manage"
)

// MustToken creates a token and returns its clear text. kind is user, company or
// platform; id is the user or company ID; manage adds the manage scope.
func MustToken(tb testing.TB, d *db.DB, kind db.TokenKind, id string, manage bool) string {
	tb.Helper()
	t := db.Token{Kind: kind, Scopes: []string{"read"}}
	if manage {
		t.Scopes = append(t.Scopes, "manage")
	}
	switch kind {
	case db.TokenUser:
		t.UserID = id
	case db.TokenCompany:
		t.CompanyID = id
	}
	_, clear, err := d.CreateToken(context.Background(), t, Now())
	if err != nil {
		tb.Fatalf("create token: %v", err)
	}
	return clear
}

// MustOpen opens a case on a payment as its customer.
func MustOpen(tb testing.TB, d *db.DB, p db.Payment, issue dispute.Issue, now time.Time) db.Result {
	tb.Helper()
	res, err := d.OpenCase(context.Background(), dispute.DefaultPolicy(), db.OpenRequest{UserID: p.UserID,
		PaymentID: p.ID, Issue: issue, Message: "It never arrived."}, now)
	if err != nil {
		tb.Fatalf("open case: %v", err)
	}
	return res
}

// MustApply applies an action to a case as actor.
func MustApply(tb testing.TB, d *db.DB, caseID string, actor dispute.Actor, action dispute.Action, msg string, now time.Time) db.Result {
	tb.Helper()
	res, err := d.UpdateCase(context.Background(), db.Change{CaseID: caseID, Scope: db.Scope{All: true},
		Decide: func(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
			return dispute.DefaultPolicy().Apply(c, actor, action, dispute.Input{Message: msg}, now)
		}})
	if err != nil {
		tb.Fatalf("apply %s %s: %v", actor, action, err)
	}
	return res
}
