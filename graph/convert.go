package graph

import (
	"strings"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
	"resolutioncenter/ids"
)

// Page sizes of connections.
const (
	defaultPageSize = 20
	maxPageSize     = 100
	maxNodes        = 100
)

// enumName turns a wire name (merchant_won) into its GraphQL enum name (MERCHANT_WON).
func enumName(wire string) string { return strings.ToUpper(wire) }

// pageArgs are validated Relay pagination arguments.
type pageArgs struct {
	limit    int
	after    *string
	before   *string
	backward bool
}

// toPageArgs validates first/after/last/before: at most one of first and last, at most
// one of after and before, sizes 0..100, 20 by default.
func toPageArgs(first *int, after *string, last *int, before *string) (pageArgs, error) {
	if first != nil && last != nil {
		return pageArgs{}, dispute.Invalid("first", "pass either first or last, not both")
	}
	if after != nil && before != nil {
		return pageArgs{}, dispute.Invalid("after", "pass either after or before, not both")
	}
	p := pageArgs{limit: defaultPageSize, after: after, before: before}
	if last != nil || (before != nil && first == nil) {
		p.backward = true
	}
	if p.backward && after != nil {
		return pageArgs{}, dispute.Invalid("after", "after goes with first; use before with last")
	}
	if !p.backward && before != nil {
		return pageArgs{}, dispute.Invalid("before", "before goes with last; use after with first")
	}
	for name, v := range map[string]*int{"first": first, "last": last} {
		if v == nil {
			continue
		}
		if *v < 0 || *v > maxPageSize {
			return pageArgs{}, dispute.Invalid(name, "must be between 0 and 100")
		}
		p.limit = *v
	}
	return p, nil
}

// cursor is the cursor the page starts from: after going forward, before going
// backward (toPageArgs refuses the other combinations).
func (p pageArgs) cursor() *string {
	if p.backward {
		return p.before
	}
	return p.after
}

// toFilter validates and converts a GraphQL filter.
func toFilter(f *model.ResolutionFilter) (db.Filter, error) {
	var out db.Filter
	if f == nil {
		return out, nil
	}
	var err error
	if out.CompanyID, err = optionalID(f.CompanyID, ids.Company, "filter.companyId", "company"); err != nil {
		return out, err
	}
	if out.UserID, err = optionalID(f.UserID, ids.User, "filter.userId", "user"); err != nil {
		return out, err
	}
	if len(f.Statuses) > len(dispute.Statuses) || len(f.Issues) > len(dispute.Issues) {
		return out, dispute.Invalid("filter", "too many values")
	}
	out.Statuses = f.Statuses
	out.Issues = f.Issues
	if f.Outcome != nil {
		out.Outcome = *f.Outcome
	}
	out.CreatedBefore, out.CreatedAfter, out.DueBefore = f.CreatedBefore, f.CreatedAfter, f.DueBefore
	out.WaitingOnViewer = f.WaitingOnMe != nil && *f.WaitingOnMe
	return out, nil
}

// toResolutionOrder returns the ordering of a resolutions page: orderBy's, else the
// soonest deadline first for the cases waiting on the viewer (an inbox's "to do"
// tab), else the newest first.
func toResolutionOrder(orderBy *model.ResolutionOrder, f db.Filter) (field db.OrderField, desc bool) {
	switch {
	case orderBy != nil:
		field = db.OrderCreatedAt
		if orderBy.Field == model.ResolutionOrderFieldDueDate {
			field = db.OrderDueDate
		}
		return field, orderBy.Direction == model.OrderDirectionDesc
	case f.WaitingOnViewer:
		return db.OrderDueDate, false
	}
	return db.OrderCreatedAt, true
}

// toEventPage returns the page of a timeline that events(first/last, orderBy) travels
// from its start (the caller adds the cursor): newest first unless orderBy says
// POSITION ASC, and the other way when paging backward.
func toEventPage(args pageArgs, orderBy *model.ResolutionEventOrder) db.EventPage {
	desc := orderBy == nil || orderBy.Direction == model.OrderDirectionDesc
	return db.EventPage{Limit: args.limit, Desc: desc != args.backward}
}

// optionalID checks an optional ID argument: absent is "", else it must have prefix
// (what names its kind in the error).
func optionalID(v *string, prefix, field, what string) (string, error) {
	if v == nil {
		return "", nil
	}
	if !ids.Is(*v, prefix) {
		return "", dispute.Invalid(field, "not a "+what+" ID")
	}
	return *v, nil
}

// toResolution wraps a case for the principal; role must be the principal's role on it.
func (r *Resolver) toResolution(c dispute.Case, p *auth.Principal) *model.Resolution {
	return model.NewResolution(c, p.RoleOn(c), p.CanManage(), r.Policy)
}

// emptyPageInfo is the page info of an empty page.
func pageInfo(hasPrev, hasNext bool, start, end string) *model.PageInfo {
	pi := &model.PageInfo{HasPreviousPage: hasPrev, HasNextPage: hasNext}
	if start != "" {
		pi.StartCursor, pi.EndCursor = &start, &end
	}
	return pi
}
