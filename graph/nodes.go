package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"resolutioncenter/auth"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
	"resolutioncenter/ids"
)

// loadNodes resolves IDs of any type, in order, with one lookup per type. An object the
// principal may not see is null, exactly like an unknown ID; a malformed ID is an error.
func (r *Resolver) loadNodes(ctx context.Context, p *auth.Principal, list []string) ([]model.Node, error) {
	if len(list) > maxNodes {
		return nil, dispute.Invalid("ids", "at most 100 IDs")
	}
	byType := map[string][]string{}
	seen := make(map[string]bool, len(list))
	for _, id := range list {
		pre := ids.Prefix(id)
		if pre == "" || pre == ids.Token {
			return nil, dispute.Invalid("id", "malformed ID: "+truncate(id, 64))
		}
		if !seen[id] { // each ID looked up once, however often it is given
			seen[id] = true
			byType[pre] = append(byType[pre], id)
		}
	}
	found := map[string]model.Node{}
	l := r.loaders(ctx)
	merchantOf := p.MerchantOf()

	if list := byType[ids.Resolution]; len(list) > 0 {
		cases, err := r.DB.VisibleCases(ctx, p.Scope(), list)
		if err != nil {
			return nil, err
		}
		for id, c := range cases {
			found[id] = r.toResolution(c, p)
		}
	}
	if list := byType[ids.Event]; len(list) > 0 {
		evs, err := r.DB.EventsByID(ctx, list)
		if err != nil {
			return nil, err
		}
		var caseIDs []string
		for _, e := range evs {
			caseIDs = append(caseIDs, e.ResolutionID)
		}
		cases, err := r.DB.VisibleCases(ctx, p.Scope(), caseIDs)
		if err != nil {
			return nil, err
		}
		for id, e := range evs {
			if c, ok := cases[e.ResolutionID]; ok && e.VisibleTo(p.RoleOn(c)) {
				found[id] = model.NewEvent(e)
			}
		}
	}
	for _, id := range byType[ids.Company] {
		c, err := l.Companies.Load(ctx, id)
		if err != nil && !isNotFound(err) {
			return nil, err
		}
		if err != nil {
			continue
		}
		// A company shows to the platform, its own merchants, and its customers (users
		// who paid it); to anyone else it is as unknown as a foreign case.
		visible := p.Kind == auth.KindPlatform || contains(merchantOf, id)
		if !visible && p.Kind == auth.KindUser {
			if visible, err = r.DB.PaysTo(ctx, p.UserID, []string{id}); err != nil {
				return nil, err
			}
		}
		if visible {
			found[id] = model.NewCompany(c)
		}
	}
	for _, id := range byType[ids.Payment] {
		pay, err := l.Payments.Load(ctx, id)
		if err != nil && !isNotFound(err) {
			return nil, err
		}
		if err == nil && (p.Kind == auth.KindPlatform || pay.UserID == p.UserID || contains(merchantOf, pay.CompanyID)) {
			found[id] = &model.Payment{P: pay}
		}
	}
	for _, id := range byType[ids.Membership] {
		m, err := l.Memberships.Load(ctx, id)
		if err != nil && !isNotFound(err) {
			return nil, err
		}
		if err == nil && (p.Kind == auth.KindPlatform || m.UserID == p.UserID || contains(merchantOf, m.CompanyID)) {
			found[id] = &model.Membership{M: m}
		}
	}
	for _, id := range byType[ids.User] {
		u, err := l.Users.Load(ctx, id)
		if err != nil && !isNotFound(err) {
			return nil, err
		}
		if err != nil {
			continue
		}
		visible := p.Kind == auth.KindPlatform || p.UserID == id
		if !visible && len(merchantOf) > 0 {
			// Merchants see their own customers: users who paid them.
			if visible, err = r.DB.PaysTo(ctx, id, merchantOf); err != nil {
				return nil, err
			}
		}
		if !visible {
			continue
		}
		show, err := r.mayShowEmail(ctx, p, id)
		if err != nil {
			return nil, err
		}
		found[id] = model.NewUser(u, show)
	}
	out := make([]model.Node, len(list))
	var cases []*model.Resolution
	for i, id := range list {
		if n, ok := found[id]; ok {
			out[i] = n
			if c, ok := n.(*model.Resolution); ok {
				cases = append(cases, c)
			}
		}
	}
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		r.prime(ctx, cases, fc.Field.Selections)
	}
	return out, nil
}

func isNotFound(err error) bool {
	return dispute.CodeOf(err) == dispute.CodeNotFound || isLoaderNotFound(err)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
