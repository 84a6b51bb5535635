package app_test

// The tests of package app run the real server: in process through apptest (New,
// Start), or as the binary in child processes (apptest.StartProcess), built once for
// the whole run and removed by TestMain. This file holds what several of them share.

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// TestMain removes the binary the tests built, and after a full run fails when a tagged
// block of README.md was read by no test (checkReadmeTagsRead).
func TestMain(m *testing.M) { apptest.Main(m, checkReadmeTagsRead) }

// eventSub subscribes to a case's events.
const eventSub = `subscription($id: ID!) { resolutionEventAdded(resolutionId: $id) { cursor node { position action } } }`

// chargeback records a chargeback event on a case's timeline as the platform, without
// a status change: traffic that commits as often as it is sent.
const chargeback = `mutation($id: ID!, $d: String) { recordChargebackEvent(input: {resolutionId: $id, action: DISPUTE_OPENED, details: $d}) { event { position } userErrors { code message } } }`

// fixture is a small data set: a company with a merchant token, a customer with a
// token, and one open case per payment.
type fixture struct {
	Company       db.Company
	User          db.User
	CustomerToken string
	MerchantToken string
	Payments      []db.Payment
	Cases         []string
}

// seedFixture creates the fixture in d with n open cases (and one spare payment).
func seedFixture(tb testing.TB, d *db.DB, n int) fixture {
	tb.Helper()
	f := fixture{Company: dbtest.MustCompany(tb, d), User: dbtest.MustUser(tb, d)}
	f.CustomerToken = dbtest.MustToken(tb, d, db.TokenUser, f.User.ID, true)
	f.MerchantToken = dbtest.MustToken(tb, d, db.TokenCompany, f.Company.ID, true)
	for i := 0; i < n+1; i++ {
		f.Payments = append(f.Payments, dbtest.MustPayment(tb, d, f.User, f.Company, ""))
	}
	for i := 0; i < n; i++ {
		res := dbtest.MustOpen(tb, d, f.Payments[i], dispute.IssueItemNotReceived, dbtest.Now().Add(time.Duration(i)*time.Millisecond))
		f.Cases = append(f.Cases, res.Case.ID)
	}
	return f
}

// sqliteWithFixture creates a migrated SQLite file with the fixture and returns its
// DATABASE_URL; the handle is closed so that only the server uses the file.
func sqliteWithFixture(tb testing.TB, n int) (string, fixture) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "rc.db")
	d, err := db.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		tb.Fatalf("open sqlite: %v", err)
	}
	if _, err := d.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	f := seedFixture(tb, d, n)
	d.Close()
	return "sqlite:" + path, f
}

// waitReady polls /readyz until it answers want, or fails after timeout.
func waitReady(t *testing.T, base string, want int, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		status, body, err := apptest.Get(ctx, base+"/readyz", nil)
		cancel()
		if err == nil && status == want {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("/readyz did not answer %d within %s: last %d %q %v", want, timeout, status, body, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
