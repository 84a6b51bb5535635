package graph

import "resolutioncenter/graph/model"

// The planned writer's objects of the root fields that reach no rows of their own:
// the summary's counts, the viewer and the caller's tokens.

func (x *run) writeSummary(sel *selPlan, s *model.ResolutionSummary) bool {
	w := &x.w
	rs := x.s.rs
	w.buf = append(w.buf, '{')
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fSumTotal:
			w.int(int64(s.Total))
		case fSumOpen:
			w.int(int64(s.Open))
		case fSumWaiting:
			w.int(int64(s.WaitingOnMe))
		case fSumByStatus:
			w.buf = append(w.buf, '[')
			for j, c := range s.ByStatus {
				x.count(f.sel, j, rs.status, string(c.Status), c.Count)
			}
			w.buf = append(w.buf, ']')
		case fSumByIssue:
			w.buf = append(w.buf, '[')
			for j, c := range s.ByIssue {
				x.count(f.sel, j, rs.issue, string(c.Issue), c.Count)
			}
			w.buf = append(w.buf, ']')
		case fSumByOutcome:
			w.buf = append(w.buf, '[')
			for j, c := range s.ByOutcome {
				x.count(f.sel, j, rs.outcome, string(c.Outcome), c.Count)
			}
			w.buf = append(w.buf, ']')
		}
	}
	x.end()
	return true
}

// count writes element j of a summary's counts.
func (x *run) count(sel *selPlan, j int, table map[string][]byte, wire string, n int) {
	w := &x.w
	if j > 0 {
		w.buf = append(w.buf, ',')
	}
	w.buf = append(w.buf, '{')
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fCountStatus, fCountIssue, fCountOutcome:
			w.enum(table, wire)
		case fCountCount:
			w.int(int64(n))
		}
	}
	x.end()
}

func (x *run) writeViewer(sel *selPlan, v *model.Viewer) bool {
	w := &x.w
	w.buf = append(w.buf, '{')
	ok := true
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fViewerRole:
			w.str(string(v.Role))
		case fViewerScopes:
			strs(w, v.Scopes)
		case fViewerUser:
			ok = x.optional(f, v.UserID, func(id string) bool { return x.userAt(f.sel, id, viewerUser) }) && ok
		case fViewerCompany:
			ok = x.optional(f, v.CompanyID, func(id string) bool { return x.companyByID(f.sel, id) }) && ok
		case fViewerCompanies:
			ok = w.close(f, w.open(f), x.list(f, len(v.CompanyIDs), func(j int) bool { return x.companyByID(f.sel, v.CompanyIDs[j]) })) && ok
		}
	}
	x.end()
	return ok
}

// optional writes the object of ID id by write as field f's value, or null when id is
// empty (a viewer or token without a user or company).
func (x *run) optional(f *fieldPlan, id string, write func(id string) bool) bool {
	if id == "" {
		x.w.null()
		return !f.nonNull
	}
	return x.w.close(f, x.w.open(f), write(id))
}

// writeTokenConnection writes a page of the caller's tokens.
func (x *run) writeTokenConnection(sel *selPlan, conn *model.APITokenConnection) bool {
	return x.writeConnection(sel, &page{
		n: len(conn.Edges), hasPrev: conn.PageInfo.HasPreviousPage, hasNext: conn.PageInfo.HasNextPage,
		node:   func(sel *selPlan, j int) bool { return x.writeToken(sel, conn.Edges[j].Node) },
		cursor: func(b []byte, j int) []byte { return append(b, conn.Edges[j].Cursor...) },
	})
}

func (x *run) writeToken(sel *selPlan, t *model.ApiToken) bool {
	w := &x.w
	w.buf = append(w.buf, '{')
	ok := true
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fTokID:
			w.str(t.ID)
		case fTokRole:
			w.str(string(t.Role))
		case fTokScopes:
			strs(w, t.Scopes)
		case fTokLabel:
			w.strPtr(t.Label)
		case fTokCreatedAt:
			w.time(t.CreatedAt)
		case fTokRevokedAt:
			w.timePtr(t.RevokedAt)
		case fTokCurrent:
			w.bool(t.Current)
		case fTokUser:
			ok = x.optional(f, t.UserID, func(id string) bool { return x.userAt(f.sel, id, tokenUser) }) && ok
		case fTokCompany:
			ok = x.optional(f, t.CompanyID, func(id string) bool { return x.companyByID(f.sel, id) }) && ok
		}
	}
	x.end()
	return ok
}
