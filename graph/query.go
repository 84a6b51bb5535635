package graph

import (
	"context"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
	"resolutioncenter/ids"
)

// resolution returns one case the principal may see; a foreign or unknown ID is the
// same NOT_FOUND, so an ID never reveals that it exists. field names the ID's argument.
func (r *Resolver) resolution(ctx context.Context, p *auth.Principal, field, id string) (*model.Resolution, error) {
	if !ids.Is(id, ids.Resolution) {
		return nil, dispute.Invalid(field, "not a resolution ID")
	}
	m, err := r.DB.VisibleCases(ctx, p.Scope(), []string{id})
	if err != nil {
		return nil, err
	}
	c, ok := m[id]
	if !ok {
		return nil, dispute.NotFound("no resolution with this ID")
	}
	return r.toResolution(c, p), nil
}

// casePage is one page of cases in the order the connection shows them, with what its
// page info needs: the one reading of resolutions' arguments, for gqlgen's resolver and
// the planned executor alike.
type casePage struct {
	cases   []dispute.Case
	field   db.OrderField // the order, which each cursor names
	hasPrev bool
	hasNext bool
	// scope and filter are what the page was read with (for totalCount).
	scope  db.Scope
	filter db.Filter
}

// toResolutionPage validates resolutions' arguments: the page to read, with the filter.
// It reads nothing, so that an operation can be checked before it runs (argcheck.go).
func toResolutionPage(first *int, after *string, last *int, before *string, filter *model.ResolutionFilter,
	orderBy *model.ResolutionOrder) (pageArgs, db.Page, db.Filter, error) {
	args, err := toPageArgs(first, after, last, before)
	if err != nil {
		return pageArgs{}, db.Page{}, db.Filter{}, err
	}
	f, err := toFilter(filter)
	if err != nil {
		return pageArgs{}, db.Page{}, db.Filter{}, err
	}
	page := db.Page{Limit: args.limit, Backward: args.backward}
	page.Field, page.Desc = toResolutionOrder(orderBy, f)
	if args.after != nil {
		if page.After, err = decodeResolutionCursor(*args.after, page.Field); err != nil {
			return pageArgs{}, db.Page{}, db.Filter{}, err
		}
	}
	if args.before != nil {
		if page.Before, err = decodeResolutionCursor(*args.before, page.Field); err != nil {
			return pageArgs{}, db.Page{}, db.Filter{}, err
		}
	}
	return args, page, f, nil
}

// listResolutions validates resolutions' arguments and reads the page. An empty page
// (first: 0, last: 0) is read only when paged is set (the page info is asked for): its
// one extra row tells whether cases follow (precede), as Relay's hasNextPage
// (hasPreviousPage) must; resolutions(first: 0) { totalCount } costs only the count.
func (r *Resolver) listResolutions(ctx context.Context, p *auth.Principal, first *int, after *string, last *int, before *string,
	filter *model.ResolutionFilter, orderBy *model.ResolutionOrder, paged bool) (casePage, error) {
	args, page, f, err := toResolutionPage(first, after, last, before, filter, orderBy)
	if err != nil {
		return casePage{}, err
	}
	var res db.ListResult
	if page.Limit > 0 || paged {
		if res, err = r.DB.ListCases(ctx, p.Scope(), f, page); err != nil {
			return casePage{}, err
		}
	}
	out := casePage{cases: res.Cases, field: page.Field, scope: p.Scope(), filter: f}
	if args.backward {
		out.hasPrev, out.hasNext = res.More, args.before != nil
	} else {
		out.hasPrev, out.hasNext = args.after != nil, res.More
	}
	return out, nil
}

func (r *Resolver) resolutions(ctx context.Context, p *auth.Principal, first *int, after *string, last *int, before *string,
	filter *model.ResolutionFilter, orderBy *model.ResolutionOrder) (*model.ResolutionConnection, error) {
	// Only an empty page asks whether pageInfo is selected (collecting the fields is
	// work every other page would do for nothing).
	empty := (first != nil && *first == 0) || (last != nil && *last == 0)
	page, err := r.listResolutions(ctx, p, first, after, last, before, filter, orderBy, empty && selectsPageInfo(ctx, "ResolutionConnection"))
	if err != nil {
		return nil, err
	}
	conn := &model.ResolutionConnection{Edges: make([]*model.ResolutionEdge, 0, len(page.cases)),
		Nodes: make([]*model.Resolution, 0, len(page.cases)), Scope: page.scope, Filter: page.filter}
	for _, c := range page.cases {
		node := r.toResolution(c, p)
		conn.Edges = append(conn.Edges, &model.ResolutionEdge{Cursor: resolutionCursor(c, page.field), Node: node})
		conn.Nodes = append(conn.Nodes, node)
	}
	r.prime(ctx, conn.Nodes, connectionNodeSelection(ctx))
	var start, end string
	if n := len(conn.Edges); n > 0 {
		start, end = conn.Edges[0].Cursor, conn.Edges[n-1].Cursor
	}
	conn.PageInfo = pageInfo(page.hasPrev, page.hasNext, start, end)
	return conn, nil
}

func (r *Resolver) summary(ctx context.Context, p *auth.Principal, filter *model.ResolutionFilter) (*model.ResolutionSummary, error) {
	f, err := toFilter(filter)
	if err != nil {
		return nil, err
	}
	s, err := r.DB.SummarizeCases(ctx, p.Scope(), f)
	if err != nil {
		return nil, err
	}
	return toSummary(s), nil
}

// toSummary is a summary as the schema shows it: every enum value, zero included.
func toSummary(s db.Summary) *model.ResolutionSummary {
	out := &model.ResolutionSummary{Total: s.Total, Open: s.Open, WaitingOnMe: s.WaitingOnViewer}
	for _, st := range dispute.Statuses {
		out.ByStatus = append(out.ByStatus, &model.StatusCount{Status: st, Count: s.ByStatus[st]})
	}
	for _, is := range dispute.Issues {
		out.ByIssue = append(out.ByIssue, &model.IssueCount{Issue: is, Count: s.ByIssue[is]})
	}
	for _, o := range []dispute.Outcome{dispute.OutcomeCustomerWon, dispute.OutcomeMerchantWon, dispute.OutcomeWithdrawn} {
		out.ByOutcome = append(out.ByOutcome, &model.OutcomeCount{Outcome: o, Count: s.ByOutcome[o]})
	}
	return out
}

// recentEvents returns the 50 most recent events of a case the viewer may see.
func (r *Resolver) recentEvents(ctx context.Context, obj *model.Resolution) ([]*model.Event, error) {
	evs, err := r.loaders(ctx).Recent.Load(ctx, db.CaseView{CaseID: obj.Case.ID, Role: obj.Role})
	if err != nil {
		return nil, err
	}
	out := make([]*model.Event, len(evs))
	for i, e := range evs {
		out[i] = model.NewEvent(e)
	}
	return out, nil
}

// totalCount counts every case of a connection's filter (every page).
func (r *Resolver) totalCount(ctx context.Context, conn *model.ResolutionConnection) (int, error) {
	return r.DB.CountCases(ctx, conn.Scope, conn.Filter)
}

// eventQuery is a validated request for a page of one case's timeline: the one reading
// of events' arguments, for gqlgen's resolver and the planned executor alike.
type eventQuery struct {
	args pageArgs
	page db.EventPage // what to fetch (nothing when page.Limit is 0)
}

// toEventQuery validates events' arguments on the case caseID. The timeline is newest
// first unless orderBy says otherwise; forward travel goes in the order's direction,
// backward travel the other way.
func toEventQuery(caseID string, first *int, after *string, last *int, before *string, orderBy *model.ResolutionEventOrder) (eventQuery, error) {
	args, err := toPageArgs(first, after, last, before)
	if err != nil {
		return eventQuery{}, err
	}
	q := eventQuery{args: args, page: toEventPage(args, orderBy)}
	if cursor := args.cursor(); cursor != nil {
		if q.page.Cursor, err = decodeEventCursor(*cursor, caseID); err != nil {
			return eventQuery{}, err
		}
	}
	return q, nil
}

// checkEventArgs validates events' arguments as far as they do not depend on the case,
// before an operation runs (argcheck.go): what toEventQuery refuses, but a cursor of
// another case's timeline, which only the field's case tells.
func checkEventArgs(first *int, after *string, last *int, before *string) error {
	args, err := toPageArgs(first, after, last, before)
	if err != nil {
		return err
	}
	if cursor := args.cursor(); cursor != nil {
		return checkEventCursor(*cursor)
	}
	return nil
}

// present turns the events fetched for q (up to page.Limit+1, in travel order) into the
// page shown: in the order asked for, at most page.Limit, and the page info's flags.
// The input is not modified (loaders cache it).
func (q eventQuery) present(evs []dispute.Event) (page []dispute.Event, hasPrev, hasNext bool) {
	more := len(evs) > q.page.Limit
	if more {
		evs = evs[:q.page.Limit]
	}
	if q.args.backward { // travelled against the order; present in it
		rev := make([]dispute.Event, len(evs))
		for i, e := range evs {
			rev[len(evs)-1-i] = e
		}
		return rev, more, q.args.before != nil
	}
	return evs, q.args.after != nil, more
}

// events pages through a case's visible timeline, newest first unless orderBy says
// otherwise.
func (r *Resolver) events(ctx context.Context, obj *model.Resolution, first *int, after *string, last *int, before *string,
	orderBy *model.ResolutionEventOrder) (*model.ResolutionEventConnection, error) {
	q, err := toEventQuery(obj.Case.ID, first, after, last, before, orderBy)
	if err != nil {
		return nil, err
	}
	// An empty page is read when its page info is asked for: the one extra event
	// tells whether more follow.
	var evs []dispute.Event
	if q.page.Limit > 0 || selectsPageInfo(ctx, "ResolutionEventConnection") {
		if evs, err = r.loaders(ctx).Events.Load(ctx, eventsKey{View: db.CaseView{CaseID: obj.Case.ID, Role: obj.Role}, Page: q.page}); err != nil {
			return nil, err
		}
	}
	evs, hasPrev, hasNext := q.present(evs)
	n := len(evs)
	conn := &model.ResolutionEventConnection{Edges: make([]*model.ResolutionEventEdge, n), Nodes: make([]*model.Event, n), Case: obj}
	for i, e := range evs {
		node := model.NewEvent(e)
		conn.Edges[i] = &model.ResolutionEventEdge{Cursor: eventCursor(e), Node: node}
		conn.Nodes[i] = node
	}
	var start, end string
	if n > 0 {
		start, end = conn.Edges[0].Cursor, conn.Edges[n-1].Cursor
	}
	conn.PageInfo = pageInfo(hasPrev, hasNext, start, end)
	return conn, nil
}

// eventCount counts the events of a case's timeline its viewer may see: every event
// for the platform (the case keeps the number), else one count over the timeline,
// batched across the cases of a page.
func (r *Resolver) eventCount(ctx context.Context, c *model.Resolution) (int, error) {
	if n, known := knownEventCount(c); known {
		return n, nil
	}
	return r.loaders(ctx).EventCounts.Load(ctx, db.CaseView{CaseID: c.Case.ID, Role: c.Role})
}

// knownEventCount returns the number of events of c's timeline its viewer may see when
// the case row holds it: the platform sees every event. Otherwise (known false) it is
// counted (db.CountEvents: the events flagged for the viewer's side).
func knownEventCount(c *model.Resolution) (n int, known bool) {
	if c.Role == dispute.ActorPlatform {
		return c.Case.EventCount, true
	}
	return 0, false
}

// company loads a company reached from an object the caller may see (a case, payment,
// membership or the viewer itself).
func (r *Resolver) company(ctx context.Context, id string) (*model.Company, error) {
	c, err := r.loaders(ctx).Companies.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	return model.NewCompany(c), nil
}

// userFor loads a user reached through a payment or membership the viewer may see. The
// e-mail shows to the user, the platform, and merchants the user has a case with.
func (r *Resolver) userFor(ctx context.Context, userID string) (*model.User, error) {
	l := r.loaders(ctx)
	u, err := l.Users.Load(ctx, userID)
	if err != nil {
		return nil, err
	}
	show, err := r.mayShowEmail(ctx, auth.FromContext(ctx), userID)
	if err != nil {
		return nil, err
	}
	return model.NewUser(u, show), nil
}

func (r *Resolver) mayShowEmail(ctx context.Context, p *auth.Principal, userID string) (bool, error) {
	show, ask := emailVisibility(p, userID)
	if !ask {
		return show, nil
	}
	return r.loaders(ctx).Disputants.Load(ctx, userID)
}

// caseCustomer is a case's customer as whoever sees the case sees them: the customer,
// the case's merchant or the platform, all of whom may see the e-mail.
func caseCustomer(u db.User) *model.User { return model.NewUser(u, true) }

// viewerUser is the user of a user token, who sees their own e-mail.
func viewerUser(u db.User) *model.User { return model.NewUser(u, true) }

// emailVisibility is the e-mail rule for a user reached through a payment, a membership
// or node(id:): the user, the platform, and merchants the user has a case with see it.
// ask reports that the answer is whether the user disputes with one of p's merchant
// companies (db.Disputants), which the caller looks up.
func emailVisibility(p *auth.Principal, userID string) (show, ask bool) {
	switch {
	case p == nil:
		return false, false
	case p.Kind == auth.KindPlatform || p.UserID == userID:
		return true, false
	case len(p.MerchantOf()) == 0:
		return false, false
	}
	return false, true
}

func toViewer(p *auth.Principal) *model.Viewer {
	v := &model.Viewer{UserID: p.UserID, CompanyID: p.CompanyID, CompanyIDs: p.TeamCompanyIDs}
	switch p.Kind {
	case auth.KindPlatform:
		v.Role = model.ViewerRolePlatform
	case auth.KindCompany:
		v.Role = model.ViewerRoleCompany
	default:
		v.Role = model.ViewerRoleUser
	}
	if p.CanRead() {
		v.Scopes = append(v.Scopes, model.ScopeRead)
	}
	if p.CanManage() {
		v.Scopes = append(v.Scopes, model.ScopeManage)
	}
	return v
}
