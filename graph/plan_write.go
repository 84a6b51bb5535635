package graph

import (
	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
)

// The planned writer: one function per object type walks the compiled selection over
// the rows read and appends the JSON. Each returns false when the object must be null
// because a non-null field of it is (gqlgen's null propagation); the caller replaces
// it by null where the schema allows, or passes the null up. Every field keeps going
// after a sibling failed, so all errors are reported, as gqlgen reports them.

// writeData writes the operation's data; false means data is null.
func (x *run) writeData() bool {
	w := &x.w
	w.buf = append(w.buf, '{')
	ok := true
	for i, f := range x.plan.root.fields {
		w.key(f, i == 0)
		w.push(f.alias)
		if !x.rootField(f, &x.roots[i]) {
			ok = false
		}
		w.pop()
		if x.abort != "" {
			return false
		}
	}
	w.buf = append(w.buf, '}')
	return ok
}

func (x *run) rootField(f *fieldPlan, v *rootValue) bool {
	w := &x.w
	if f.kind == fTypename {
		w.str("Query")
		return true
	}
	if v.err != nil {
		return w.fail(f, v.err)
	}
	start := len(w.buf)
	switch f.kind {
	case fQueryResolutions:
		return w.settle(f, start, x.writeCaseConnection(f.sel, v))
	case fQueryResolution:
		return w.settle(f, start, x.writeResolution(f.sel, v.cases[0]))
	case fQueryNode:
		if v.nodes[0] == nil {
			w.null()
			return !f.nonNull
		}
		return w.settle(f, start, x.writeNode(f, v.nodes[0]))
	case fQueryNodes:
		w.buf = append(w.buf, '[')
		ok := true
		for i, n := range v.nodes {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			es := len(w.buf)
			w.pushIndex(i)
			eok := true
			if n == nil {
				w.null()
				eok = !f.elemNonNull
			} else {
				eok = w.settleElem(f, es, x.writeNode(f, n))
			}
			w.pop()
			ok = ok && eok
		}
		w.buf = append(w.buf, ']')
		return w.settle(f, start, ok)
	case fQueryViewer:
		return w.settle(f, start, x.writeViewer(f.sel, v.viewer))
	case fQuerySummary:
		return w.settle(f, start, x.writeSummary(f.sel, v.summary))
	}
	return false
}

// writeNode writes an object of a Node position with its concrete type's selection.
func (x *run) writeNode(f *fieldPlan, n model.Node) bool {
	switch o := n.(type) {
	case *model.Resolution:
		return x.writeResolution(f.byType[tResolution], o)
	case *model.Company:
		return x.writeCompany(f.byType[tCompany], o)
	case *model.User:
		return x.writeUser(f.byType[tUser], o)
	case *model.Payment:
		return x.writePayment(f.byType[tPayment], &o.P)
	case *model.Membership:
		return x.writeMembership(f.byType[tMembership], &o.M)
	case *model.Event:
		return x.writeEvent(f.byType[tEvent], &o.Event)
	}
	x.abort = reasonUnsupportedField
	return false
}

// end closes an object and checks the response budget.
func (x *run) end() {
	x.w.buf = append(x.w.buf, '}')
	if x.w.budget.exceeded(len(x.w.buf)) {
		x.abort = reasonTooLarge
	}
}

func (x *run) writeCaseConnection(sel *selPlan, v *rootValue) bool {
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
			for j, c := range v.cases {
				if j > 0 {
					w.buf = append(w.buf, ',')
				}
				w.pushIndex(j)
				es := len(w.buf)
				var eok bool
				if f.kind == fConnNodes {
					eok = x.writeResolution(f.sel, c)
				} else {
					eok = x.writeCaseEdge(f.sel, c, v.page.field)
				}
				all = w.settleElem(f, es, eok) && all
				w.pop()
			}
			w.buf = append(w.buf, ']')
			fine = w.settle(f, start, all)
		case fConnPageInfo:
			var first, last []byte
			if n := len(v.cases); n > 0 {
				first = appendResolutionCursor(nil, v.cases[0].Case, v.page.field)
				last = appendResolutionCursor(nil, v.cases[n-1].Case, v.page.field)
			}
			fine = w.settle(f, start, x.writePageInfo(f.sel, v.page.hasPrev, v.page.hasNext, first, last))
		}
		w.pop()
		ok = ok && fine
	}
	x.end()
	return ok
}

func (x *run) writeCaseEdge(sel *selPlan, c *model.Resolution, order db.OrderField) bool {
	w := &x.w
	w.buf = append(w.buf, '{')
	ok := true
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fEdgeCursor:
			w.buf = append(w.buf, '"')
			w.buf = appendResolutionCursor(w.buf, c.Case, order)
			w.buf = append(w.buf, '"')
		case fEdgeNode:
			w.push(f.alias)
			start := len(w.buf)
			ok = w.settle(f, start, x.writeResolution(f.sel, c)) && ok
			w.pop()
		}
	}
	x.end()
	return ok
}

// writePageInfo writes a page's info; first and last are the cursors of its first
// and last edges (nil for an empty page).
func (x *run) writePageInfo(sel *selPlan, hasPrev, hasNext bool, first, last []byte) bool {
	w := &x.w
	w.buf = append(w.buf, '{')
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fPageHasNext:
			w.bool(hasNext)
		case fPageHasPrev:
			w.bool(hasPrev)
		case fPageStart, fPageEnd:
			c := first
			if f.kind == fPageEnd {
				c = last
			}
			if c == nil {
				w.null()
			} else {
				w.buf = append(append(append(w.buf, '"'), c...), '"')
			}
		}
	}
	x.end()
	return true
}

func (x *run) writeResolution(sel *selPlan, m *model.Resolution) bool {
	w := &x.w
	rs := x.s.rs
	w.buf = append(w.buf, '{')
	ok := true
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fResID:
			w.str(m.ID())
		case fResStatus:
			w.enum(rs.status, string(m.Status()))
		case fResIssue:
			w.enum(rs.issue, string(m.Issue()))
		case fResCreatedAt:
			w.time(m.CreatedAt())
		case fResUpdatedAt:
			w.time(m.UpdatedAt())
		case fResDueDate:
			w.timePtr(m.DueDate())
		case fResCustomerAppealed:
			w.bool(m.CustomerAppealed())
		case fResMerchantAppealed:
			w.bool(m.MerchantAppealed())
		case fResCustomerActions:
			x.actions(rs.customerAction, m.CustomerResponseActions())
		case fResMerchantActions:
			x.actions(rs.merchantAction, m.MerchantResponseActions())
		case fResPlatformActions:
			x.actions(rs.platformAction, m.PlatformResponseActions())
		case fResViewerActions:
			x.actions(rs.action, m.ViewerActions())
		case fResOutcome:
			if o := m.Outcome(); o != nil {
				w.enum(rs.outcome, string(*o))
			} else {
				w.null()
			}
		case fResRefund:
			if r := m.Refund(); r != nil {
				w.enum(rs.refund, string(*r))
			} else {
				w.null()
			}
		case fResVersion:
			w.int(int64(m.Version()))
		default:
			w.push(f.alias)
			ok = x.writeCaseRelation(f, m) && ok
			w.pop()
		}
	}
	x.end()
	return ok
}

func (x *run) actions(table map[string][]byte, list []dispute.Action) {
	w := &x.w
	w.buf = append(w.buf, '[')
	for i, a := range list {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.enum(table, string(a))
	}
	w.buf = append(w.buf, ']')
}

// writeCaseRelation writes a field of a case that reaches other rows.
func (x *run) writeCaseRelation(f *fieldPlan, m *model.Resolution) bool {
	w := &x.w
	start := len(w.buf)
	switch f.kind {
	case fResCompany:
		return w.settle(f, start, x.companyByID(f.sel, m.Case.CompanyID))
	case fResUser:
		// Whoever sees the case is its customer, its merchant or the platform: all see
		// the customer's e-mail (as the resolver decides).
		return w.settle(f, start, x.userByID(f.sel, m.Case.UserID, true))
	case fResPayment:
		p, found := x.set.Payments[m.Case.PaymentID]
		if !found {
			x.abort = reasonMissingRow
			return false
		}
		return w.settle(f, start, x.writePayment(f.sel, &p))
	case fResMember:
		if m.Case.MemberID == "" {
			w.null()
			return !f.nonNull
		}
		mem, found := x.set.Memberships[m.Case.MemberID]
		if !found {
			x.abort = reasonMissingRow
			return false
		}
		return w.settle(f, start, x.writeMembership(f.sel, &mem))
	case fResRecentEvents:
		evs := x.set.Recent[m.Case.ID]
		w.buf = append(w.buf, '[')
		all := true
		for j := range evs {
			if j > 0 {
				w.buf = append(w.buf, ',')
			}
			w.pushIndex(j)
			es := len(w.buf)
			all = w.settleElem(f, es, x.writeEvent(f.sel, &evs[j])) && all
			w.pop()
		}
		w.buf = append(w.buf, ']')
		return w.settle(f, start, all)
	case fResEvents:
		args := x.argsOf(f)
		q, err := toEventQuery(m.Case.ID, args["first"].(*int), args["after"].(*string), args["last"].(*int), args["before"].(*string))
		if err != nil {
			return w.fail(f, err)
		}
		var evs []dispute.Event
		if q.page.Limit > 0 {
			evs = x.pages[q.page][m.Case.ID]
		}
		page, hasPrev, hasNext := q.present(evs)
		return w.settle(f, start, x.writeEventConnection(f.sel, page, hasPrev, hasNext))
	}
	x.abort = reasonUnsupportedField
	return false
}

func (x *run) writeEventConnection(sel *selPlan, evs []dispute.Event, hasPrev, hasNext bool) bool {
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
			for j := range evs {
				if j > 0 {
					w.buf = append(w.buf, ',')
				}
				w.pushIndex(j)
				es := len(w.buf)
				var eok bool
				if f.kind == fConnNodes {
					eok = x.writeEvent(f.sel, &evs[j])
				} else {
					eok = x.writeEventEdge(f.sel, &evs[j])
				}
				all = w.settleElem(f, es, eok) && all
				w.pop()
			}
			w.buf = append(w.buf, ']')
			fine = w.settle(f, start, all)
		case fConnPageInfo:
			var first, last []byte
			if n := len(evs); n > 0 {
				first = appendEventCursor(nil, evs[0])
				last = appendEventCursor(nil, evs[n-1])
			}
			fine = w.settle(f, start, x.writePageInfo(f.sel, hasPrev, hasNext, first, last))
		}
		w.pop()
		ok = ok && fine
	}
	x.end()
	return ok
}

func (x *run) writeEventEdge(sel *selPlan, e *dispute.Event) bool {
	w := &x.w
	w.buf = append(w.buf, '{')
	ok := true
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fEdgeCursor:
			w.buf = append(w.buf, '"')
			w.buf = appendEventCursor(w.buf, *e)
			w.buf = append(w.buf, '"')
		case fEdgeNode:
			w.push(f.alias)
			start := len(w.buf)
			ok = w.settle(f, start, x.writeEvent(f.sel, e)) && ok
			w.pop()
		}
	}
	x.end()
	return ok
}

func (x *run) writeEvent(sel *selPlan, e *dispute.Event) bool {
	w := &x.w
	rs := x.s.rs
	ev := model.Event{Event: *e}
	w.buf = append(w.buf, '{')
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fEvID:
			w.str(ev.ID())
		case fEvAction:
			w.enum(rs.eventAction, string(ev.Action()))
		case fEvReporter:
			w.enum(rs.reporter, string(ev.ReporterType()))
		case fEvDetails:
			w.strPtr(ev.Details())
		case fEvFrom:
			w.enum(rs.status, string(ev.FromStatus()))
		case fEvTo:
			w.enum(rs.status, string(ev.ToStatus()))
		case fEvByCustomer:
			w.bool(ev.ViewableByCustomer())
		case fEvByMerchant:
			w.bool(ev.ViewableByMerchant())
		case fEvCreatedAt:
			w.time(ev.CreatedAt())
		case fEvPosition:
			w.int(int64(ev.Position()))
		}
	}
	x.end()
	return true
}

// companyByID writes a loaded company.
func (x *run) companyByID(sel *selPlan, id string) bool {
	c, found := x.set.Companies[id]
	if !found {
		x.abort = reasonMissingRow
		return false
	}
	return x.writeCompany(sel, model.NewCompany(c))
}

func (x *run) writeCompany(sel *selPlan, c *model.Company) bool {
	w := &x.w
	w.buf = append(w.buf, '{')
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fCompanyID:
			w.str(c.ID)
		case fCompanyTitle:
			w.str(c.Title)
		case fCompanyRoute:
			w.str(c.Route)
		case fCompanyCreatedAt:
			w.time(c.CreatedAt)
		}
	}
	x.end()
	return true
}

// userByID writes a loaded user; always shows the e-mail, else the e-mail rule of a
// user reached through a payment or membership decides.
func (x *run) userByID(sel *selPlan, id string, always bool) bool {
	u, found := x.set.Users[id]
	if !found {
		x.abort = reasonMissingRow
		return false
	}
	show := always
	if !always {
		var ask bool
		if show, ask = emailVisibility(x.p, id); ask {
			show = x.set.Disputants[id]
		}
	}
	return x.writeUser(sel, model.NewUser(u, show))
}

func (x *run) writeUser(sel *selPlan, u *model.User) bool {
	w := &x.w
	w.buf = append(w.buf, '{')
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fUserID:
			w.str(u.ID)
		case fUserName:
			w.strPtr(u.Name)
		case fUserUsername:
			w.str(u.Username)
		case fUserEmail:
			w.strPtr(u.Email)
		}
	}
	x.end()
	return true
}

func (x *run) writePayment(sel *selPlan, p *db.Payment) bool {
	w := &x.w
	pm := model.Payment{P: *p}
	w.buf = append(w.buf, '{')
	ok := true
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fPayID:
			w.str(pm.ID())
		case fPayCurrency:
			w.str(pm.Currency())
		case fPayTotal:
			x.writeMoney(f.sel, pm.Total())
		case fPaySubtotal:
			if s := pm.Subtotal(); s != nil {
				x.writeMoney(f.sel, *s)
			} else {
				w.null()
			}
		case fPayRefunded:
			x.writeMoney(f.sel, pm.RefundedAmount())
		case fPayStatus:
			w.str(string(pm.Status()))
		case fPayPaidAt:
			w.timePtr(pm.PaidAt())
		case fPayRefundedAt:
			w.timePtr(pm.RefundedAt())
		case fPayCreatedAt:
			w.time(pm.CreatedAt())
		case fPayUser:
			w.push(f.alias)
			start := len(w.buf)
			ok = w.settle(f, start, x.userByID(f.sel, p.UserID, false)) && ok
			w.pop()
		case fPayCompany:
			w.push(f.alias)
			start := len(w.buf)
			ok = w.settle(f, start, x.companyByID(f.sel, p.CompanyID)) && ok
			w.pop()
		}
	}
	x.end()
	return ok
}

func (x *run) writeMoney(sel *selPlan, m model.Money) {
	w := &x.w
	w.buf = append(w.buf, '{')
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fMoneyAmount:
			w.buf = append(w.buf, '"')
			w.buf = m.AppendAmount(w.buf)
			w.buf = append(w.buf, '"')
		case fMoneyCurrency:
			w.str(m.Currency())
		case fMoneyMinor:
			w.int(int64(m.MinorUnits()))
		}
	}
	x.end()
}

func (x *run) writeMembership(sel *selPlan, mem *db.Membership) bool {
	w := &x.w
	mm := model.Membership{M: *mem}
	w.buf = append(w.buf, '{')
	ok := true
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fMemID:
			w.str(mm.ID())
		case fMemStatus:
			w.str(string(mm.Status()))
		case fMemCreatedAt:
			w.time(mm.CreatedAt())
		case fMemCanceledAt:
			w.timePtr(mm.CanceledAt())
		case fMemUser:
			w.push(f.alias)
			start := len(w.buf)
			ok = w.settle(f, start, x.userByID(f.sel, mem.UserID, false)) && ok
			w.pop()
		case fMemCompany:
			w.push(f.alias)
			start := len(w.buf)
			ok = w.settle(f, start, x.companyByID(f.sel, mem.CompanyID)) && ok
			w.pop()
		}
	}
	x.end()
	return ok
}

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
			ok = w.settle(f, start, x.userByID(f.sel, v.UserID, true)) && ok
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
