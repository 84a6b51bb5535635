package graph_test

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"resolutioncenter/graph"
)

// Every element a client sees in the schema carries a description (GraphiQL's Docs pane
// and generated client types show them): each type, field, argument, enum value, input
// field and directive the schema files declare, and every deprecation a reason.
func TestSchemaDescriptions(t *testing.T) {
	s := graph.NewExecutableSchema(graph.Config{}).Schema()
	declared := func(pos *ast.Position) bool {
		return pos != nil && pos.Src != nil && !pos.Src.BuiltIn
	}
	missing := func(what, desc string) {
		if strings.TrimSpace(desc) == "" {
			t.Errorf("%s has no description", what)
		}
	}
	checked := 0
	deprecation := func(what string, dirs ast.DirectiveList) {
		if d := dirs.ForName("deprecated"); d != nil {
			if r := d.Arguments.ForName("reason"); r == nil || r.Value == nil || strings.TrimSpace(r.Value.Raw) == "" ||
				r.Value.Raw == "No longer supported" {
				t.Errorf("%s is deprecated without a reason of its own", what)
			}
		}
	}
	for name, def := range s.Types {
		if !declared(def.Position) || strings.HasPrefix(name, "__") {
			continue
		}
		checked++
		missing(name, def.Description)
		for _, f := range def.Fields {
			what := name + "." + f.Name
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			missing(what, f.Description)
			deprecation(what, f.Directives)
			for _, a := range f.Arguments {
				missing(what+"("+a.Name+":)", a.Description)
				deprecation(what+"("+a.Name+":)", a.Directives)
			}
		}
		for _, v := range def.EnumValues {
			missing(name+"."+v.Name, v.Description)
			deprecation(name+"."+v.Name, v.Directives)
		}
	}
	for name, d := range s.Directives {
		if !declared(d.Position) {
			continue
		}
		missing("@"+name, d.Description)
		for _, a := range d.Arguments {
			missing("@"+name+"("+a.Name+":)", a.Description)
		}
	}
	if checked < 50 {
		t.Fatalf("checked %d types: the schema was not read", checked)
	}
}
