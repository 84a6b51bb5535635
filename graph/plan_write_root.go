package graph

import "resolutioncenter/graph/model"

// The planned writer's objects of the root fields that reach no rows of their own:
// the summary's counts and the viewer.

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
