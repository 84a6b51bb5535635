package graph_test

import (
	"fmt"
	"math/rand/v2"
	"strings"

	gqlast "github.com/vektah/gqlparser/v2/ast"
	gqlparser "github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// opGen writes random valid query operations over the read schema: root fields with
// arguments good and bad (page sizes, cursors of this and other orders and cases,
// filters, IDs of every kind, unknown and malformed), nested selections, aliases,
// fields repeated to be merged, inline fragments with and without a type condition,
// named fragments, @skip and @include with literals and variables, __typename, and
// the Node interface with fragments on its types. Selections pick any field of a type,
// so every field the planner knows is drawn (totalCount, waitingOnMe...); filters
// carry waitingOnMe and dates that cut the world's cases; the caller's tokens are
// listed with their filters and cursors.
type opGen struct {
	rnd    *rand.Rand
	schema *gqlast.Schema
	world  *planWorld

	vars     []string
	values   map[string]any
	frags    []string
	nFrags   int
	nVars    int
	nAliases int
	invalid  int // operations the validator refused (regenerated)
}

func newOpGen(seed uint64, schema *gqlast.Schema, w *planWorld) *opGen {
	return &opGen{rnd: rand.New(rand.NewPCG(seed, 12)), schema: schema, world: w}
}

// next returns a valid operation and its variables.
func (g *opGen) next() (string, map[string]any) {
	for {
		q, vars := g.operation()
		doc, err := gqlparser.ParseQuery(&gqlast.Source{Input: q})
		if err == nil && len(validator.Validate(g.schema, doc)) == 0 {
			return q, vars
		}
		g.invalid++
	}
}

func (g *opGen) chance(p float64) bool { return g.rnd.Float64() < p }

func (g *opGen) pick(list []string) string { return list[g.rnd.IntN(len(list))] }

func (g *opGen) operation() (string, map[string]any) {
	g.vars, g.values, g.frags, g.nFrags, g.nVars, g.nAliases = nil, map[string]any{}, nil, 0, 0, 0
	var b strings.Builder
	n := 1 + g.rnd.IntN(3)
	for range n {
		b.WriteString(g.rootField())
		b.WriteByte(' ')
	}
	if g.chance(0.1) {
		b.WriteString("__typename ")
	}
	body := b.String()
	head := "query"
	if g.chance(0.5) {
		head += " Op"
	}
	if len(g.vars) > 0 {
		head += "(" + strings.Join(g.vars, ", ") + ")"
	}
	return head + " { " + body + "}" + strings.Join(g.frags, ""), g.values
}

// variable declares a variable of type typ with value v and returns its reference.
func (g *opGen) variable(typ string, v any) string {
	g.nVars++
	name := fmt.Sprintf("v%d", g.nVars)
	g.vars = append(g.vars, "$"+name+": "+typ)
	if v != nil {
		g.values[name] = v
	}
	return "$" + name
}

// alias gives a field a fresh alias now and then (a repeated alias would rarely be a
// valid merge; fields repeated on purpose are merged by selection).
func (g *opGen) alias(name string) string {
	if g.chance(0.2) {
		g.nAliases++
		return fmt.Sprintf("%s%d: %s", g.pick([]string{"a", "b", "x"}), g.nAliases, name)
	}
	return name
}

func (g *opGen) rootField() string {
	switch g.rnd.IntN(11) {
	case 0, 1, 2:
		return g.alias("resolutions") + g.resolutionsArgs() + g.directives() + " " + g.selection("ResolutionConnection", 1)
	case 3, 4:
		return g.alias("resolution") + "(id: " + g.idValue([]string{"reso", "reso", "reso", "pay"}) + ")" + g.directives() + " " + g.selection("Resolution", 1)
	case 5:
		return g.alias("node") + "(id: " + g.idValue([]string{"reso", "biz", "user", "pay", "mem", "revt"}) + ") " + g.selection("Node", 1)
	case 6:
		var ids []any
		n := g.rnd.IntN(7)
		if g.chance(0.03) {
			n = 101 // over nodes' limit
		}
		for range n {
			ids = append(ids, g.id(g.pick([]string{"reso", "biz", "user", "pay", "mem", "revt"})))
		}
		arg := "(ids: " + literal(ids) + ")"
		if g.chance(0.4) {
			arg = "(ids: " + g.variable("[ID!]!", ids) + ")"
		}
		return g.alias("nodes") + arg + " " + g.selection("Node", 1)
	case 7:
		return g.alias("viewer") + " " + g.selection("Viewer", 1)
	case 8:
		f := ""
		if g.chance(0.6) {
			f = "(filter: " + g.filter() + ")"
		}
		return g.alias("resolutionSummary") + f + " " + g.selection("ResolutionSummary", 1)
	case 9:
		return g.alias("tokens") + g.tokensArgs() + g.directives() + " " + g.selection("ApiTokenConnection", 1)
	}
	return "__typename"
}

// tokensArgs are tokens' first, after and filter, mostly valid.
func (g *opGen) tokensArgs() string {
	var args []string
	if g.chance(0.5) {
		args = append(args, "first: "+g.intValue([]int{0, 1, 2, 5, 20, 101, -1}))
	}
	if g.chance(0.3) {
		args = append(args, "after: "+g.cursor())
	}
	if g.chance(0.5) {
		f := map[string]any{}
		if g.chance(0.4) {
			f["userId"] = g.id(g.pick([]string{"user", "user", "biz"}))
		}
		if g.chance(0.4) {
			f["companyId"] = g.id(g.pick([]string{"biz", "biz", "user"}))
		}
		if g.chance(0.6) {
			f["includeRevoked"] = g.chance(0.5)
		}
		v := literal(f)
		if g.chance(0.3) {
			v = g.variable("ApiTokenFilter", jsonValue(f))
		}
		args = append(args, "filter: "+v)
	}
	if len(args) == 0 {
		return ""
	}
	return "(" + strings.Join(args, ", ") + ")"
}

func (g *opGen) id(kind string) string { return g.pick(g.world.ids[kind]) }

func (g *opGen) idValue(kinds []string) string {
	id := g.id(g.pick(kinds))
	if g.chance(0.5) {
		return g.variable("ID!", id)
	}
	return literal(id)
}

func (g *opGen) intValue(sizes []int) string {
	v := sizes[g.rnd.IntN(len(sizes))]
	if g.chance(0.3) {
		return g.variable("Int", v)
	}
	return fmt.Sprint(v)
}

func (g *opGen) cursor() string {
	c := g.pick(g.world.cursors)
	if g.chance(0.3) {
		return g.variable("String", c)
	}
	return literal(c)
}

// pageArgs are first/after/last/before, mostly valid.
func (g *opGen) pageArgs(sizes []int) []string {
	var args []string
	if g.chance(0.7) {
		args = append(args, "first: "+g.intValue(sizes))
	}
	if g.chance(0.15) {
		args = append(args, "last: "+g.intValue(sizes))
	}
	if g.chance(0.2) {
		args = append(args, "after: "+g.cursor())
	}
	if g.chance(0.1) {
		args = append(args, "before: "+g.cursor())
	}
	return args
}

func (g *opGen) resolutionsArgs() string {
	args := g.pageArgs([]int{0, 1, 2, 3, 3, 5, 8, 101, -1})
	if g.chance(0.4) {
		args = append(args, "filter: "+g.filter())
	}
	if g.chance(0.3) {
		o := "{field: " + g.pick([]string{"CREATED_AT", "DUE_DATE"}) + ", direction: " + g.pick([]string{"ASC", "DESC"}) + "}"
		if g.chance(0.3) {
			o = "{direction: ASC}"
		}
		args = append(args, "orderBy: "+o)
	}
	if len(args) == 0 {
		return ""
	}
	return "(" + strings.Join(args, ", ") + ")"
}

func (g *opGen) filter() string {
	f := map[string]any{}
	if g.chance(0.3) {
		f["companyId"] = g.id(g.pick([]string{"biz", "biz", "user"}))
	}
	if g.chance(0.2) {
		f["userId"] = g.id(g.pick([]string{"user", "user", "biz"}))
	}
	if g.chance(0.3) {
		var st []any
		for range 1 + g.rnd.IntN(3) {
			st = append(st, enumValue(g.pick([]string{"MERCHANT_RESPONSE_NEEDED", "CUSTOMER_RESPONSE_NEEDED", "UNDER_PLATFORM_REVIEW", "CUSTOMER_WON", "MERCHANT_WON", "CUSTOMER_WITHDREW"})))
		}
		f["statuses"] = st
	}
	if g.chance(0.2) {
		f["issues"] = []any{enumValue(g.pick([]string{"FORGOT_TO_CANCEL", "ITEM_NOT_RECEIVED", "PRODUCT_UNACCEPTABLE"}))}
	}
	if g.chance(0.15) {
		f["outcome"] = enumValue(g.pick([]string{"CUSTOMER_WON", "MERCHANT_WON", "WITHDRAWN"}))
	}
	if g.chance(0.3) {
		f["waitingOnMe"] = []any{true, true, false, nil}[g.rnd.IntN(4)]
	}
	// Instants before, inside and after the world's cases (opened from 09:01 on
	// 2026-06-01, a minute apart; deadlines a week later), and one that is no date.
	for _, k := range []string{"createdBefore", "createdAfter", "dueBefore"} {
		if g.chance(0.15) {
			f[k] = g.pick([]string{"2026-06-01T09:05:00Z", "2026-06-01T09:10:00.000+02:00", "2026-06-01T09:20:00Z",
				"2026-06-01T09:33:30.5Z", "2026-06-08T09:30:00Z", "2030-01-01T00:00:00Z", "not a date"})
		}
	}
	if g.chance(0.3) {
		return g.variable("ResolutionFilter", jsonValue(f))
	}
	return literal(f)
}

// directives adds @skip or @include, with a literal or a variable.
func (g *opGen) directives() string {
	if !g.chance(0.12) {
		return ""
	}
	name := g.pick([]string{"skip", "include"})
	cond := literal(g.chance(0.5))
	if g.chance(0.6) {
		cond = g.variable("Boolean!", g.chance(0.5))
	}
	return " @" + name + "(if: " + cond + ")"
}

const maxGenDepth = 5

// selection writes a selection set on type name.
func (g *opGen) selection(name string, depth int) string {
	def := g.schema.Types[name]
	var parts []string
	if def.Kind == gqlast.Interface {
		if g.chance(0.5) {
			parts = append(parts, "id")
		}
		for _, t := range g.schema.GetPossibleTypes(def) {
			if g.chance(0.45) {
				parts = append(parts, g.fragment(t.Name, name, depth))
			}
		}
		if len(parts) == 0 {
			parts = append(parts, "__typename")
		}
		return "{ " + strings.Join(parts, " ") + " }"
	}
	fields := def.Fields
	n := 1 + g.rnd.IntN(min(6, len(fields)))
	for range n {
		f := fields[g.rnd.IntN(len(fields))]
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		parts = append(parts, g.field(f, depth))
		if g.chance(0.08) { // the same field again: merged
			parts = append(parts, parts[len(parts)-1])
		}
	}
	if g.chance(0.15) {
		parts = append(parts, "__typename")
	}
	if g.chance(0.15) && depth < maxGenDepth {
		parts = append(parts, g.fragment(name, name, depth))
	}
	if len(parts) == 0 {
		parts = append(parts, "__typename")
	}
	return "{ " + strings.Join(parts, " ") + " }"
}

// fragment writes an inline fragment or a spread of a named fragment on type name, in a
// selection set on type parent.
func (g *opGen) fragment(name, parent string, depth int) string {
	sel := g.selection(name, depth)
	switch g.rnd.IntN(3) {
	case 0:
		g.nFrags++
		fn := fmt.Sprintf("F%d", g.nFrags)
		g.frags = append(g.frags, " fragment "+fn+" on "+name+" "+sel)
		return "..." + fn + g.directives()
	case 1:
		if name == parent && g.chance(0.5) {
			return "..." + g.directives() + " " + sel // no type condition
		}
	}
	return "... on " + name + g.directives() + " " + sel
}

func (g *opGen) field(f *gqlast.FieldDefinition, depth int) string {
	out := g.alias(f.Name)
	if f.Name == "events" {
		if args := g.pageArgs([]int{0, 1, 2, 3, 5, 101}); len(args) > 0 {
			out += "(" + strings.Join(args, ", ") + ")"
		}
	}
	out += g.directives()
	named := g.schema.Types[f.Type.Name()]
	if named.Kind == gqlast.Object || named.Kind == gqlast.Interface {
		if depth >= maxGenDepth {
			return out + " { __typename }"
		}
		out += " " + g.selection(named.Name, depth+1)
	}
	return out
}

// enumValue marks an enum literal (written without quotes).
type enumValue string

// literal writes a Go value as a GraphQL literal.
func literal(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		b, _ := jsonMarshal(x)
		return string(b)
	case enumValue:
		return string(x)
	case bool:
		return fmt.Sprint(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = literal(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		var parts []string
		for _, k := range sortedKeys(x) {
			parts = append(parts, k+": "+literal(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// jsonValue turns enum markers into strings, for variables.
func jsonValue(v any) any {
	switch x := v.(type) {
	case enumValue:
		return string(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = jsonValue(e)
		}
		return out
	}
	return v
}
