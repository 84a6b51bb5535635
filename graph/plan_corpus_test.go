package graph_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	gqlast "github.com/vektah/gqlparser/v2/ast"
	gqlparser "github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// planCorpus returns the read operations of the test suites: every string constant of
// graph/*_test.go and app/*_test.go (literals, and concatenations of literals and
// package constants) that is a valid document of the schema, one entry per query
// operation in it. New tests' queries join the differential test by themselves.
func planCorpus(t *testing.T, schema *gqlast.Schema) []corpusOp {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*_test.go", "../app/*_test.go"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	consts := map[string]ast.Expr{}
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || (gd.Tok != token.CONST && gd.Tok != token.VAR) {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						consts[filepath.Dir(name)+"."+n.Name] = vs.Values[i]
					}
				}
			}
		}
	}
	seen := map[string]bool{}
	var out []corpusOp
	for i, f := range parsed {
		dir := filepath.Dir(files[i])
		ast.Inspect(f, func(n ast.Node) bool {
			e, ok := n.(ast.Expr)
			if !ok {
				return true
			}
			s, ok := constString(e, dir, consts, 0)
			if !ok || seen[s] || !strings.Contains(s, "{") {
				return true
			}
			seen[s] = true
			doc, err := gqlparser.ParseQuery(&gqlast.Source{Input: s})
			if err != nil || len(doc.Operations) == 0 {
				return true
			}
			if errs := validator.Validate(schema, doc); len(errs) > 0 {
				return true
			}
			for _, op := range doc.Operations {
				if op.Operation == gqlast.Query {
					out = append(out, corpusOp{query: s, name: op.Name, op: op})
				}
			}
			return true
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].query+out[i].name < out[j].query+out[j].name })
	return out
}

// corpusOp is one query operation of the tests.
type corpusOp struct {
	query, name string
	op          *gqlast.OperationDefinition
}

// constString evaluates a string literal, or a + of literals and constants.
func constString(e ast.Expr, dir string, consts map[string]ast.Expr, depth int) (string, bool) {
	if depth > 20 {
		return "", false
	}
	switch v := e.(type) {
	case *ast.BasicLit:
		if v.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(v.Value)
		return s, err == nil
	case *ast.ParenExpr:
		return constString(v.X, dir, consts, depth+1)
	case *ast.Ident:
		if c, ok := consts[dir+"."+v.Name]; ok {
			return constString(c, dir, consts, depth+1)
		}
	case *ast.BinaryExpr:
		if v.Op != token.ADD {
			return "", false
		}
		a, ok := constString(v.X, dir, consts, depth+1)
		if !ok {
			return "", false
		}
		b, ok := constString(v.Y, dir, consts, depth+1)
		return a + b, ok
	}
	return "", false
}
