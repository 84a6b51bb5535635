package db

import (
	"context"
	"slices"

	"github.com/uptrace/bun/schema"

	"resolutioncenter/dispute"
)

// Summary counts the cases in scope matching a filter.
type Summary struct {
	Total int
	Open  int
	// WaitingOnViewer counts the cases that wait on the viewer (Filter.WaitingOnViewer).
	WaitingOnViewer int
	ByStatus        map[dispute.Status]int
	ByIssue         map[dispute.Issue]int
	ByOutcome       map[dispute.Outcome]int
}

// SummarizeCases counts the cases in scope matching f by status, issue and outcome,
// and those waiting on the viewer. Without a date condition it reads the counts (a few
// dozen rows per company or customer in scope, plus, for a team member, their own
// cases at their companies); with one it reads the matching cases through the indexes,
// which costs in proportion to their number. One statement either way, the one Read
// runs for a CountRead with Summary.
func (d *DB) SummarizeCases(ctx context.Context, s Scope, f Filter) (Summary, error) {
	return d.summarize(ctx, CountRead{Scope: s, Filter: f, Summary: true})
}

// CountCases counts the cases in scope matching f (a connection's totalCount): from
// the counts as SummarizeCases does, else one count(*) over the matching cases. One
// statement either way, the one Read runs for a CountRead.
func (d *DB) CountCases(ctx context.Context, s Scope, f Filter) (int, error) {
	sum, err := d.summarize(ctx, CountRead{Scope: s, Filter: f})
	return sum.Total, err
}

// summarize runs r's statement (counting).
func (d *DB) summarize(ctx context.Context, r CountRead) (Summary, error) {
	var sum Summary
	if d.pool != nil {
		q, err := d.pgCounting(r, &sum)
		if err != nil {
			return Summary{}, err
		}
		if err := d.pgRun(ctx, []pgQueued{q}); err != nil {
			return Summary{}, mapErr(err)
		}
		return sum, nil
	}
	c := d.counting(r, nil)
	sum = newSummary()
	var err error
	switch c.kind {
	case countsRows:
		var rows []countRow
		if err = c.query.Scan(ctx, &rows); err == nil {
			for _, row := range rows {
				c.plan.addRow(&sum, r.Filter, row.Scope, row.Status, row.Issue, row.Outcome, row.N)
			}
		}
	case caseGroups:
		var rows []caseGroupRow
		if err = c.query.Scan(ctx, &rows); err == nil {
			for _, row := range rows {
				sum.add(r.Filter, r.Scope.role(row.Own == 1), row.Status, row.Issue, row.Outcome, row.N)
			}
		}
	default:
		err = c.query.Scan(ctx, &sum.Total)
	}
	if err != nil {
		return Summary{}, mapErr(err)
	}
	return sum, nil
}

// countingQuery is a counting statement as bun builds it.
type countingQuery interface {
	schema.QueryAppender
	Scan(ctx context.Context, dest ...any) error
}

// countingKind says what a counting statement's rows are.
type countingKind uint8

const (
	// countsRows: rows of case_counts (scope, status, issue, outcome, n), added up as
	// the plan says.
	countsRows countingKind = iota
	// caseGroups: the matching cases grouped by whether the viewer opened them, status,
	// issue and outcome (own, status, issue, outcome, n).
	caseGroups
	// caseTotal: one count(*) of the matching cases.
	caseTotal
)

// counting is the one statement that answers r: from the counts when planCounts can,
// else over the matching cases (grouped for a summary, one count(*) for a total; over
// no case for a scope of nothing). a writes its arguments (nil: inline).
type counting struct {
	query countingQuery
	kind  countingKind
	plan  countPlan
}

func (d *DB) counting(r CountRead, a *sqlArgs) counting {
	s, f := r.Scope, r.Filter
	if p, ok := planCounts(s, f); ok && len(p.parts) > 0 {
		query, args := countsQuery(p, a)
		return counting{query: d.bun.NewRaw(query, args...), kind: countsRows, plan: p}
	}
	q := d.bun.NewSelect().ModelTableExpr("resolutions AS r")
	if !r.Summary {
		return counting{query: f.apply(s.apply(q.ColumnExpr("count(*) AS n"), a), a, s), kind: caseTotal}
	}
	if !s.All && s.UserID != "" {
		q = q.ColumnExpr("CASE WHEN r.user_id = ? THEN 1 ELSE 0 END AS own", a.arg(s.UserID))
	} else {
		q = q.ColumnExpr("0 AS own")
	}
	q = q.ColumnExpr("r.status, r.issue, coalesce(r.outcome, '') AS outcome, count(*) AS n").
		GroupExpr("r.status, r.issue, r.outcome, own")
	return counting{query: f.apply(s.apply(q, a), a, s), kind: caseGroups}
}

// countRow is a row of a countsRows statement.
type countRow struct {
	Scope   string `bun:"scope"`
	Status  string `bun:"status"`
	Issue   string `bun:"issue"`
	Outcome string `bun:"outcome"`
	N       int    `bun:"n"`
}

// caseGroupRow is a row of a caseGroups statement.
type caseGroupRow struct {
	Own     int    `bun:"own"`
	Status  string `bun:"status"`
	Issue   string `bun:"issue"`
	Outcome string `bun:"outcome"`
	N       int    `bun:"n"`
}

func newSummary() Summary {
	return Summary{ByStatus: map[dispute.Status]int{}, ByIssue: map[dispute.Issue]int{}, ByOutcome: map[dispute.Outcome]int{}}
}

// add counts n cases (n < 0 takes them out) in this status, issue and outcome, seen by
// a viewer in role, if they match f's conditions on those three and on waiting.
func (sum *Summary) add(f Filter, role dispute.Actor, status, issue, outcome string, n int) {
	st, is, oc := dispute.Status(status), dispute.Issue(issue), dispute.Outcome(outcome)
	if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, st) ||
		len(f.Issues) > 0 && !slices.Contains(f.Issues, is) ||
		f.Outcome != "" && f.Outcome != oc {
		return
	}
	waiting := dispute.WaitingOn(st, role)
	if f.WaitingOnViewer && !waiting {
		return
	}
	sum.Total += n
	if st.Open() {
		sum.Open += n
	}
	if waiting {
		sum.WaitingOnViewer += n
	}
	sum.ByStatus[st] += n
	sum.ByIssue[is] += n
	if oc != "" {
		sum.ByOutcome[oc] += n
	}
}

// countPart is a set of cases the viewer sees in one role, added (sign 1) or taken out
// (sign -1): the counts of some scopes, or (overlap) the viewer's own cases at the
// plan's companies, counted from the cases.
type countPart struct {
	scopes  []string
	overlap bool
	sign    int
	role    dispute.Actor
}

// countPlan is a way to count from the counts.
type countPlan struct {
	parts []countPart
	// The overlap parts' cases: opened by user at one of companies.
	user      string
	companies []string
}

// planCounts says how to count the cases of scope s matching f from case_counts, or
// ok=false when only the cases can tell: a date condition, or one customer's cases
// among a company's (a customer has few cases: their index serves it).
//
// A team member sees the cases they opened (as the customer) and their companies'
// (as the merchant); a case they opened at one of their companies is both, and they
// are its customer there (as auth's RoleOn decides). So their counts are their own
// scope's plus their companies' minus those overlapping cases as the merchant, which
// come from the cases (a handful: the customer's index).
func planCounts(s Scope, f Filter) (countPlan, bool) {
	if f.CreatedBefore != nil || f.CreatedAfter != nil || f.DueBefore != nil || f.CompanyID != "" && f.UserID != "" {
		return countPlan{}, false
	}
	one := func(scope string, role dispute.Actor) countPlan {
		return countPlan{parts: []countPart{{scopes: []string{scope}, sign: 1, role: role}}}
	}
	if s.All {
		switch {
		case f.CompanyID != "":
			return one(f.CompanyID, dispute.ActorPlatform), true
		case f.UserID != "":
			return one(f.UserID, dispute.ActorPlatform), true
		}
		return one(globalScope, dispute.ActorPlatform), true
	}
	companies := slices.Compact(slices.Sorted(slices.Values(s.CompanyIDs)))
	switch {
	case f.UserID != "":
		if f.UserID != s.UserID {
			return countPlan{}, false
		}
		return one(s.UserID, dispute.ActorCustomer), true
	case f.CompanyID != "":
		if !slices.Contains(companies, f.CompanyID) {
			return countPlan{}, false // at most the viewer's own cases there
		}
		p := one(f.CompanyID, dispute.ActorMerchant)
		if s.UserID != "" {
			p.user, p.companies = s.UserID, []string{f.CompanyID}
			p.parts = append(p.parts, countPart{overlap: true, sign: -1, role: dispute.ActorMerchant},
				countPart{overlap: true, sign: 1, role: dispute.ActorCustomer})
		}
		return p, true
	}
	var p countPlan
	if s.UserID != "" {
		p.parts = append(p.parts, countPart{scopes: []string{s.UserID}, sign: 1, role: dispute.ActorCustomer})
	}
	if len(companies) > 0 {
		p.parts = append(p.parts, countPart{scopes: companies, sign: 1, role: dispute.ActorMerchant})
	}
	if s.UserID != "" && len(companies) > 0 {
		p.user, p.companies = s.UserID, companies
		p.parts = append(p.parts, countPart{overlap: true, sign: -1, role: dispute.ActorMerchant})
	}
	return p, true
}

// countsQuery is a plan's statement: the counts of its scopes, summed over slots, and
// the overlapping cases (scope ""). a writes the arguments (nil: inline).
func countsQuery(p countPlan, a *sqlArgs) (string, []any) {
	var scopes []string
	for _, part := range p.parts {
		scopes = append(scopes, part.scopes...)
	}
	var query string
	var args []any
	if len(scopes) > 0 {
		cond, arg := a.in("scope", scopes)
		query = "SELECT scope, status, issue, outcome, CAST(sum(n) AS bigint) AS n FROM case_counts WHERE " + cond +
			" GROUP BY scope, status, issue, outcome"
		args = append(args, arg)
	}
	if p.user != "" {
		if query != "" {
			query += " UNION ALL "
		}
		user := a.arg(p.user)
		cond, arg := a.in("r.company_id", p.companies)
		query += "SELECT '' AS scope, r.status, r.issue, coalesce(r.outcome, '') AS outcome, count(*) AS n " +
			"FROM resolutions AS r WHERE r.user_id = ? AND " + cond + " GROUP BY r.status, r.issue, r.outcome"
		args = append(args, user, arg)
	}
	return query, args
}

// addRow adds a row of the plan's statement to sum, in each part it belongs to.
func (p countPlan) addRow(sum *Summary, f Filter, scope, status, issue, outcome string, n int) {
	for _, part := range p.parts {
		if part.overlap == (scope == "") && (part.overlap || slices.Contains(part.scopes, scope)) {
			sum.add(f, part.role, status, issue, outcome, part.sign*n)
		}
	}
}

// role is the viewer's role on a case in scope, given whether the viewer opened it:
// the platform sees everything as the platform, a user their own cases as the customer
// (even at their own company, as auth's RoleOn decides) and their companies' others as
// the merchant, a company key its cases as the merchant.
func (s Scope) role(own bool) dispute.Actor {
	switch {
	case s.All:
		return dispute.ActorPlatform
	case own:
		return dispute.ActorCustomer
	}
	return dispute.ActorMerchant
}

// waitingCond is the condition, on resolutions aliased "r", of the cases in scope
// that wait on the viewer in their role on each (see role).
func (s Scope) waitingCond(a *sqlArgs) (string, []any) {
	status := func(actor dispute.Actor) (string, any) {
		return a.in("r.status", strs(dispute.StatusesWaitingOn(actor)))
	}
	switch {
	case s.All:
		c, v := status(dispute.ActorPlatform)
		return c, []any{v}
	case s.UserID != "" && len(s.CompanyIDs) > 0:
		u1 := a.arg(s.UserID)
		cc, cv := status(dispute.ActorCustomer)
		u2 := a.arg(s.UserID)
		ic, iv := a.in("r.company_id", s.CompanyIDs)
		mc, mv := status(dispute.ActorMerchant)
		return "((r.user_id = ? AND " + cc + ") OR (r.user_id <> ? AND " + ic + " AND " + mc + "))",
			[]any{u1, cv, u2, iv, mv}
	case s.UserID != "":
		u := a.arg(s.UserID)
		c, v := status(dispute.ActorCustomer)
		return "(r.user_id = ? AND " + c + ")", []any{u, v}
	case len(s.CompanyIDs) > 0:
		ic, iv := a.in("r.company_id", s.CompanyIDs)
		c, v := status(dispute.ActorMerchant)
		return "(" + ic + " AND " + c + ")", []any{iv, v}
	}
	return "1 = 0", nil
}
