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
