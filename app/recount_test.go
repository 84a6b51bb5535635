package app

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// `recount` finds case counts that drifted from the cases (here: a case changed by
// hand) and rebuilds them; `recount -check` only reports them; on counts that match it
// changes nothing.
func TestRecountCommand(t *testing.T) {
	ctx := context.Background()
	url := "sqlite:" + filepath.Join(t.TempDir(), "rc.db")
	run := func() string {
		var out strings.Builder
		if err := Run(ctx, []string{"recount", "-database-url", url}, func(string) string { return "" }, &out); err != nil {
			t.Fatalf("recount: %v\n%s", err, out.String())
		}
		return out.String()
	}
	if out := run(); !strings.Contains(out, "applied migration") || !strings.Contains(out, "match") {
		t.Fatalf("recount of a new database:\n%s", out)
	}
	d, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	u, c := dbtest.MustUser(t, d), dbtest.MustCompany(t, d)
	res := dbtest.MustOpen(t, d, dbtest.MustPayment(t, d, u, c, ""), dispute.IssueForgotToCancel, time.Now().UTC().Truncate(time.Millisecond))
	if _, err := d.Raw(ctx, nil, "UPDATE resolutions SET status = ? WHERE id = ?", dispute.StatusUnderPlatformReview, res.Case.ID); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err = Run(ctx, []string{"recount", "-check", "-database-url", url}, func(string) string { return "" }, &out)
	if !errors.Is(err, ErrCountsDiffer) || !strings.Contains(err.Error(), res.Case.CompanyID) {
		t.Fatalf("recount -check after a change by hand = %v\n%s", err, out.String())
	}
	if d.CheckCounts(ctx) == nil {
		t.Fatal("recount -check repaired the counts")
	}
	if out := run(); !strings.Contains(out, "differ") || !strings.Contains(out, "rebuilt") {
		t.Fatalf("recount after a change by hand:\n%s", out)
	}
	if err := d.CheckCounts(ctx); err != nil {
		t.Fatal(err)
	}
	if out := run(); !strings.Contains(out, "match") || strings.Contains(out, "rebuilt") {
		t.Fatalf("recount of matching counts:\n%s", out)
	}
}
