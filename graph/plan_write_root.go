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
			w.buf = append(w.buf, '[')
			for j, s := range v.Scopes {
				if j > 0 {
					w.buf = append(w.buf, ',')
				}
				w.str(string(s))
			}
			w.buf = append(w.buf, ']')
		case fViewerUser:
			if v.UserID == "" {
				w.null()
				continue
			}
			w.push(f.alias)
			start := len(w.buf)
			ok = w.settle(f, start, x.userAt(f.sel, v.UserID, viewerUser)) && ok
			w.pop()
		case fViewerCompany:
			if v.CompanyID == "" {
				w.null()
				continue
			}
			w.push(f.alias)
			start := len(w.buf)
			ok = w.settle(f, start, x.companyByID(f.sel, v.CompanyID)) && ok
			w.pop()
		case fViewerCompanies:
			w.push(f.alias)
			start := len(w.buf)
			w.buf = append(w.buf, '[')
			all := true
			for j, id := range v.CompanyIDs {
				if j > 0 {
					w.buf = append(w.buf, ',')
				}
				w.pushIndex(j)
				es := len(w.buf)
				all = w.settleElem(f, es, x.companyByID(f.sel, id)) && all
				w.pop()
			}
			w.buf = append(w.buf, ']')
			ok = w.settle(f, start, all) && ok
			w.pop()
		}
	}
	x.end()
	return ok
}

func (x *run) writeTokenConnection(sel *selPlan, conn *model.APITokenConnection) bool {
	w := &x.w
	w.buf = append(w.buf, '{')
	ok := true
	for i, f := range sel.fields {
		w.key(f, i == 0)
		w.push(f.alias)
		start := len(w.buf)
		fine := true
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fConnEdges, fConnNodes:
			w.buf = append(w.buf, '[')
			all := true
			for j, t := range conn.Nodes {
				if j > 0 {
					w.buf = append(w.buf, ',')
				}
				w.pushIndex(j)
				es := len(w.buf)
				var eok bool
				if f.kind == fConnNodes {
					eok = x.writeToken(f.sel, t)
				} else {
					eok = x.writeTokenEdge(f.sel, conn.Edges[j])
				}
				all = w.settleElem(f, es, eok) && all
				w.pop()
			}
			w.buf = append(w.buf, ']')
			fine = w.settle(f, start, all)
		case fConnPageInfo:
			pi := conn.PageInfo
			var first, last []byte
			if pi.StartCursor != nil {
				first, last = []byte(*pi.StartCursor), []byte(*pi.EndCursor)
			}
			fine = w.settle(f, start, x.writePageInfo(f.sel, pi.HasPreviousPage, pi.HasNextPage, first, last))
		}
		w.pop()
		ok = ok && fine
	}
	x.end()
	return ok
}

func (x *run) writeTokenEdge(sel *selPlan, e *model.APITokenEdge) bool {
	w := &x.w
	w.buf = append(w.buf, '{')
	ok := true
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fEdgeCursor:
			w.str(e.Cursor)
		case fEdgeNode:
			w.push(f.alias)
			start := len(w.buf)
			ok = w.settle(f, start, x.writeToken(f.sel, e.Node)) && ok
			w.pop()
		}
	}
	x.end()
	return ok
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
			w.buf = append(w.buf, '[')
			for j, s := range t.Scopes {
				if j > 0 {
					w.buf = append(w.buf, ',')
				}
				w.str(string(s))
			}
			w.buf = append(w.buf, ']')
		case fTokLabel:
			w.strPtr(t.Label)
		case fTokCreatedAt:
			w.time(t.CreatedAt)
		case fTokRevokedAt:
			w.timePtr(t.RevokedAt)
		case fTokCurrent:
			w.bool(t.Current)
		case fTokUser:
			if t.UserID == "" {
				w.null()
				continue
			}
			w.push(f.alias)
			start := len(w.buf)
			ok = w.settle(f, start, x.userAt(f.sel, t.UserID, tokenUser)) && ok
			w.pop()
		case fTokCompany:
			if t.CompanyID == "" {
				w.null()
				continue
			}
			w.push(f.alias)
			start := len(w.buf)
			ok = w.settle(f, start, x.companyByID(f.sel, t.CompanyID)) && ok
			w.pop()
		}
	}
	x.end()
	return ok
}
