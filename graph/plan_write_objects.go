package graph

import (
	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
)

// The planned writer's objects: a case and what it reaches. Scalars and enums come
// from the model's accessors (the ones gqlgen's executor marshals), so both executors
// format every value the same way.

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
		return w.settle(f, start, x.userAt(f.sel, m.Case.UserID, caseCustomer))
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
		return w.settle(f, start, x.list(f, len(evs), func(j int) bool { return x.writeEvent(f.sel, &evs[j]) }))
	case fResEvents:
		args := x.argsOf(f)
		q, err := toEventQuery(m.Case.ID, args["first"].(*int), args["after"].(*string), args["last"].(*int), args["before"].(*string),
			args["orderBy"].(*model.ResolutionEventOrder))
		if err != nil {
			return w.fail(f, err)
		}
		page, hasPrev, hasNext := q.present(x.pages[q.page][m.Case.ID])
		return w.settle(f, start, x.writeEventConnection(f.sel, m, page, hasPrev, hasNext))
	}
	x.abort = reasonUnsupportedField
	return false
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

// userAt writes a loaded user as the position shows it (caseCustomer, viewerUser, or
// nil: the e-mail rule of a user reached through a payment or membership).
func (x *run) userAt(sel *selPlan, id string, as func(db.User) *model.User) bool {
	u, found := x.set.Users[id]
	if !found {
		x.abort = reasonMissingRow
		return false
	}
	if as != nil {
		return x.writeUser(sel, as(u))
	}
	show, ask := emailVisibility(x.p, id)
	if ask {
		show = x.set.Disputants[id]
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
			ok = w.close(f, w.open(f), x.userAt(f.sel, p.UserID, nil)) && ok
		case fPayCompany:
			ok = w.close(f, w.open(f), x.companyByID(f.sel, p.CompanyID)) && ok
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
			ok = w.close(f, w.open(f), x.userAt(f.sel, mem.UserID, nil)) && ok
		case fMemCompany:
			ok = w.close(f, w.open(f), x.companyByID(f.sel, mem.CompanyID)) && ok
		}
	}
	x.end()
	return ok
}
