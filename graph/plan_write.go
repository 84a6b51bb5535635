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
	case fQueryTokens:
		return w.settle(f, start, x.writeTokenConnection(f.sel, v.tokens))
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
		case fConnTotal:
			w.int(int64(v.total))
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

// writeEventConnection writes a page of c's timeline.
func (x *run) writeEventConnection(sel *selPlan, c *model.Resolution, evs []dispute.Event, hasPrev, hasNext bool) bool {
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
		case fConnTotal:
			n, known := knownEventCount(c)
			if !known {
				if n, known = x.set.EventCounts[c.Case.ID]; !known {
					x.abort = reasonMissingRow
					return false
				}
			}
			w.int(int64(n))
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
