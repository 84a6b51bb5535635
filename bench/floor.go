package main

import (
	"fmt"
	"time"
)

// The floor: the list scenario's data (a page of 20 cases, their companies, users,
// payments, memberships and 10 latest events each) read with plain SQL, straight
// from the database, and JSON-encoded, with no GraphQL server in between. On
// PostgreSQL it uses pgx: the page, then the five lookups in one pipelined batch.

type money struct {
	Amount     string `json:"amount"`
	Currency   string `json:"currency"`
	MinorUnits int64  `json:"minorUnits"`
}

type floorCompany struct {
	ID, Title, Route string
	CreatedAt        time.Time
}

type floorUser struct {
	ID       string  `json:"id"`
	Name     *string `json:"name"`
	Username string  `json:"username"`
	Email    string  `json:"email"`
}

type floorPayment struct {
	ID, Status, Currency string
	Total, Refunded      money
	PaidAt               *time.Time
	CreatedAt            time.Time
}

type floorMember struct {
	ID, Status string
	CreatedAt  time.Time
	CanceledAt *time.Time
}

type floorEvent struct {
	ID, Action, ReporterType, FromStatus, ToStatus string
	Details                                        *string
	CreatedAt                                      time.Time
	Position                                       int
	caseID                                         string
}

type floorCase struct {
	ID, Status, Issue                  string
	CreatedAt, UpdatedAt               time.Time
	DueDate                            *time.Time
	CustomerAppealed, MerchantAppealed bool
	Outcome, Refund                    *string
	Version                            int
	Company                            *floorCompany
	User                               *floorUser
	Payment                            *floorPayment
	Member                             *floorMember
	Events                             []floorEvent
	companyID, userID, paymentID       string
	memberID                           *string
}

const (
	floorPageSQL = `SELECT id, status, issue, company_id, user_id, payment_id, member_id, created_at, updated_at,
  due_date, customer_appealed, merchant_appealed, outcome, refund, version
FROM resolutions ORDER BY created_at DESC, id DESC LIMIT 21`
	floorCompaniesSQL = `SELECT id, title, route, created_at FROM companies WHERE id %s`
	floorUsersSQL     = `SELECT id, name, username, email FROM users WHERE id %s`
	floorPaymentsSQL  = `SELECT id, status, currency, total, refunded_amount, paid_at, created_at FROM payments WHERE id %s`
	floorMembersSQL   = `SELECT id, status, created_at, canceled_at FROM memberships WHERE id %s`
	floorEventsSQL    = `SELECT id, resolution_id, position, action, reporter_type, details, from_status, to_status, created_at
FROM (SELECT e.*, row_number() OVER (PARTITION BY e.resolution_id ORDER BY e.position DESC) AS rn
      FROM resolution_events AS e WHERE e.resolution_id %s) AS t
WHERE t.rn <= 11 ORDER BY t.resolution_id, t.rn`
)

// floorStatements is how many statements one floor request runs.
const floorStatements = 6

// rowScanner is what pgx.Rows and *sql.Rows have in common.
type rowScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

func scanPage(rs rowScanner) ([]*floorCase, error) {
	var out []*floorCase
	for rs.Next() {
		c := &floorCase{}
		if err := rs.Scan(&c.ID, &c.Status, &c.Issue, &c.companyID, &c.userID, &c.paymentID, &c.memberID,
			&c.CreatedAt, &c.UpdatedAt, &c.DueDate, &c.CustomerAppealed, &c.MerchantAppealed, &c.Outcome,
			&c.Refund, &c.Version); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) > 20 {
		out = out[:20]
	}
	return out, rs.Err()
}

// lookup scans a result set into the cases it belongs to.
type lookup struct {
	sql  string
	ids  func(*floorCase) []string
	scan func(rowScanner, []*floorCase) error
}

func index[T any](cases []*floorCase, key func(*floorCase) []string, set func(*floorCase, *T)) func(string, *T) {
	by := map[string][]*floorCase{}
	for _, c := range cases {
		for _, k := range key(c) {
			by[k] = append(by[k], c)
		}
	}
	return func(id string, v *T) {
		for _, c := range by[id] {
			set(c, v)
		}
	}
}

func one(s string) []string { return []string{s} }

var floorLookups = []lookup{
	{floorCompaniesSQL, func(c *floorCase) []string { return one(c.companyID) }, func(rs rowScanner, cs []*floorCase) error {
		put := index(cs, func(c *floorCase) []string { return one(c.companyID) }, func(c *floorCase, v *floorCompany) { c.Company = v })
		for rs.Next() {
			v := &floorCompany{}
			if err := rs.Scan(&v.ID, &v.Title, &v.Route, &v.CreatedAt); err != nil {
				return err
			}
			put(v.ID, v)
		}
		return rs.Err()
	}},
	{floorUsersSQL, func(c *floorCase) []string { return one(c.userID) }, func(rs rowScanner, cs []*floorCase) error {
		put := index(cs, func(c *floorCase) []string { return one(c.userID) }, func(c *floorCase, v *floorUser) { c.User = v })
		for rs.Next() {
			v := &floorUser{}
			if err := rs.Scan(&v.ID, &v.Name, &v.Username, &v.Email); err != nil {
				return err
			}
			put(v.ID, v)
		}
		return rs.Err()
	}},
	{floorPaymentsSQL, func(c *floorCase) []string { return one(c.paymentID) }, func(rs rowScanner, cs []*floorCase) error {
		put := index(cs, func(c *floorCase) []string { return one(c.paymentID) }, func(c *floorCase, v *floorPayment) { c.Payment = v })
		for rs.Next() {
			v := &floorPayment{}
			var total, refunded int64
			if err := rs.Scan(&v.ID, &v.Status, &v.Currency, &total, &refunded, &v.PaidAt, &v.CreatedAt); err != nil {
				return err
			}
			v.Total, v.Refunded = toMoney(total, v.Currency), toMoney(refunded, v.Currency)
			put(v.ID, v)
		}
		return rs.Err()
	}},
	{floorMembersSQL, func(c *floorCase) []string {
		if c.memberID == nil {
			return nil
		}
		return one(*c.memberID)
	}, func(rs rowScanner, cs []*floorCase) error {
		put := index(cs, func(c *floorCase) []string {
			if c.memberID == nil {
				return nil
			}
			return one(*c.memberID)
		}, func(c *floorCase, v *floorMember) { c.Member = v })
		for rs.Next() {
			v := &floorMember{}
			if err := rs.Scan(&v.ID, &v.Status, &v.CreatedAt, &v.CanceledAt); err != nil {
				return err
			}
			put(v.ID, v)
		}
		return rs.Err()
	}},
	{floorEventsSQL, func(c *floorCase) []string { return one(c.ID) }, func(rs rowScanner, cs []*floorCase) error {
		byID := map[string]*floorCase{}
		for _, c := range cs {
			byID[c.ID] = c
		}
		for rs.Next() {
			var v floorEvent
			if err := rs.Scan(&v.ID, &v.caseID, &v.Position, &v.Action, &v.ReporterType, &v.Details, &v.FromStatus,
				&v.ToStatus, &v.CreatedAt); err != nil {
				return err
			}
			if c := byID[v.caseID]; c != nil {
				c.Events = append(c.Events, v)
			}
		}
		return rs.Err()
	}},
}

func toMoney(minor int64, currency string) money {
	if currency == "JPY" {
		return money{fmt.Sprint(minor), currency, minor}
	}
	return money{fmt.Sprintf("%d.%02d", minor/100, minor%100), currency, minor}
}

func distinctIDs(cases []*floorCase, key func(*floorCase) []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range cases {
		for _, k := range key(c) {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}
