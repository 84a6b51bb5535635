package graph

import (
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
		return w.settle(f, start, x.list(f, len(v.nodes), func(j int) bool {
			if v.nodes[j] == nil {
				w.null()
				return false
			}
			return x.writeNode(f, v.nodes[j])
		}))
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

// end closes an object and checks the response budget: the data written, and the
// long texts gqlgen's executor would have charged (writer.charged).
func (x *run) end() {
	x.w.buf = append(x.w.buf, '}')
	if x.w.budget.exceeded(len(x.w.buf)) || x.w.budget.exceeded(x.w.charged) {
		x.abort = reasonTooLarge
	}
}

// writeCaseConnection writes a page of cases.
func (x *run) writeCaseConnection(sel *selPlan, v *rootValue) bool {
	order := v.page.field
	return x.writeConnection(sel, &page{
		n: len(v.cases), hasPrev: v.page.hasPrev, hasNext: v.page.hasNext,
		node:   func(sel *selPlan, j int) bool { return x.writeResolution(sel, v.cases[j]) },
		cursor: func(b []byte, j int) []byte { return appendResolutionCursor(b, v.cases[j].Case, order) },
		total: func() bool {
			x.w.int(int64(v.total))
			return true
		},
	})
}

// writeEventConnection writes a page of c's timeline.
func (x *run) writeEventConnection(sel *selPlan, c *model.Resolution, evs []dispute.Event, hasPrev, hasNext bool) bool {
	return x.writeConnection(sel, &page{
		n: len(evs), hasPrev: hasPrev, hasNext: hasNext,
		node:   func(sel *selPlan, j int) bool { return x.writeEvent(sel, &evs[j]) },
		cursor: func(b []byte, j int) []byte { return appendEventCursor(b, evs[j]) },
		total: func() bool {
			n, known := knownEventCount(c)
			if !known {
				if n, known = x.set.EventCounts[c.Case.ID]; !known {
					x.abort = reasonMissingRow
					return false
				}
			}
			x.w.int(int64(n))
			return true
		},
	})
}

// page is one page of a Relay connection, as writeConnection needs it.
type page struct {
	n                int
	hasPrev, hasNext bool
	// node writes node j with the selection given.
	node func(sel *selPlan, j int) bool
	// cursor appends the cursor of node j, unquoted (cursors need no escaping).
	cursor func(b []byte, j int) []byte
	// total writes totalCount; false when the run must abort. nil for a connection
	// type without totalCount (the plan never asks it then).
	total func() bool
}

// writeConnection writes a connection object: edges, nodes, pageInfo, totalCount.
func (x *run) writeConnection(sel *selPlan, p *page) bool {
	w := &x.w
	w.buf = append(w.buf, '{')
	ok := true
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fConnNodes:
			ok = w.close(f, w.open(f), x.list(f, p.n, func(j int) bool { return p.node(f.sel, j) })) && ok
		case fConnEdges:
			ok = w.close(f, w.open(f), x.list(f, p.n, func(j int) bool { return x.writeEdge(f.sel, p, j) })) && ok
		case fConnPageInfo:
			ok = w.close(f, w.open(f), x.writePageInfo(f.sel, p)) && ok
		case fConnTotal:
			if p.total == nil {
				x.abort = reasonUnsupportedField
				return false
			}
			if !p.total() {
				return false
			}
		}
	}
	x.end()
	return ok
}

// writeEdge writes edge j of a page.
func (x *run) writeEdge(sel *selPlan, p *page, j int) bool {
	w := &x.w
	w.buf = append(w.buf, '{')
	ok := true
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fEdgeCursor:
			x.cursor(p, j)
		case fEdgeNode:
			ok = w.close(f, w.open(f), p.node(f.sel, j)) && ok
		}
	}
	x.end()
	return ok
}

// writePageInfo writes a page's info; its cursors are those of its first and last
// edges (null for an empty page).
func (x *run) writePageInfo(sel *selPlan, p *page) bool {
	w := &x.w
	w.buf = append(w.buf, '{')
	for i, f := range sel.fields {
		w.key(f, i == 0)
		switch f.kind {
		case fTypename:
			w.str(typeNames[sel.typ])
		case fPageHasNext:
			w.bool(p.hasNext)
		case fPageHasPrev:
			w.bool(p.hasPrev)
		case fPageStart, fPageEnd:
			if p.n == 0 {
				w.null()
				continue
			}
			j := 0
			if f.kind == fPageEnd {
				j = p.n - 1
			}
			x.cursor(p, j)
		}
	}
	x.end()
	return true
}

// cursor writes the cursor of node j of a page as a string (a text value charged as
// any other, see writer.charged).
func (x *run) cursor(p *page, j int) {
	w := &x.w
	w.buf = append(w.buf, '"')
	start := len(w.buf)
	w.buf = p.cursor(w.buf, j)
	w.charge(len(w.buf)-start, len(w.buf)-start+2)
	w.buf = append(w.buf, '"')
}

// list writes the n elements of list field f, element j by elem(j), each with its
// index on the path; an element that turned null is settled as settleElem says.
func (x *run) list(f *fieldPlan, n int, elem func(j int) bool) bool {
	w := &x.w
	w.buf = append(w.buf, '[')
	all := true
	for j := range n {
		if j > 0 {
			w.buf = append(w.buf, ',')
		}
		w.pushIndex(j)
		start := len(w.buf)
		all = w.settleElem(f, start, elem(j)) && all
		w.pop()
	}
	w.buf = append(w.buf, ']')
	return all
}
