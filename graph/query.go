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

func (r *Resolver) resolutions(ctx context.Context, p *auth.Principal, first *int, after *string, last *int, before *string,
	filter *model.ResolutionFilter, orderBy *model.ResolutionOrder) (*model.ResolutionConnection, error) {
	args, err := toPageArgs(first, after, last, before)
	if err != nil {
		return nil, err
	}
	f, err := toFilter(filter)
	if err != nil {
		return nil, err
	}
	page := db.Page{Limit: args.limit, Backward: args.backward}
	page.Field, page.Desc = toResolutionOrder(orderBy, f)
	if args.after != nil {
		if page.After, err = decodeResolutionCursor(*args.after, page.Field); err != nil {
			return nil, err
		}
	}
	if args.before != nil {
		if page.Before, err = decodeResolutionCursor(*args.before, page.Field); err != nil {
			return nil, err
		}
	}
	conn := &model.ResolutionConnection{Edges: []*model.ResolutionEdge{}, Nodes: []*model.Resolution{}, Scope: p.Scope(), Filter: f}
	var res db.ListResult
	if page.Limit > 0 {
		if res, err = r.DB.ListCases(ctx, p.Scope(), f, page); err != nil {
			return nil, err
		}
	}
	for _, c := range res.Cases {
		node := r.toResolution(c, p)
		conn.Edges = append(conn.Edges, &model.ResolutionEdge{Cursor: resolutionCursor(c, page.Field), Node: node})
		conn.Nodes = append(conn.Nodes, node)
	}
	r.prime(ctx, conn.Nodes, connectionNodeSelection(ctx))
	var start, end string
	if n := len(conn.Edges); n > 0 {
		start, end = conn.Edges[0].Cursor, conn.Edges[n-1].Cursor
	}
	if args.backward {
		conn.PageInfo = pageInfo(res.More, args.before != nil, start, end)
	} else {
		conn.PageInfo = pageInfo(args.after != nil, res.More, start, end)
	}
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
	return out, nil
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

// events pages through a case's visible timeline, newest first unless orderBy says
// otherwise.
func (r *Resolver) events(ctx context.Context, obj *model.Resolution, first *int, after *string, last *int, before *string,
	orderBy *model.ResolutionEventOrder) (*model.ResolutionEventConnection, error) {
	args, err := toPageArgs(first, after, last, before)
	if err != nil {
		return nil, err
	}
	// Forward travel goes in the order's direction, backward travel the other way.
	page := toEventPage(args, orderBy)
	cursor := args.after
	if args.backward {
		cursor = args.before
	}
	if cursor != nil {
		if page.Cursor, err = decodeEventCursor(*cursor, obj.Case.ID); err != nil {
			return nil, err
		}
	}
	conn := &model.ResolutionEventConnection{Edges: []*model.ResolutionEventEdge{}, Nodes: []*model.Event{}, Case: obj}
	var evs []dispute.Event
	if page.Limit > 0 {
		if evs, err = r.loaders(ctx).Events.Load(ctx, eventsKey{View: db.CaseView{CaseID: obj.Case.ID, Role: obj.Role}, Page: page}); err != nil {
			return nil, err
		}
	}
	more := len(evs) > page.Limit
	if more {
		evs = evs[:page.Limit]
	}
	n := len(evs)
	conn.Edges = make([]*model.ResolutionEventEdge, n)
	conn.Nodes = make([]*model.Event, n)
	for i, e := range evs {
		j := i
		if args.backward { // travelled against the order; present in it
			j = n - 1 - i
		}
		node := model.NewEvent(e)
		conn.Edges[j] = &model.ResolutionEventEdge{Cursor: eventCursor(e), Node: node}
		conn.Nodes[j] = node
	}
	var start, end string
	if n > 0 {
		start, end = conn.Edges[0].Cursor, conn.Edges[n-1].Cursor
	}
	if args.backward {
		conn.PageInfo = pageInfo(more, args.before != nil, start, end)
	} else {
		conn.PageInfo = pageInfo(args.after != nil, more, start, end)
	}
	return conn, nil
}

// eventCount counts the events of a case's timeline its viewer may see: every event
// for the platform (the case keeps the number), else one count over the timeline,
// batched across the cases of a page.
func (r *Resolver) eventCount(ctx context.Context, c *model.Resolution) (int, error) {
	if c.Role == dispute.ActorPlatform {
		return c.Case.EventCount, nil
	}
	return r.loaders(ctx).EventCounts.Load(ctx, db.CaseView{CaseID: c.Case.ID, Role: c.Role})
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
	if p == nil {
		return false, nil
	}
	if p.Kind == auth.KindPlatform || p.UserID == userID {
		return true, nil
	}
	if len(p.MerchantOf()) == 0 {
		return false, nil
	}
	return r.loaders(ctx).Disputants.Load(ctx, userID)
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
