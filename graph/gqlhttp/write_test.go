package gqlhttp

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

func TestWriteResponse(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		name     string
		resp     *graphql.Response
		withData bool
		want     string
	}{
		{"data only", &graphql.Response{Data: json.RawMessage(`{"a":1}`)}, true, `{"data":{"a":1}}`},
		{"nil data", &graphql.Response{}, true, `{"data":null}`},
		{"request error", &graphql.Response{Errors: gqlerror.List{{Message: "Expected <EOF> & more"}}}, false,
			`{"errors":[{"message":"Expected <EOF> & more"}]}`},
		{"nothing", &graphql.Response{}, false, `{}`},
		{"all", &graphql.Response{
			Errors:     gqlerror.List{{Message: "m", Path: ast.Path{ast.PathName("a"), ast.PathIndex(0)}}},
			Data:       json.RawMessage(`{"a":[null]}`),
			Label:      "l",
			Path:       ast.Path{ast.PathName("a")},
			HasNext:    &yes,
			Extensions: map[string]any{"complexity": 3},
		}, true, `{"errors":[{"message":"m","path":["a",0]}],"data":{"a":[null]},"label":"l","path":["a"],"hasNext":true,"extensions":{"complexity":3}}`},
		{"unencodable extensions", &graphql.Response{Data: json.RawMessage(`{}`), Extensions: map[string]any{"f": func() {}}}, true,
			`{"errors":[{"message":"internal error: the response could not be encoded","extensions":{"code":"INTERNAL"}}],"data":{}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			writeResponse(&buf, tc.resp, tc.withData)
			if got := buf.String(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if !json.Valid(buf.Bytes()) {
				t.Errorf("invalid JSON: %s", buf.Bytes())
			}
		})
	}
}

func BenchmarkWriteResponse(b *testing.B) {
	data := bytes.Repeat([]byte(`{"id":"UmVzb2x1dGlvbjox","status":"OPEN","issue":"ITEM_NOT_RECEIVED"},`), 200)
	resp := &graphql.Response{Data: append(append([]byte(`{"items":[`), data[:len(data)-1]...), ']', '}')}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		writeResponse(&buf, resp, true)
	}
}
