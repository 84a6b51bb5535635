package app_test

// A client that goes away mid-request is not a database outage (issue 11, item 12):
// its errors count as CANCELED, not UNAVAILABLE.

import (
	"context"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
)

// TestClientGoneIsCanceled: a mutation waits on a case another transaction holds; its
// client gives up after 300 ms. The operation's error is counted and logged as
// CANCELED, and nothing as UNAVAILABLE; once the lock is gone the same mutation works.
func TestClientGoneIsCanceled(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		fx := seedFixture(t, d, 1)
		s := apptest.New(t, d, apptest.Options{Env: map[string]string{"STATEMENT_TIMEOUT": "30s"}})
		caseID := fx.Cases[0]
		// Another session holds the case (PostgreSQL: its row; SQLite: the write lock).
		ctx := context.Background()
		conn, err := d.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		lock := []string{"BEGIN", "SELECT id FROM resolutions WHERE id = '" + caseID + "' FOR UPDATE"}
		if d.Engine == db.SQLite {
			lock = []string{"BEGIN IMMEDIATE"}
		}
		for _, q := range lock {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		unlocked := false
		unlock := func() {
			if !unlocked {
				unlocked = true
				_, _ = conn.ExecContext(ctx, "ROLLBACK")
			}
		}
		defer unlock()

		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err = apptest.Post(cctx, s.URL, fx.CustomerToken, `mutation($id: ID!) { respondToResolution(input: {resolutionId: $id, message: "waiting"}) { userErrors { code } } }`,
			map[string]any{"id": caseID})
		cancel()
		if err == nil {
			t.Fatal("the mutation answered while the case was held")
		}
		codes := func() (canceled, unavailable float64) {
			return metricValue(t, s, "rc_graphql_errors_total", map[string]string{"code": "CANCELED"}),
				metricValue(t, s, "rc_graphql_errors_total", map[string]string{"code": "UNAVAILABLE"})
		}
		// PostgreSQL cancels the waiting statement at once; SQLite's busy wait does not
		// watch the context and gives up on its own (busy_timeout, 5 s, retried).
		eventually(t, 30*time.Second, func() bool { c, u := codes(); return c+u > 0 }, "the abandoned operation counted")
		canceled, unavailable := codes()
		t.Logf("abandoned mutation counted as CANCELED %v, UNAVAILABLE %v", canceled, unavailable)
		if canceled != 1 || unavailable != 0 {
			t.Errorf("rc_graphql_errors_total: CANCELED %v, UNAVAILABLE %v; want 1 and 0", canceled, unavailable)
		}
		logged := false
		for _, l := range s.Out.JSONLines() {
			if l["msg"] == "graphql" && l["type"] == "mutation" {
				codes, _ := l["error_codes"].([]any)
				logged = len(codes) == 1 && codes[0] == "CANCELED"
			}
			if l["level"] == "ERROR" {
				t.Errorf("an abandoned request logged an error: %v", l)
			}
		}
		if !logged {
			t.Errorf("the operation's log line does not say CANCELED:\n%s", s.Out)
		}
		unlock()
		var out struct {
			RespondToResolution struct{ UserErrors []struct{ Code string } }
		}
		s.MustData(t, fx.CustomerToken, `mutation($id: ID!) { respondToResolution(input: {resolutionId: $id, message: "now"}) { userErrors { code } } }`,
			map[string]any{"id": caseID}, &out)
		if len(out.RespondToResolution.UserErrors) > 0 {
			t.Errorf("after the lock: %+v", out.RespondToResolution.UserErrors)
		}
	})
}
