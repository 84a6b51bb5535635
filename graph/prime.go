package graph

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/graph/model"
)

// prime fetches, before the list's items are resolved, everything of their selected
// fields that a list of cases will ask its loaders for: one statement per loader,
// concurrently, however the item resolvers are later scheduled. Without it, batching
// rests on the loaders' short wait, and a busy machine splits a page into several
// batches. sel is the selection set applied to each case.
func (r *Resolver) prime(ctx context.Context, cases []*model.Resolution, sel ast.SelectionSet) {
	if len(cases) == 0 || len(sel) == 0 {
		return
	}
	oc := graphql.GetOperationContext(ctx)
	l := r.loaders(ctx)
	fields := graphql.CollectFields(oc, sel, []string{"Resolution", "Node"})
	var companies, users, payments, members []string
	var views []db.CaseView
	for _, c := range cases {
		companies = append(companies, c.Case.CompanyID)
		users = append(users, c.Case.UserID)
		payments = append(payments, c.Case.PaymentID)
		if c.Case.MemberID != "" {
			members = append(members, c.Case.MemberID)
		}
		views = append(views, db.CaseView{CaseID: c.Case.ID, Role: c.Role})
	}
	// Which loaders to fill: several fields may need the same one (payment.user is the
	// case's user), and each is filled once.
	var company, user, payment, disputant, member, recent, counts bool
	var pages []eventsKey
	for _, f := range fields {
		switch f.Name {
		case "company":
			company = true
		case "user":
			user = true
		case "payment":
			payment, user, company = true, true, true
			if p := auth.FromContext(ctx); p != nil && len(p.MerchantOf()) > 0 && p.Kind != auth.KindPlatform {
				disputant = true
			}
		case "member":
			member = len(members) > 0
		case "resolutionEvents":
			recent = true
		case "events":
			for _, sub := range graphql.CollectFields(oc, f.Selections, []string{"ResolutionEventConnection"}) {
				counts = counts || sub.Name == "totalCount"
			}
			args := f.ArgumentMap(oc.Variables)
			if args["after"] != nil || args["before"] != nil {
				continue // cursors are per case: each case's page is its own batch
			}
			pa, err := toPageArgs(intArg(args["first"]), nil, intArg(args["last"]), nil)
			if err != nil || pa.limit == 0 {
				continue
			}
			page := toEventPage(pa, eventOrderArg(args["orderBy"]))
			for _, v := range views {
				pages = append(pages, eventsKey{View: v, Page: page})
			}
		}
	}
	var wg sync.WaitGroup
	fill := func(on bool, f func(context.Context)) {
		if on {
			wg.Go(func() { f(ctx) })
		}
	}
	fill(company, func(ctx context.Context) { l.Companies.fill(ctx, companies) })
	fill(user, func(ctx context.Context) { l.Users.fill(ctx, users) })
	fill(payment, func(ctx context.Context) { l.Payments.fill(ctx, payments) })
	fill(disputant, func(ctx context.Context) { l.Disputants.fill(ctx, users) })
	fill(member, func(ctx context.Context) { l.Memberships.fill(ctx, members) })
	fill(recent, func(ctx context.Context) { l.Recent.fill(ctx, views) })
	fill(len(pages) > 0, func(ctx context.Context) { l.Events.fill(ctx, pages) })
	var counted []db.CaseView // the counts the case rows do not hold
	for i, c := range cases {
		if _, known := knownEventCount(c); counts && !known {
			counted = append(counted, views[i])
		}
	}
	fill(len(counted) > 0, func(ctx context.Context) { l.EventCounts.fill(ctx, counted) })
	wg.Wait()
}

// intArg reads an Int argument as ArgumentMap returns it: int64 from literals, a
// json.Number or number from variables; nil when absent.
func intArg(v any) *int {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			return nil
		}
		j := int(i)
		return &j
	case int:
		return &n
	case int64:
		i := int(n)
		return &i
	case float64:
		i := int(n)
		return &i
	}
	return nil
}

// eventOrderArg reads an orderBy argument of events as ArgumentMap returns it (an
// object of enum names; absent fields take their defaults).
func eventOrderArg(v any) *model.ResolutionEventOrder {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	o := &model.ResolutionEventOrder{Field: model.ResolutionEventOrderFieldPosition, Direction: model.OrderDirectionDesc}
	if d, ok := m["direction"].(string); ok && model.OrderDirection(d).IsValid() {
		o.Direction = model.OrderDirection(d)
	}
	return o
}

// connectionNodeSelection returns the selection applied to each case of a connection
// field: the union of edges { node { ... } } and nodes { ... }.
func connectionNodeSelection(ctx context.Context) ast.SelectionSet {
	return nodeSelection(ctx, "ResolutionConnection", "ResolutionEdge")
}

// selectsPageInfo reports whether the connection field of ctx, of type conn, selects
// pageInfo.
func selectsPageInfo(ctx context.Context, conn string) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return true
	}
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, []string{conn}) {
		if f.Name == "pageInfo" {
			return true
		}
	}
	return false
}

// nodeSelection returns the selection applied to each node of the connection field of
// ctx, of type conn with edges of type edge.
func nodeSelection(ctx context.Context, conn, edge string) ast.SelectionSet {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return nil
	}
	oc := graphql.GetOperationContext(ctx)
	var out ast.SelectionSet
	for _, f := range graphql.CollectFields(oc, fc.Field.Selections, []string{conn}) {
		switch f.Name {
		case "nodes":
			out = append(out, f.Selections...)
		case "edges":
			for _, e := range graphql.CollectFields(oc, f.Selections, []string{edge}) {
				if e.Name == "node" {
					out = append(out, e.Selections...)
				}
			}
		}
	}
	return out
}
