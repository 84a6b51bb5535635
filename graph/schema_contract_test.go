package graph_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db/dbtest"
)

// The schema as client code generators read it: required inputs non-null, enums where
// the values are a closed set, @oneOf, @specifiedBy, descriptions everywhere, and no
// directive the server does not honour.
func TestSchemaContract(t *testing.T) {
	s := apptest.New(t, dbtest.MustSQLite(t))
	var out struct {
		Schema struct {
			Directives []struct{ Name string }
			Types      []struct {
				Name           string
				Kind           string
				IsOneOf        bool
				SpecifiedByURL *string
				Fields         []struct {
					Name string
					Type typeRef
					Args []struct {
						Name        string
						Description *string
						Type        typeRef
					}
				}
				InputFields []struct {
					Name string
					Type typeRef
				}
				EnumValues []struct{ Name string }
			}
		} `json:"__schema"`
	}
	s.MustData(t, "", `{ __schema {
		directives { name }
		types { name kind isOneOf specifiedByURL
			fields { name type { ...T } args { name description type { ...T } } }
			inputFields { name type { ...T } }
			enumValues { name } } } }
		fragment T on __Type { kind name ofType { kind name ofType { kind name } } }`, nil, &out)

	types := map[string]int{}
	for i, ty := range out.Schema.Types {
		types[ty.Name] = i
	}
	typ := func(name string) int {
		t.Helper()
		i, ok := types[name]
		if !ok {
			t.Fatalf("type %s is missing", name)
		}
		return i
	}

	for _, d := range out.Schema.Directives {
		if d.Name == "defer" || d.Name == "stream" {
			t.Errorf("directive @%s is in the schema, but the server does not deliver incrementally", d.Name)
		}
	}
	if u := out.Schema.Types[typ("DateTime")].SpecifiedByURL; u == nil || !strings.HasPrefix(*u, "https://") {
		t.Errorf("DateTime.specifiedByURL = %v, want a URL", u)
	}
	if !out.Schema.Types[typ("TokenHolderInput")].IsOneOf {
		t.Error("TokenHolderInput is not @oneOf")
	}
	for _, f := range out.Schema.Types[typ("CreateTokenInput")].InputFields {
		if f.Name == "holder" && f.Type.String() != "TokenHolderInput!" {
			t.Errorf("CreateTokenInput.holder: %s", f.Type)
		}
	}
	for _, in := range []string{"OpenResolutionInput", "DenyResolutionInput", "ResolutionMessageInput"} {
		found := false
		for _, f := range out.Schema.Types[typ(in)].InputFields {
			if f.Name == "message" {
				found = true
				if f.Type.String() != "String!" {
					t.Errorf("%s.message: %s, want String! (the domain requires it)", in, f.Type)
				}
			}
		}
		if !found {
			t.Errorf("%s has no message", in)
		}
	}
	for _, in := range []string{"DecideResolutionInput", "WithdrawResolutionInput", "AcceptResolutionInput"} {
		for _, f := range out.Schema.Types[typ(in)].InputFields {
			if f.Name == "message" && f.Type.String() != "String" {
				t.Errorf("%s.message: %s, want the optional String", in, f.Type)
			}
		}
	}
	for _, f := range out.Schema.Types[typ("UserError")].Fields {
		if f.Name == "code" && f.Type.String() != "UserErrorCode!" {
			t.Errorf("UserError.code: %s, want UserErrorCode!", f.Type)
		}
	}
	var codes []string
	for _, v := range out.Schema.Types[typ("UserErrorCode")].EnumValues {
		codes = append(codes, v.Name)
	}
	if got, want := strings.Join(codes, " "), "INVALID_ARGUMENT ACTION_NOT_ALLOWED LIMIT_REACHED CONFLICT ALREADY_EXISTS NOT_REFUNDABLE"; got != want {
		t.Errorf("UserErrorCode values %s, want %s", got, want)
	}
	inputs := 0
	for _, f := range out.Schema.Types[typ("Mutation")].Fields {
		for _, a := range f.Args {
			if a.Name != "input" {
				continue
			}
			inputs++
			if a.Description == nil || strings.TrimSpace(*a.Description) == "" {
				t.Errorf("Mutation.%s(input:) has no description", f.Name)
			}
		}
	}
	if inputs < 18 { // the 18 of the issue, and every one added since
		t.Errorf("%d mutation input arguments, want at least 18", inputs)
	}

	// A document that uses @defer or @stream is refused by validation, not half-run.
	for _, q := range []string{
		`{ viewer { role ... @defer { scopes } } }`,
		`{ viewer { ... on Viewer @defer(label: "later") { companies { id } } } }`,
		`{ viewer { companies @stream(initialCount: 1) { id } } }`,
	} {
		r := s.Do(t, apptest.PlatformToken, q, nil)
		if r.HasData() || r.FirstCode() != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(r.Errors[0].Message, "Unknown directive") {
			t.Errorf("%s: %s %+v, want an Unknown directive validation error", q, r.Data, r.Errors)
		}
	}
}

type typeRef struct {
	Kind   string
	Name   *string
	OfType *typeRef
}

func (t typeRef) String() string {
	switch {
	case t.Kind == "NON_NULL" && t.OfType != nil:
		return t.OfType.String() + "!"
	case t.Kind == "LIST" && t.OfType != nil:
		return "[" + t.OfType.String() + "]"
	case t.Name != nil:
		return *t.Name
	}
	return "?"
}

// createToken's holder is @oneOf: two fields (or none) in a literal are a validation
// error; in a variable (which gqlparser does not check against @oneOf) the resolver
// refuses with INVALID_ARGUMENT, and nothing is created.
func TestCreateTokenHolderOneOf(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d)
	u := dbtest.MustUser(t, d)
	for _, lit := range []string{`{userId: "` + u.ID + `", platform: true}`, `{}`, `{userId: null}`} {
		r := s.Do(t, apptest.PlatformToken, `mutation { createToken(input: {holder: `+lit+`}) { token } }`, nil)
		if r.HasData() || r.FirstCode() != "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("holder %s: %s %+v, want GRAPHQL_VALIDATION_FAILED", lit, r.Data, r.Errors)
		}
	}
	const m = `mutation($in: CreateTokenInput!) { createToken(input: $in) { token userErrors { code field message } } }`
	for _, h := range []map[string]any{{"userId": u.ID, "platform": true}, {}, {"platform": false}} {
		var out struct {
			CreateToken struct {
				Token      *string
				UserErrors []struct{ Code, Field, Message string }
			}
		}
		s.MustData(t, apptest.PlatformToken, m, map[string]any{"in": map[string]any{"holder": h}}, &out)
		if out.CreateToken.Token != nil || len(out.CreateToken.UserErrors) != 1 || out.CreateToken.UserErrors[0].Code != "INVALID_ARGUMENT" ||
			!strings.HasPrefix(out.CreateToken.UserErrors[0].Field, "holder") {
			t.Errorf("holder %v: %+v, want one INVALID_ARGUMENT on holder", h, out.CreateToken)
		}
	}
	var out struct {
		CreateToken struct{ Token *string }
	}
	s.MustData(t, apptest.PlatformToken, m, map[string]any{"in": map[string]any{"holder": map[string]any{"userId": u.ID}, "scopes": []string{"READ"}}}, &out)
	if out.CreateToken.Token == nil {
		t.Fatal("a token for one holder was not created")
	}
	var v struct{ Viewer struct{ Role string } }
	s.MustData(t, *out.CreateToken.Token, `{ viewer { role } }`, nil, &v)
	if v.Viewer.Role != "USER" {
		t.Errorf("the new token acts as %s, want USER", v.Viewer.Role)
	}
}

// Parse and validation errors carry GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED on
// every transport: HTTP POST and GET, WebSocket and SSE.
func TestRequestErrorCodesOnEveryTransport(t *testing.T) {
	s := apptest.New(t, dbtest.MustSQLite(t))
	cases := map[string]string{
		`subscription { resolutionUpdated { id `:                               "GRAPHQL_PARSE_FAILED",
		`subscription { resolutionUpdated { nope } }`:                          "GRAPHQL_VALIDATION_FAILED",
		`subscription { resolutionEventAdded(resolutionId: true) { cursor } }`: "GRAPHQL_VALIDATION_FAILED",
	}
	for q, want := range cases {
		if got := s.Do(t, apptest.PlatformToken, q, nil).FirstCode(); got != want {
			t.Errorf("POST %q: %s, want %s", q, got, want)
		}
		code, body, err := apptest.Get(t.Context(), s.URL+"?query="+url.QueryEscape(q), map[string]string{"Authorization": "Bearer " + apptest.PlatformToken})
		if err != nil || !strings.Contains(body, `"code":"`+want+`"`) {
			t.Errorf("GET %q: %d %s %v, want %s", q, code, body, err, want)
		}
		ws := apptest.DialWS(t, s.URL, map[string]any{"Authorization": "Bearer " + apptest.PlatformToken})
		ws.Subscribe("1", q, nil)
		m := ws.Read(10 * time.Second)
		var errs []apptest.Error
		if m.Type != "error" || json.Unmarshal(m.Payload, &errs) != nil || len(errs) == 0 || errs[0].Code() != want {
			t.Errorf("WebSocket %q: %s %s, want an error message with %s", q, m.Type, m.Payload, want)
		}
		sse := apptest.DialSSE(t, s.URL, apptest.PlatformToken, q, nil)
		ev := sse.Read(10 * time.Second)
		var resp apptest.Response
		if json.Unmarshal(ev.Data, &resp) != nil || resp.FirstCode() != want {
			t.Errorf("SSE %q: %s %s, want %s", q, ev.Event, ev.Data, want)
		}
	}
}
