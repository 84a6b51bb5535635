package graph

import (
	"context"
	"encoding/base64"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
	"resolutioncenter/ids"
)

// Tokens: a principal lists and revokes its own tokens (a user theirs, a company key
// its company's keys), the platform every token. Secrets and hashes are never shown.

// tokenOwner is what p may list and revoke.
func tokenOwner(p *auth.Principal) db.TokenOwner {
	switch p.Kind {
	case auth.KindPlatform:
		return db.TokenOwner{All: true}
	case auth.KindCompany:
		return db.TokenOwner{CompanyID: p.CompanyID}
	}
	return db.TokenOwner{UserID: p.UserID}
}

// tokenUser is the user of a listed token: only the user and the platform list a
// user's tokens, and both may see the e-mail.
func tokenUser(u db.User) *model.User { return model.NewUser(u, true) }

func toAPIToken(t db.Token, p *auth.Principal) *model.ApiToken {
	out := &model.ApiToken{ID: t.ID, UserID: t.UserID, CompanyID: t.CompanyID, CreatedAt: t.CreatedAt,
		Current: p.TokenID != "" && p.TokenID == t.ID}
	switch t.Kind {
	case db.TokenPlatform:
		out.Role = model.ViewerRolePlatform
	case db.TokenCompany:
		out.Role = model.ViewerRoleCompany
	default:
		out.Role = model.ViewerRoleUser
	}
	if t.Label != "" {
		l := t.Label
		out.Label = &l
	}
	if !t.RevokedAt.IsZero() {
		r := t.RevokedAt
		out.RevokedAt = &r
	}
	tp := &auth.Principal{Scopes: t.Scopes}
	if tp.CanRead() {
		out.Scopes = append(out.Scopes, model.ScopeRead)
	}
	if tp.CanManage() {
		out.Scopes = append(out.Scopes, model.ScopeManage)
	}
	return out
}

// toTokenPage validates tokens' arguments: the page size and what to read (one more
// token than the page, to tell whether there is a next page). It reads nothing, so that
// an operation can be checked before it runs (argcheck.go).
func toTokenPage(first *int, after *string, filter *model.APITokenFilter) (int, db.TokenFilter, error) {
	n := 20
	if first != nil {
		if *first < 0 || *first > 100 {
			return 0, db.TokenFilter{}, dispute.Invalid("first", "must be between 0 and 100")
		}
		n = *first
	}
	f := db.TokenFilter{Limit: n + 1}
	if after != nil {
		b, err := base64.RawURLEncoding.DecodeString(*after)
		if err != nil || !ids.Is(string(b), ids.Token) {
			return 0, db.TokenFilter{}, dispute.Invalid("after", "malformed cursor")
		}
		f.After = string(b)
	}
	if filter != nil {
		var err error
		if f.UserID, err = optionalID(filter.UserID, ids.User, "filter.userId", "user"); err != nil {
			return 0, db.TokenFilter{}, err
		}
		if f.CompanyID, err = optionalID(filter.CompanyID, ids.Company, "filter.companyId", "company"); err != nil {
			return 0, db.TokenFilter{}, err
		}
		f.IncludeRevoked = filter.IncludeRevoked != nil && *filter.IncludeRevoked
	}
	return n, f, nil
}

func (r *Resolver) tokens(ctx context.Context, first *int, after *string, filter *model.APITokenFilter) (*model.APITokenConnection, error) {
	p, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	n, f, err := toTokenPage(first, after, filter)
	if err != nil {
		return nil, err
	}
	list, err := r.DB.ListTokens(ctx, tokenOwner(p), f)
	if err != nil {
		return nil, err
	}
	conn := &model.APITokenConnection{Edges: []*model.APITokenEdge{}, Nodes: []*model.ApiToken{}, PageInfo: &model.PageInfo{}}
	if len(list) > n {
		list, conn.PageInfo.HasNextPage = list[:n], true
	}
	conn.PageInfo.HasPreviousPage = after != nil
	for _, t := range list {
		node := toAPIToken(t, p)
		cursor := base64.RawURLEncoding.EncodeToString([]byte(t.ID))
		conn.Edges = append(conn.Edges, &model.APITokenEdge{Cursor: cursor, Node: node})
		conn.Nodes = append(conn.Nodes, node)
	}
	if len(conn.Edges) > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &conn.Edges[0].Cursor, &conn.Edges[len(conn.Edges)-1].Cursor
	}
	return conn, nil
}

func (r *Resolver) revokeToken(ctx context.Context, in model.RevokeTokenInput) (*model.RevokeTokenPayload, error) {
	p, err := manager(ctx)
	if err != nil {
		return nil, err
	}
	if !ids.Is(in.TokenID, ids.Token) {
		return &model.RevokeTokenPayload{UserErrors: []*model.UserError{{Code: dispute.CodeInvalidArgument,
			Field: ptr("tokenId"), Message: "not a token ID"}}}, nil
	}
	t, err := r.DB.RevokeToken(ctx, tokenOwner(p), in.TokenID, r.now())
	if err != nil {
		return nil, err // NOT_FOUND (another owner's token, or none) is a top-level error, as for cases
	}
	return &model.RevokeTokenPayload{Token: toAPIToken(t, p), UserErrors: []*model.UserError{}}, nil
}

func ptr[T any](v T) *T { return &v }
