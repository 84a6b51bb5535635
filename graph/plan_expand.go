package graph

import (
	"resolutioncenter/db"
	"resolutioncenter/graph/model"
)

// Expanding a level: for each object of the level and each relation its selection
// asks for, the keys of the next level's read (wants), skipping what is loaded already.

// wants collects the keys of one level's read.
type wants struct {
	db.Reads
	pageIdx map[db.EventPage]int
	// counted are the root values whose totalCount or summary Reads.Counts holds, in
	// its order.
	counted []*rootValue
}

func addKey(list []string, k string) []string {
	for _, v := range list {
		if v == k {
			return list
		}
	}
	return append(list, k)
}

func (x *run) company(w *wants, id string) {
	if _, ok := x.set.Companies[id]; !ok {
		w.Companies = addKey(w.Companies, id)
	}
}

func (x *run) user(w *wants, id string) {
	if _, ok := x.set.Users[id]; !ok {
		w.Users = addKey(w.Users, id)
	}
}

// disputant asks, when the e-mail rule needs it, whether the user disputes with one of
// the viewer's companies.
func (x *run) disputant(w *wants, userID string) {
	if _, ask := emailVisibility(x.p, userID); !ask {
		return
	}
	if _, ok := x.set.Disputants[userID]; !ok {
		w.DisputantUsers = addKey(w.DisputantUsers, userID)
		w.DisputantCompanies = x.p.MerchantOf()
	}
}

func (x *run) page(w *wants, p db.EventPage, v db.CaseView) {
	if w.pageIdx == nil {
		w.pageIdx = map[db.EventPage]int{}
	}
	i, ok := w.pageIdx[p]
	if !ok {
		i = len(w.Pages)
		w.pageIdx[p] = i
		w.Pages = append(w.Pages, db.PageRead{Page: p})
	}
	w.Pages[i].Views = addView(w.Pages[i].Views, v)
}

func addView(list []db.CaseView, v db.CaseView) []db.CaseView {
	for _, o := range list {
		if o == v {
			return list
		}
	}
	return append(list, v)
}

// eventCount asks for the number of events of c's timeline its viewer may see, unless
// the case row holds it (knownEventCount) or it is read already.
func (x *run) eventCount(w *wants, c *model.Resolution) {
	if _, known := knownEventCount(c); known {
		return
	}
	if _, ok := x.set.EventCounts[c.Case.ID]; !ok {
		w.EventCounts = addView(w.EventCounts, db.CaseView{CaseID: c.Case.ID, Role: c.Role})
	}
}

// hasField reports whether sel selects a field of kind k.
func hasField(sel *selPlan, k fieldKind) bool {
	if sel == nil {
		return false
	}
	for _, f := range sel.fields {
		if f.kind == k {
			return true
		}
	}
	return false
}

// userNeeds asks for a user reached through a payment or membership: the row, and the
// e-mail check when the e-mail is selected.
func (x *run) userNeeds(w *wants, sel *selPlan, userID string) {
	x.user(w, userID)
	if hasField(sel, fUserEmail) {
		x.disputant(w, userID)
	}
}

// expand asks for the rows task's objects need and returns the tasks of the objects
// those rows are.
func (x *run) expand(t task, w *wants, next []task) []task {
	if t.sel == nil {
		return next
	}
	switch t.sel.typ {
	case tResolution:
		for _, f := range t.sel.fields {
			next = x.expandCaseField(f, t.cases, w, next)
		}
	case tPayment, tMembership:
		for _, id := range t.ids {
			userID, companyID, ok := x.owner(t.sel.typ, id)
			if !ok {
				x.abort = reasonMissingRow
				return next
			}
			for _, f := range t.sel.fields {
				switch f.kind {
				case fPayUser, fMemUser:
					x.userNeeds(w, f.sel, userID)
				case fPayCompany, fMemCompany:
					x.company(w, companyID)
				}
			}
		}
	case tToken:
		for _, tok := range t.tokens {
			for _, f := range t.sel.fields {
				switch {
				case f.kind == fTokUser && tok.UserID != "":
					x.user(w, tok.UserID)
				case f.kind == fTokCompany && tok.CompanyID != "":
					x.company(w, tok.CompanyID)
				}
			}
		}
	case tViewer:
		v := x.viewer()
		for _, f := range t.sel.fields {
			switch f.kind {
			case fViewerUser:
				if v.UserID != "" {
					x.user(w, v.UserID)
				}
			case fViewerCompany:
				if v.CompanyID != "" {
					x.company(w, v.CompanyID)
				}
			case fViewerCompanies:
				for _, id := range v.CompanyIDs {
					x.company(w, id)
				}
			}
		}
	}
	return next
}

// owner returns the user and company of a loaded payment or membership.
func (x *run) owner(t objType, id string) (userID, companyID string, ok bool) {
	if t == tPayment {
		p, ok := x.set.Payments[id]
		return p.UserID, p.CompanyID, ok
	}
	m, ok := x.set.Memberships[id]
	return m.UserID, m.CompanyID, ok
}

func (x *run) viewer() *model.Viewer {
	for i, f := range x.plan.root.fields {
		if f.kind == fQueryViewer && x.roots[i].viewer != nil {
			return x.roots[i].viewer
		}
	}
	return &model.Viewer{}
}

// expandCaseField asks for what field f of every case needs.
func (x *run) expandCaseField(f *fieldPlan, cases []*model.Resolution, w *wants, next []task) []task {
	switch f.kind {
	case fResCompany:
		for _, c := range cases {
			x.company(w, c.Case.CompanyID)
		}
	case fResUser:
		for _, c := range cases {
			x.user(w, c.Case.UserID)
		}
	case fResPayment, fResMember:
		var ids []string
		for _, c := range cases {
			id := c.Case.PaymentID
			if f.kind == fResMember {
				if id = c.Case.MemberID; id == "" {
					continue
				}
			}
			if f.kind == fResPayment {
				if _, ok := x.set.Payments[id]; !ok {
					w.Payments = addKey(w.Payments, id)
				}
			} else if _, ok := x.set.Memberships[id]; !ok {
				w.Memberships = addKey(w.Memberships, id)
			}
			ids = append(ids, id)
			// Their user and company are the case's: ask for them now.
			for _, sf := range f.sel.fields {
				switch sf.kind {
				case fPayUser, fMemUser:
					x.userNeeds(w, sf.sel, c.Case.UserID)
				case fPayCompany, fMemCompany:
					x.company(w, c.Case.CompanyID)
				}
			}
		}
		if len(ids) > 0 {
			next = append(next, task{sel: f.sel, ids: ids})
		}
	case fResRecentEvents:
		for _, c := range cases {
			if _, ok := x.set.Recent[c.Case.ID]; !ok {
				w.Recent = addView(w.Recent, db.CaseView{CaseID: c.Case.ID, Role: c.Role})
			}
		}
		w.RecentN = recentCount
	case fResEvents:
		args := x.argsOf(f)
		counted, paged := hasField(f.sel, fConnTotal), hasField(f.sel, fConnPageInfo)
		for _, c := range cases {
			q, err := toEventQuery(c.Case.ID, args["first"].(*int), args["after"].(*string), args["last"].(*int), args["before"].(*string),
				args["orderBy"].(*model.ResolutionEventOrder))
			if err != nil {
				continue // the error is reported where the field is written
			}
			if counted {
				x.eventCount(w, c)
			}
			if q.page.Limit == 0 && !paged { // an empty page is read for its page info only
				continue
			}
			if _, ok := x.pages[q.page][c.Case.ID]; !ok {
				x.page(w, q.page, db.CaseView{CaseID: c.Case.ID, Role: c.Role})
			}
		}
	}
	return next
}
