package graph_test

import (
	"strings"
	"testing"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db/dbtest"
)

// CreateCompanyInput.title is "1 to 200 characters": the title is stored trimmed, so a
// title of white space alone is refused (INVALID_ARGUMENT on title) and creates
// nothing; before, it created a company titled "" that every page then showed blank.
func TestCreateCompanyTitle(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d)
	const m = `mutation($in: CreateCompanyInput!) { createCompany(input: $in) { company { id title } userErrors { code field } } }`
	type payload struct {
		CreateCompany struct {
			Company    *struct{ ID, Title string }
			UserErrors []struct{ Code, Field string }
		}
	}
	for i, title := range []string{"", "   ", "\t\n"} {
		var out payload
		route := "blank-" + string(rune('a'+i))
		s.MustData(t, apptest.PlatformToken, m, map[string]any{"in": map[string]any{"title": title, "route": route}}, &out)
		if out.CreateCompany.Company != nil || len(out.CreateCompany.UserErrors) != 1 ||
			out.CreateCompany.UserErrors[0].Code != "INVALID_ARGUMENT" || out.CreateCompany.UserErrors[0].Field != "title" {
			t.Errorf("title %q: %+v, want one INVALID_ARGUMENT on title and no company", title, out.CreateCompany)
		}
	}
	var n int
	if err := d.SQL().QueryRow(`SELECT count(*) FROM companies WHERE route LIKE 'blank-%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d companies created from blank titles (%v)", n, err)
	}
	var out payload
	s.MustData(t, apptest.PlatformToken, m, map[string]any{"in": map[string]any{"title": "  Lumen Audio  ", "route": "lumen"}}, &out)
	if out.CreateCompany.Company == nil || out.CreateCompany.Company.Title != "Lumen Audio" {
		t.Errorf("a padded title: %+v, want the company titled %q", out.CreateCompany, "Lumen Audio")
	}
	// 200 characters inside white space are 200 characters.
	s.MustData(t, apptest.PlatformToken, m, map[string]any{"in": map[string]any{"title": " " + strings.Repeat("é", 200) + " ", "route": "long"}}, &out)
	if out.CreateCompany.Company == nil {
		t.Errorf("a padded title of 200 characters: %+v", out.CreateCompany)
	}
}

// CreateUserInput.name is optional, but a name that is given is stored trimmed and must
// not be blank: "", or white space alone, is refused (INVALID_ARGUMENT on name) and
// creates nothing, as a company's blank title; before, it created a user whose name was
// white space (or, for "", a user without one). An omitted or null name still creates
// a user without a name.
func TestCreateUserName(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d)
	const m = `mutation($in: CreateUserInput!) { createUser(input: $in) { user { id name } userErrors { code field } } }`
	type payload struct {
		CreateUser struct {
			User *struct {
				ID   string
				Name *string
			}
			UserErrors []struct{ Code, Field string }
		}
	}
	for i, name := range []string{"", "   ", "\t\n"} {
		var out payload
		u := "blank" + string(rune('a'+i))
		s.MustData(t, apptest.PlatformToken, m, map[string]any{"in": map[string]any{"name": name, "username": u, "email": u + "@example.com"}}, &out)
		if out.CreateUser.User != nil || len(out.CreateUser.UserErrors) != 1 ||
			out.CreateUser.UserErrors[0].Code != "INVALID_ARGUMENT" || out.CreateUser.UserErrors[0].Field != "name" {
			t.Errorf("name %q: %+v, want one INVALID_ARGUMENT on name and no user", name, out.CreateUser)
		}
	}
	var n int
	if err := d.SQL().QueryRow(`SELECT count(*) FROM users WHERE username LIKE 'blank%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d users created from blank names (%v)", n, err)
	}
	var out payload
	s.MustData(t, apptest.PlatformToken, m, map[string]any{"in": map[string]any{"name": "  Ada Lovelace  ", "username": "ada", "email": "ada@example.com"}}, &out)
	if out.CreateUser.User == nil || out.CreateUser.User.Name == nil || *out.CreateUser.User.Name != "Ada Lovelace" {
		t.Errorf("a padded name: %+v, want the user named %q", out.CreateUser, "Ada Lovelace")
	}
	// 200 characters inside white space are 200 characters.
	s.MustData(t, apptest.PlatformToken, m, map[string]any{"in": map[string]any{"name": " " + strings.Repeat("é", 200) + " ", "username": "long", "email": "long@example.com"}}, &out)
	if out.CreateUser.User == nil {
		t.Errorf("a padded name of 200 characters: %+v", out.CreateUser)
	}
	for _, in := range []map[string]any{
		{"username": "nameless", "email": "nameless@example.com"},
		{"name": nil, "username": "nullname", "email": "nullname@example.com"},
	} {
		s.MustData(t, apptest.PlatformToken, m, map[string]any{"in": in}, &out)
		if out.CreateUser.User == nil || out.CreateUser.User.Name != nil {
			t.Errorf("%v: %+v, want a user without a name", in, out.CreateUser)
		}
	}
}

// CreateTokenInput.label is optional, but a label that is given is stored trimmed and
// must not be blank, as a user's name: "", or white space alone, is refused
// (INVALID_ARGUMENT on label) and issues no token.
func TestCreateTokenLabel(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d)
	const m = `mutation($l: String) { createToken(input: {holder: {platform: true}, label: $l}) { token tokenId userErrors { code field } } }`
	type payload struct {
		CreateToken struct {
			Token, TokenID *string
			UserErrors     []struct{ Code, Field string }
		}
	}
	count := func() int {
		var n int
		if err := d.SQL().QueryRow(`SELECT count(*) FROM api_tokens`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	for _, label := range []string{"", "   ", "\t\n"} {
		var out payload
		s.MustData(t, apptest.PlatformToken, m, map[string]any{"l": label}, &out)
		if out.CreateToken.Token != nil || len(out.CreateToken.UserErrors) != 1 ||
			out.CreateToken.UserErrors[0].Code != "INVALID_ARGUMENT" || out.CreateToken.UserErrors[0].Field != "label" {
			t.Errorf("label %q: %+v, want one INVALID_ARGUMENT on label and no token", label, out.CreateToken)
		}
	}
	if n := count(); n != before {
		t.Errorf("%d tokens issued for blank labels", n-before)
	}
	var out payload
	s.MustData(t, apptest.PlatformToken, m, map[string]any{"l": "  ops cron  "}, &out)
	if out.CreateToken.TokenID == nil {
		t.Fatalf("a padded label: %+v, want a token", out.CreateToken)
	}
	var label string
	if err := d.SQL().QueryRow(`SELECT label FROM api_tokens WHERE id = ?`, *out.CreateToken.TokenID).Scan(&label); err != nil || label != "ops cron" {
		t.Errorf("a padded label is stored as %q (%v), want %q", label, err, "ops cron")
	}
	s.MustData(t, apptest.PlatformToken, m, map[string]any{"l": nil}, &out)
	if out.CreateToken.TokenID == nil {
		t.Errorf("no label: %+v, want a token", out.CreateToken)
	}
}
