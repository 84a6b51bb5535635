package seed

import (
	"context"
	"sort"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/ids"
)

// stored is everything a seed wrote, read back.
type stored struct {
	companies   []db.Company
	users       []db.User
	team        []db.TeamMember
	memberships []db.Membership
	payments    []db.Payment
	cases       []dispute.Case
	events      map[string][]dispute.Event // by case, in position order
}

func mustLoad(t *testing.T, d *db.DB) *stored {
	t.Helper()
	snap, err := d.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	s := &stored{companies: snap.Companies, users: snap.Users, team: snap.Team, memberships: snap.Memberships,
		payments: snap.Payments, cases: snap.Cases, events: map[string][]dispute.Event{}}
	for _, e := range snap.Events {
		s.events[e.ResolutionID] = append(s.events[e.ResolutionID], e)
	}
	return s
}

// at returns *t, or the zero time for nil (an absent time).
func at(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// checkConsistent asserts what holds for any seeded database, whichever generator
// wrote it: the lifecycle's invariants, the effects on payments and memberships,
// referential sanity, and IDs that sort like created_at. It returns the cases per status.
func checkConsistent(t *testing.T, s *stored, now time.Time, minEvents, maxEvents int) map[dispute.Status]int {
	t.Helper()
	byStatus := map[dispute.Status]int{}
	payments := map[string]db.Payment{}
	for _, p := range s.payments {
		payments[p.ID] = p
	}
	members := map[string]db.Membership{}
	for _, m := range s.memberships {
		members[m.ID] = m
	}
	users := map[string]db.User{}
	for _, u := range s.users {
		users[u.ID] = u
	}
	casePayment := map[string]bool{}
	for _, c := range s.cases {
		st := c.Status
		if !st.Valid() {
			t.Fatalf("case %s: unknown status %q", c.ID, c.Status)
		}
		byStatus[st]++
		evs := s.events[c.ID]
		if len(evs) < minEvents || len(evs) > maxEvents {
			t.Errorf("case %s: %d events, want %d to %d", c.ID, len(evs), minEvents, maxEvents)
		}
		if c.EventCount != len(evs) || c.Version != len(evs) {
			t.Errorf("case %s: event_count %d, version %d, %d events", c.ID, c.EventCount, c.Version, len(evs))
		}
		for i, e := range evs {
			if e.Position != i+1 {
				t.Fatalf("case %s: event %d has position %d", c.ID, i+1, e.Position)
			}
			if i == 0 {
				if e.Action != dispute.EventCreated || !e.CreatedAt.Equal(c.CreatedAt) {
					t.Errorf("case %s: first event %s at %s, case created %s", c.ID, e.Action, e.CreatedAt, c.CreatedAt)
				}
				continue
			}
			prev := evs[i-1]
			if e.FromStatus != prev.ToStatus {
				t.Errorf("case %s: event %d from %s, previous ended in %s", c.ID, e.Position, e.FromStatus, prev.ToStatus)
			}
			if e.CreatedAt.Before(prev.CreatedAt) {
				t.Errorf("case %s: event %d at %s before event %d at %s", c.ID, e.Position, e.CreatedAt, prev.Position, prev.CreatedAt)
			}
		}
		lastEv := evs[len(evs)-1]
		if lastEv.ToStatus != c.Status || !lastEv.CreatedAt.Equal(c.UpdatedAt) {
			t.Errorf("case %s: last event to %s at %s, case %s updated %s", c.ID, lastEv.ToStatus, lastEv.CreatedAt, c.Status, c.UpdatedAt)
		}
		if lastEv.CreatedAt.After(now) {
			t.Errorf("case %s: event in the future (%s > %s)", c.ID, lastEv.CreatedAt, now)
		}
		switch {
		case st == dispute.StatusUnderPlatformReview || !st.Open():
			if c.DueDate != nil {
				t.Errorf("case %s: %s with due date %s", c.ID, st, c.DueDate)
			}
		case !at(c.DueDate).After(now):
			t.Errorf("case %s: open in %s with due date %s not after now %s", c.ID, st, c.DueDate, now)
		}
		if st.Open() != (c.Outcome == "") {
			t.Errorf("case %s: status %s, outcome %q", c.ID, st, c.Outcome)
		}
		// The payment was refunded exactly when the case says so, at the refunding event.
		p, ok := payments[c.PaymentID]
		if !ok || p.UserID != c.UserID || p.CompanyID != c.CompanyID || p.MembershipID != c.MemberID {
			t.Fatalf("case %s: payment %s missing or not the customer's with this company", c.ID, c.PaymentID)
		}
		casePayment[p.ID] = true
		if at(p.PaidAt).After(c.CreatedAt) {
			t.Errorf("case %s: payment made after the case opened", c.ID)
		}
		if c.PaymentRefunded != p.Refunded {
			t.Errorf("case %s: payment_refunded %v, payment refunded %v", c.ID, c.PaymentRefunded, p.Refunded)
		}
		if c.PaymentRefunded {
			refundAt := time.Time{}
			for _, e := range evs {
				if e.Action == dispute.EventAccepted {
					refundAt = e.CreatedAt
					break
				}
			}
			if p.RefundedAmount != p.Total || !at(p.RefundedAt).Equal(refundAt) {
				t.Errorf("case %s: refunded %d of %d at %s, first accepted event at %s", c.ID, p.RefundedAmount, p.Total, p.RefundedAt, refundAt)
			}
		}
		if c.MemberID != "" {
			m := members[c.MemberID]
			if m.UserID != c.UserID || m.CompanyID != c.CompanyID || m.CreatedAt.After(at(p.PaidAt)) {
				t.Errorf("case %s: membership %s not the customer's or started after the payment", c.ID, c.MemberID)
			}
			if m.Active != (m.CanceledAt == nil) {
				t.Errorf("membership %s: active %v, canceled_at %v", m.ID, m.Active, m.CanceledAt)
			}
			if !m.Active {
				found := false
				for _, e := range evs {
					found = found || e.Action == dispute.EventAccepted && e.Reporter == dispute.ActorMerchant && e.CreatedAt.Equal(at(m.CanceledAt))
				}
				if !found {
					t.Errorf("case %s: membership canceled at %s, not by the merchant's accept", c.ID, m.CanceledAt)
				}
			}
		}
		if u := users[c.UserID]; u.CreatedAt.After(at(p.PaidAt)) {
			t.Errorf("case %s: customer signed up after paying", c.ID)
		}
	}
	// Every reference resolves (on PostgreSQL the bulk load runs without the
	// foreign-key triggers, so this is the check).
	companies := map[string]bool{}
	for _, c := range s.companies {
		companies[c.ID] = true
	}
	cases := map[string]bool{}
	for _, c := range s.cases {
		cases[c.ID] = true
		if !companies[c.CompanyID] || users[c.UserID].ID == "" {
			t.Errorf("case %s: company %s or user %s missing", c.ID, c.CompanyID, c.UserID)
		}
	}
	for id := range s.events {
		if !cases[id] {
			t.Errorf("events of missing case %s", id)
		}
	}
	for _, p := range s.payments {
		if !companies[p.CompanyID] || users[p.UserID].ID == "" {
			t.Errorf("payment %s: company %s or user %s missing", p.ID, p.CompanyID, p.UserID)
		}
		if m, ok := members[p.MembershipID]; p.MembershipID != "" && (!ok || m.UserID != p.UserID || m.CompanyID != p.CompanyID) {
			t.Errorf("payment %s: membership %s missing or someone else's", p.ID, p.MembershipID)
		}
	}
	for _, m := range s.memberships {
		if !companies[m.CompanyID] || users[m.UserID].ID == "" {
			t.Errorf("membership %s: company %s or user %s missing", m.ID, m.CompanyID, m.UserID)
		}
	}
	for _, tm := range s.team {
		if !companies[tm.CompanyID] || users[tm.UserID].ID == "" {
			t.Errorf("team member %s of %s missing", tm.UserID, tm.CompanyID)
		}
	}
	// Payments without a case are paid, never refunded.
	for _, p := range s.payments {
		if !casePayment[p.ID] && (p.Refunded || p.RefundedAmount != 0) {
			t.Errorf("payment %s without a case is refunded", p.ID)
		}
		if p.Subtotal != nil && (*p.Subtotal < 0 || *p.Subtotal > p.Total) {
			t.Errorf("payment %s: subtotal %d of %d", p.ID, *p.Subtotal, p.Total)
		}
	}
	// IDs have the right prefix and sort like created_at.
	checkOrder(t, ids.Company, len(s.companies), func(i int) (string, time.Time) { return s.companies[i].ID, s.companies[i].CreatedAt })
	checkOrder(t, ids.User, len(s.users), func(i int) (string, time.Time) { return s.users[i].ID, s.users[i].CreatedAt })
	checkOrder(t, ids.Membership, len(s.memberships), func(i int) (string, time.Time) { return s.memberships[i].ID, s.memberships[i].CreatedAt })
	checkOrder(t, ids.Payment, len(s.payments), func(i int) (string, time.Time) { return s.payments[i].ID, s.payments[i].CreatedAt })
	checkOrder(t, ids.Resolution, len(s.cases), func(i int) (string, time.Time) { return s.cases[i].ID, s.cases[i].CreatedAt })
	var all []dispute.Event
	for _, evs := range s.events {
		all = append(all, evs...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	checkOrder(t, ids.Event, len(all), func(i int) (string, time.Time) { return all[i].ID, all[i].CreatedAt })
	return byStatus
}

// checkOrder asserts that rows sorted by ID have non-decreasing created_at and IDs
// whose time part is created_at.
func checkOrder(t *testing.T, prefix string, n int, row func(int) (string, time.Time)) {
	t.Helper()
	type pair struct {
		id string
		at time.Time
	}
	rows := make([]pair, n)
	for i := range rows {
		rows[i].id, rows[i].at = row(i)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].id < rows[j].id })
	var prevID string
	var prevT time.Time
	for i, r := range rows {
		id, at := r.id, r.at
		if !ids.Is(id, prefix) {
			t.Fatalf("ID %q is not a %s ID", id, prefix)
		}
		if i > 0 && (id <= prevID || at.Before(prevT)) {
			t.Fatalf("%s IDs out of time order: %s (%s) after %s (%s)", prefix, id, at, prevID, prevT)
		}
		if at.Location() != time.UTC && !at.Equal(at.UTC()) || !at.Equal(at.Truncate(time.Millisecond)) {
			t.Fatalf("%s %s: created_at %s is not whole milliseconds", prefix, id, at)
		}
		prevID, prevT = id, at
	}
}
