package app_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"resolutioncenter/app"
	"resolutioncenter/app/apptest"
)

var tokenLine = regexp.MustCompile(`(?m)^\s+(customer|merchant|platform)\s+(rc_\S+)$`)
var caseLine = regexp.MustCompile(`case all three can see: (reso_\S+)`)

// TestDemoTokensRecoverable (issue 13, item 2): the demo tokens are shown once, and a
// second start of the embedded database says how to get new ones; `seed -demo-tokens`
// mints fresh tokens for the demo users, which work: the customer, the merchant and
// the platform each see the featured case. Before: a second start said nothing and
// `seed -demo` refused the non-empty database.
func TestDemoTokensRecoverable(t *testing.T) {
	url := "sqlite:" + filepath.Join(t.TempDir(), "demo.db")
	ctx := context.Background()
	run := func(args ...string) string {
		t.Helper()
		var out strings.Builder
		if err := app.Run(ctx, args, func(string) string { return "" }, &out); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	run("seed", "-demo", "-database-url", url)
	var out strings.Builder
	if err := app.Run(ctx, []string{"seed", "-demo", "-database-url", url}, func(string) string { return "" }, &out); err == nil ||
		!strings.Contains(err.Error(), "-demo-tokens") {
		t.Errorf("seed -demo on a seeded database: %v, want a refusal that points to -demo-tokens", err)
	}

	s := apptest.Start(t, apptest.Options{Env: map[string]string{"DATABASE_URL": url, "SEED_DEMO": "true"}})
	if !strings.Contains(s.Out.String(), "seed -demo-tokens") {
		t.Errorf("a second start does not say how to get demo tokens:\n%s", s.Out.String())
	}

	printed := run("seed", "-demo-tokens", "-database-url", url)
	toks := map[string]string{}
	for _, m := range tokenLine.FindAllStringSubmatch(printed, -1) {
		toks[m[1]] = m[2]
	}
	cm := caseLine.FindStringSubmatch(printed)
	if len(toks) != 3 || cm == nil {
		t.Fatalf("seed -demo-tokens printed:\n%s", printed)
	}
	for who, role := range map[string]string{"customer": "USER", "merchant": "COMPANY", "platform": "PLATFORM"} {
		var data struct {
			Viewer     struct{ Role string }
			Resolution *struct{ ID string }
		}
		s.MustData(t, toks[who], `query($id: ID!) { viewer { role } resolution(id: $id) { id } }`, map[string]any{"id": cm[1]}, &data)
		if data.Viewer.Role != role || data.Resolution == nil {
			t.Errorf("%s token: %+v, want role %s and the featured case", who, data, role)
		}
	}
}
