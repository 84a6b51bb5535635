package graph

import (
	"strconv"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"resolutioncenter/graph/model"
)

// writer appends a response's data to one buffer, keeps the path of the value being
// written (for errors) and the field errors met on the way.
type writer struct {
	buf  []byte
	path []pathElem
	errs []fieldError
	// budget, when set, ends the run once the data grows past it (see plan_budget.go).
	budget *planBudget
	// charged is what gqlgen's executor charges the budget with as fields resolve: the
	// JSON size of every long text written, kept even when an error nulls it later.
	charged int
}

// charge records a text value of n bytes written as JSON in size bytes (see charged).
func (w *writer) charge(n, size int) {
	if w.budget != nil && n >= minCountedText {
		w.charged += size
	}
}

// pathElem is a field's response name, or (name "") a list index.
type pathElem struct {
	name  string
	index int
}

// fieldError is an error a field's resolver function returned, where it was met.
type fieldError struct {
	err  error
	path ast.Path
	loc  gqlerror.Location
}

func (w *writer) push(name string) { w.path = append(w.path, pathElem{name: name}) }
func (w *writer) pushIndex(i int)  { w.path = append(w.path, pathElem{index: i}) }
func (w *writer) pop()             { w.path = w.path[:len(w.path)-1] }

// currentPath copies the path of the value being written.
func (w *writer) currentPath() ast.Path {
	p := make(ast.Path, len(w.path))
	for i, e := range w.path {
		if e.name != "" {
			p[i] = ast.PathName(e.name)
		} else {
			p[i] = ast.PathIndex(e.index)
		}
	}
	return p
}

// fail records err as the error of field f (whose name is on the path) and writes
// null; it returns false when f may not be null, which makes its parent null.
func (w *writer) fail(f *fieldPlan, err error) bool {
	w.errs = append(w.errs, fieldError{err: err, path: w.currentPath(), loc: f.loc})
	w.null()
	return !f.nonNull
}

// settle ends the value of field f begun at start: a value that turned null (ok
// false) is replaced by null when f is nullable, and makes the parent null otherwise.
func (w *writer) settle(f *fieldPlan, start int, ok bool) bool {
	if ok {
		return true
	}
	if f.nonNull {
		return false
	}
	w.buf = append(w.buf[:start], "null"...)
	return true
}

// open begins the value of field f: its name goes on the path, and the offset it
// returns is where the value starts. With close it brackets a value written by a call:
//
//	ok = w.close(f, w.open(f), x.writeUser(f.sel, u)) && ok
//
// (Go evaluates the calls among a call's arguments left to right, so open runs first.)
func (w *writer) open(f *fieldPlan) int {
	w.push(f.alias)
	return len(w.buf)
}

// close ends the value of field f begun at start (see settle) and takes its name off
// the path.
func (w *writer) close(f *fieldPlan, start int, ok bool) bool {
	ok = w.settle(f, start, ok)
	w.pop()
	return ok
}

// settleElem does for a list element what settle does for a field.
func (w *writer) settleElem(f *fieldPlan, start int, ok bool) bool {
	if ok {
		return true
	}
	if f.elemNonNull {
		return false
	}
	w.buf = append(w.buf[:start], "null"...)
	return true
}

// key starts field f of an object; first tells whether it is the object's first.
func (w *writer) key(f *fieldPlan, first bool) {
	if !first {
		w.buf = append(w.buf, ',')
	}
	w.buf = append(w.buf, f.key...)
}

func (w *writer) null() { w.buf = append(w.buf, "null"...) }

func (w *writer) bool(v bool) {
	if v {
		w.buf = append(w.buf, "true"...)
	} else {
		w.buf = append(w.buf, "false"...)
	}
}

func (w *writer) int(v int64) { w.buf = strconv.AppendInt(w.buf, v, 10) }

func (w *writer) time(t time.Time) { w.buf = model.AppendDateTime(w.buf, t) }

func (w *writer) timePtr(t *time.Time) {
	if t == nil {
		w.null()
		return
	}
	w.time(*t)
}

func (w *writer) strPtr(s *string) {
	if s == nil {
		w.null()
		return
	}
	w.str(*s)
}

// strs writes a list of strings.
func strs[S ~string](w *writer, list []S) {
	w.buf = append(w.buf, '[')
	for i, s := range list {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.str(string(s))
	}
	w.buf = append(w.buf, ']')
}

// enum writes the GraphQL name of a domain value; a value the enum does not know is
// written as "" (as gqlgen's generated marshallers do).
func (w *writer) enum(table map[string][]byte, wire string) {
	if b, ok := table[wire]; ok {
		w.buf = append(w.buf, b...)
		return
	}
	w.buf = append(w.buf, `""`...)
}

const hexDigits = "0123456789ABCDEF"

// escaped marks the bytes a JSON string must escape: the controls, quote and backslash.
var escaped = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// str writes s as a JSON string exactly as gqlgen's graphql.MarshalString does:
// quote, backslash and control characters escaped (\t \r \n by name, the others as
// \u00XX), everything else, invalid UTF-8 included, as is.
func (w *writer) str(s string) {
	b := append(w.buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !escaped[c] {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		case '\n':
			b = append(b, '\\', 'n')
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	w.charge(len(s), len(b)+1-len(w.buf))
	w.buf = append(b, '"')
}
