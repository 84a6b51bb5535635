package db

import (
	"context"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
)

// Scope limits what a query may see: everything (the platform), or the cases of one
// customer and of some companies (a user token), or of one company (a company key).
type Scope struct {
	All        bool
	UserID     string
	CompanyIDs []string
}

// apply narrows q, whose resolutions table is aliased "r", to the scope; a writes the
// arguments (nil: inline).
func (s Scope) apply(q *bun.SelectQuery, a *sqlArgs) *bun.SelectQuery {
	if s.All {
		return q
	}
	return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		if s.UserID != "" {
			q = q.WhereOr("r.user_id = ?", a.arg(s.UserID))
		}
		if len(s.CompanyIDs) > 0 {
			q = q.WhereOr(a.in("r.company_id", s.CompanyIDs))
		}
		if s.UserID == "" && len(s.CompanyIDs) == 0 {
			q = q.Where("1 = 0")
		}
		return q
	})
}

// covers reports whether case c is in the scope: apply's condition, in memory.
func (s Scope) covers(c dispute.Case) bool {
	return s.All || (s.UserID != "" && c.UserID == s.UserID) || slices.Contains(s.CompanyIDs, c.CompanyID)
}

// Filter selects cases; every set condition must hold.
type Filter struct {
	CompanyID     string
	UserID        string
	Statuses      []dispute.Status
	Issues        []dispute.Issue
	Outcome       dispute.Outcome
	CreatedBefore *time.Time
	CreatedAfter  *time.Time
	DueBefore     *time.Time
	// WaitingOnViewer keeps the cases that wait on the viewer whose scope the query
	// has (see Scope.roleOn and dispute.Status.WaitsOn).
	WaitingOnViewer bool
}

// apply narrows q, already narrowed to scope s, to the filter; a writes the arguments
// (nil: inline).
func (f Filter) apply(q *bun.SelectQuery, a *sqlArgs, s Scope) *bun.SelectQuery {
	if f.WaitingOnViewer {
		cond, args := s.waitingCond(a)
		q = q.Where(cond, args...)
	}
	if f.CompanyID != "" {
		q = q.Where("r.company_id = ?", a.arg(f.CompanyID))
	}
	if f.UserID != "" {
		q = q.Where("r.user_id = ?", a.arg(f.UserID))
	}
	if len(f.Statuses) > 0 {
		q = q.Where(a.in("r.status", strs(f.Statuses)))
	}
	if len(f.Issues) > 0 {
		q = q.Where(a.in("r.issue", strs(f.Issues)))
	}
	if f.Outcome != "" {
		q = q.Where("r.outcome = ?", a.arg(string(f.Outcome)))
	}
	if f.CreatedBefore != nil {
		q = q.Where("r.created_at < ?", a.arg(f.CreatedBefore.UTC()))
	}
	if f.CreatedAfter != nil {
		q = q.Where("r.created_at >= ?", a.arg(f.CreatedAfter.UTC()))
	}
	if f.DueBefore != nil {
		q = q.Where("r.due_date < ?", a.arg(f.DueBefore.UTC()))
	}
	return q
}

// OrderField is a column cases can be ordered by; the ID breaks ties.
type OrderField string

// The order fields.
const (
	OrderCreatedAt OrderField = "created_at"
	OrderDueDate   OrderField = "due_date"
)

// Key is a position in an ordering: the order field's value (nil for a case without a
// deadline, which sorts after every deadline) and the ID.
type Key struct {
	Time *time.Time
	ID   string
}

// Page asks for up to Limit cases after After (or, with Backward, before Before) in the
// order (Field, Desc). Backward pages are returned in the order's direction too.
type Page struct {
	Field    OrderField
	Desc     bool
	Limit    int
	After    *Key
	Before   *Key
	Backward bool
}

// ListResult is a page of cases and whether more follow in the direction of travel.
type ListResult struct {
	Cases []dispute.Case
	More  bool
}

// KeyOf returns c's position in an ordering by field.
func KeyOf(c dispute.Case, field OrderField) Key {
	if field == OrderDueDate {
		return Key{Time: c.DueDate, ID: c.ID}
	}
	t := c.CreatedAt
	return Key{Time: &t, ID: c.ID}
}

// ListCases returns one keyset page of the cases in scope that match f. It costs one
// indexed range scan whatever the depth of the page.
func (d *DB) ListCases(ctx context.Context, s Scope, f Filter, p Page) (ListResult, error) {
	// Travel direction: forward in the order, or backward from Before.
	desc := p.Desc
	cursor := p.After
	if p.Backward {
		desc = !desc
		cursor = p.Before
	}
	rows, err := d.selectCases(ctx, func(q *bun.SelectQuery, a *sqlArgs) *bun.SelectQuery {
		q = f.apply(s.apply(q, a), a, s)
		if cursor != nil {
			q = keysetAfter(q, p.Field, desc, *cursor, a)
		}
		col := "r." + string(p.Field)
		if desc {
			q = q.OrderExpr(col + " DESC NULLS FIRST").OrderExpr("r.id DESC")
		} else {
			q = q.OrderExpr(col + " ASC NULLS LAST").OrderExpr("r.id ASC")
		}
		return q.Limit(int64(p.Limit) + 1)
	})
	if err != nil {
		return ListResult{}, err
	}
	res := ListResult{More: len(rows) > p.Limit}
	if res.More {
		rows = rows[:p.Limit]
	}
	res.Cases = make([]dispute.Case, len(rows))
	for i, r := range rows {
		if p.Backward {
			res.Cases[len(rows)-1-i] = toDomainCase(r)
		} else {
			res.Cases[i] = toDomainCase(r)
		}
	}
	return res, nil
}

// keysetAfter keeps the rows strictly after k when travelling in direction desc. A nil
// time (no deadline) counts as later than every time.
func keysetAfter(q *bun.SelectQuery, field OrderField, desc bool, k Key, a *sqlArgs) *bun.SelectQuery {
	if field == OrderCreatedAt {
		if desc {
			return q.Where("(r.created_at, r.id) < (?, ?)", a.arg(k.Time.UTC()), a.arg(k.ID))
		}
		return q.Where("(r.created_at, r.id) > (?, ?)", a.arg(k.Time.UTC()), a.arg(k.ID))
	}
	switch {
	case !desc && k.Time != nil: // later deadline, or none, or same deadline and later id
		t := a.arg(k.Time.UTC())
		return q.Where("(r.due_date > ? OR r.due_date IS NULL OR (r.due_date = ? AND r.id > ?))", t, t, a.arg(k.ID))
	case !desc: // among the no-deadline cases, later id
		return q.Where("(r.due_date IS NULL AND r.id > ?)", a.arg(k.ID))
	case k.Time != nil: // earlier deadline, or same and earlier id
		t := a.arg(k.Time.UTC())
		return q.Where("(r.due_date < ? OR (r.due_date = ? AND r.id < ?))", t, t, a.arg(k.ID))
	default: // every case with a deadline, or no deadline and earlier id
		return q.Where("(r.due_date IS NOT NULL OR r.id < ?)", a.arg(k.ID))
	}
}

// VisibleCases returns the cases with the given IDs that are in scope, keyed by ID.
func (d *DB) VisibleCases(ctx context.Context, s Scope, ids []string) (map[string]dispute.Case, error) {
	out := make(map[string]dispute.Case, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := d.selectCases(ctx, func(q *bun.SelectQuery, a *sqlArgs) *bun.SelectQuery {
		return s.apply(q.Where(a.in("r.id", ids)), a)
	})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = toDomainCase(r)
	}
	return out, nil
}

// CasesByID returns every case with the given IDs, whoever may see it (for the hub
// and the sweeper, which act for nobody), keyed by ID.
func (d *DB) CasesByID(ctx context.Context, ids []string) (map[string]dispute.Case, error) {
	return d.VisibleCases(ctx, Scope{All: true}, ids)
}

// CasesUpdatedSince returns up to limit cases updated at or after t, the most recent
// first (for catching up after missed notices).
func (d *DB) CasesUpdatedSince(ctx context.Context, t time.Time, limit int) ([]dispute.Case, error) {
	var rows []resolutionRow
	err := d.bun.NewSelect().Model(&rows).Where("r.updated_at >= ?", t.UTC()).
		OrderExpr("r.updated_at DESC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]dispute.Case, len(rows))
	for i, r := range rows {
		out[i] = toDomainCase(r)
	}
	return out, nil
}
