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
// (listResolutions, resolution, loadNodes, toViewer, tokens); the counts of cases
// (resolutionSummary, a connection's totalCount) join the first level's read with
// their resolvers' statements (db.CountRead). Then each level asks for the related rows
// of every object of the level above in one db.Read: the companies, users, payments,
// memberships, event pages, events' counts and e-mail checks of a whole page of cases
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
	tokens  *model.APITokenConnection
	// total is the connection's totalCount (resolutions), read with the first level
	// (as summary is).
	total int
}

// argsOf returns the coerced arguments of a field for this request.
func (x *run) argsOf(f *fieldPlan) map[string]any {
	if f.dynamic {
		return x.args[f.id]
	}
	return f.args
}

// task is a set of objects of one level whose selection may need rows of the next.
type task struct {
	sel    *selPlan
	cases  []*model.Resolution
	ids    []string // payments or memberships (by sel.typ)
	tokens []*model.ApiToken
}

// resolve runs the root fields, then reads level after level until every selected
// relation is loaded.
func (x *run) resolve() {
	var work []task
	var w wants // the first level's reads: root fields add their counts of cases
	x.roots = make([]rootValue, len(x.plan.root.fields))
	for i, f := range x.plan.root.fields {
		work = x.resolveRoot(f, &x.roots[i], &w, work)
		if x.abort != "" {
			return
		}
	}
	for (len(work) > 0 || w.Statements() > 0) && x.abort == "" {
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
			for i, v := range w.counted {
				if w.Counts[i].Summary {
					v.summary = toSummary(x.set.Counts[i])
				} else {
					v.total = x.set.Counts[i].Total
				}
			}
		}
		work, w = next, wants{}
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
func (x *run) resolveRoot(f *fieldPlan, v *rootValue, w *wants, work []task) []task {
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
			args["before"].(*string), args["filter"].(*model.ResolutionFilter), args["orderBy"].(*model.ResolutionOrder),
			hasField(f.sel, fConnPageInfo))
		if v.err != nil {
			break
		}
		v.cases = make([]*model.Resolution, len(v.page.cases))
		for i, c := range v.page.cases {
			v.cases[i] = r.toResolution(c, p)
		}
		counted := false
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
			case fConnTotal:
				// totalCount's statement (the resolver's, r.totalCount) joins the
				// first level's round trip, once however many aliases ask.
				if !counted {
					counted = true
					w.Counts = append(w.Counts, db.CountRead{Scope: v.page.scope, Filter: v.page.filter})
					w.counted = append(w.counted, v)
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
		// The resolver's (r.summary) reading of the filter, and its statement with the
		// first level's reads.
		var f db.Filter
		if f, v.err = toFilter(args["filter"].(*model.ResolutionFilter)); v.err == nil {
			w.Counts = append(w.Counts, db.CountRead{Scope: p.Scope(), Filter: f, Summary: true})
			w.counted = append(w.counted, v)
		}
	case fQueryTokens:
		v.tokens, v.err = r.tokens(x.ctx, args["first"].(*int), args["after"].(*string), args["filter"].(*model.APITokenFilter))
		if v.err != nil {
			break
		}
		for _, cf := range f.sel.fields {
			switch cf.kind {
			case fConnNodes:
				work = append(work, task{sel: cf.sel, tokens: v.tokens.Nodes})
			case fConnEdges:
				for _, ef := range cf.sel.fields {
					if ef.kind == fEdgeNode {
						work = append(work, task{sel: ef.sel, tokens: v.tokens.Nodes})
					}
				}
			}
		}
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
