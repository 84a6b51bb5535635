package graph

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
)

// A planned run reads in levels. The root fields run their resolvers' functions
// (listResolutions, resolution, loadNodes, summary, toViewer). Then each level asks for
// the related rows of every object of the level above in one db.Read: the companies,
// users, payments, memberships, event pages and e-mail checks of a whole page of cases
// in one statement each, sent together. A payment or membership reached from a case
// belongs to the case's customer and company, so their users and companies are asked
// for with the case's level; a third level is read only when that does not hold.

// run is one execution of a plan.
type run struct {
	ctx  context.Context
	s    *plannedSchema
	plan *plan
	p    *auth.Principal // nil when unauthenticated
	args []map[string]any

	roots []rootValue
	set   db.ReadSet
	// pages holds the events read for each page shape.
	pages map[db.EventPage]map[string][]dispute.Event
	// abort, when set, stops the run: gqlgen's executor answers instead.
	abort unsupported

	w writer
}

// rootValue is what a root field's resolver function returned.
type rootValue struct {
	err     error
	page    casePage
	cases   []*model.Resolution // resolutions (the page) and resolution (one, or none)
	nodes   []model.Node        // node (one) and nodes
	viewer  *model.Viewer
	summary *model.ResolutionSummary
}

// argsOf returns the coerced arguments of a field for this request.
func (x *run) argsOf(f *fieldPlan) map[string]any {
	if f.dynamic {
		return x.args[f.id]
	}
	return f.args
}

// wants collects the keys of one level's read.
type wants struct {
	db.Reads
	pageIdx map[db.EventPage]int
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

// task is a set of objects of one level whose selection may need rows of the next.
type task struct {
	sel   *selPlan
	cases []*model.Resolution
	ids   []string // payments or memberships (by sel.typ)
}

// resolve runs the root fields, then reads level after level until every selected
// relation is loaded.
func (x *run) resolve() {
	var work []task
	x.roots = make([]rootValue, len(x.plan.root.fields))
	for i, f := range x.plan.root.fields {
		work = x.resolveRoot(f, &x.roots[i], work)
		if x.abort != "" {
			return
		}
	}
	for len(work) > 0 && x.abort == "" {
		var w wants
		var next []task
		for _, t := range work {
			next = x.expand(t, &w, next)
		}
		if w.Statements() > 0 {
			if err := x.read(&w.Reads); err != nil {
				x.abort = reasonDatabase
				return
			}
			for p, i := range w.pageIdx {
				if x.pages == nil {
					x.pages = map[db.EventPage]map[string][]dispute.Event{}
				}
				m := x.pages[p]
				if m == nil {
					x.pages[p] = x.set.Pages[i]
					continue
				}
				for id, evs := range x.set.Pages[i] {
					m[id] = evs
				}
			}
		}
		work = next
	}
}

// read runs one level's read, in a span of its own when tracing.
func (x *run) read(r *db.Reads) error {
	ctx := x.ctx
	if x.s.tracer != nil {
		var span trace.Span
		ctx, span = x.s.tracer.Start(ctx, "graphql.plan.read", trace.WithAttributes(
			attribute.Int("plan.statements", r.Statements()),
			attribute.Int("plan.keys", len(r.Companies)+len(r.Users)+len(r.Payments)+len(r.Memberships)+len(r.Recent))))
		defer span.End()
	}
	return x.s.r.DB.Read(ctx, r, &x.set)
}

// resolveRoot runs one root field and returns the work it gives the next level.
func (x *run) resolveRoot(f *fieldPlan, v *rootValue, work []task) []task {
	if f.kind == fTypename {
		return work
	}
	p, err := reader(x.ctx)
	if err != nil {
		v.err = err
		return work
	}
	args := x.argsOf(f)
	r := x.s.r
	switch f.kind {
	case fQueryResolutions:
		v.page, v.err = r.listResolutions(x.ctx, p, args["first"].(*int), args["after"].(*string), args["last"].(*int),
			args["before"].(*string), args["filter"].(*model.ResolutionFilter), args["orderBy"].(*model.ResolutionOrder))
		if v.err != nil {
			break
		}
		v.cases = make([]*model.Resolution, len(v.page.cases))
		for i, c := range v.page.cases {
			v.cases[i] = r.toResolution(c, p)
		}
		for _, cf := range f.sel.fields {
			switch cf.kind {
			case fConnNodes:
				work = append(work, task{sel: cf.sel, cases: v.cases})
			case fConnEdges:
				for _, ef := range cf.sel.fields {
					if ef.kind == fEdgeNode {
						work = append(work, task{sel: ef.sel, cases: v.cases})
					}
				}
			}
		}
	case fQueryResolution:
		var m *model.Resolution
		if m, v.err = r.resolution(x.ctx, p, "id", args["id"].(string)); v.err == nil {
			v.cases = []*model.Resolution{m}
			work = append(work, task{sel: f.sel, cases: v.cases})
		}
	case fQueryNode, fQueryNodes:
		ids, _ := args["ids"].([]string)
		if f.kind == fQueryNode {
			ids = []string{args["id"].(string)}
		}
		if v.nodes, v.err = r.loadNodes(x.ctx, p, ids); v.err == nil {
			work = x.nodeWork(f, v.nodes, work)
		}
	case fQueryViewer:
		v.viewer = toViewer(p)
		work = append(work, task{sel: f.sel})
	case fQuerySummary:
		v.summary, v.err = r.summary(x.ctx, p, args["filter"].(*model.ResolutionFilter))
	}
	if v.err != nil && isDatabaseError(v.err) {
		x.abort = reasonDatabase
	}
	return work
}

// isDatabaseError tells a failure to read (which gqlgen's executor answers in its own
// way, field by field) from a refusal of the request.
func isDatabaseError(err error) bool {
	var de *dispute.Error
	if !errors.As(err, &de) {
		return true
	}
	return de.Code == dispute.CodeUnavailable || de.Code == dispute.CodeInternal
}

// nodeWork files the objects node(s) returned by type: cases need their relations,
// payments and memberships theirs (their rows are kept for the next level).
func (x *run) nodeWork(f *fieldPlan, nodes []model.Node, work []task) []task {
	var cases []*model.Resolution
	var pays, mems []string
	for _, n := range nodes {
		switch o := n.(type) {
		case *model.Resolution:
			cases = append(cases, o)
		case *model.Payment:
			x.keepPayment(o.P)
			pays = append(pays, o.P.ID)
		case *model.Membership:
			x.keepMembership(o.M)
			mems = append(mems, o.M.ID)
		}
	}
	if len(cases) > 0 {
		work = append(work, task{sel: f.byType[tResolution], cases: cases})
	}
	if len(pays) > 0 {
		work = append(work, task{sel: f.byType[tPayment], ids: pays})
	}
	if len(mems) > 0 {
		work = append(work, task{sel: f.byType[tMembership], ids: mems})
	}
	return work
}

func (x *run) keepPayment(p db.Payment) {
	if x.set.Payments == nil {
		x.set.Payments = map[string]db.Payment{}
	}
	x.set.Payments[p.ID] = p
}

func (x *run) keepMembership(m db.Membership) {
	if x.set.Memberships == nil {
		x.set.Memberships = map[string]db.Membership{}
	}
	x.set.Memberships[m.ID] = m
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
		for _, c := range cases {
			q, err := toEventQuery(c.Case.ID, args["first"].(*int), args["after"].(*string), args["last"].(*int), args["before"].(*string))
			if err != nil || q.page.Limit == 0 {
				continue // the error is reported where the field is written
			}
			if _, ok := x.pages[q.page][c.Case.ID]; !ok {
				x.page(w, q.page, db.CaseView{CaseID: c.Case.ID, Role: c.Role})
			}
		}
	}
	return next
}
