package deadline_test

import (
	"context"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/deadline"
	"resolutioncenter/dispute"
	"resolutioncenter/ids"
)

var sweepT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const week = 7 * 24 * time.Hour

// world is a merchant and a customer to open cases between.
type sweepWorld struct {
	d        *db.DB
	company  db.Company
	customer db.User
}

func newSweepWorld(t *testing.T, d *db.DB) *sweepWorld {
	return &sweepWorld{d: d, company: dbtest.MustCompany(t, d), customer: dbtest.MustUser(t, d)}
}

// open opens a case at `at` and applies the steps (actor, action) at the same time.
func (w *sweepWorld) open(t *testing.T, at time.Time, steps ...any) dispute.Case {
	t.Helper()
	pay := dbtest.MustPayment(t, w.d, w.customer, w.company, "")
	c := dbtest.MustOpen(t, w.d, pay, dispute.IssueItemNotReceived, at).Case
	for i := 0; i < len(steps); i += 2 {
		c = dbtest.MustApply(t, w.d, c.ID, steps[i].(dispute.Actor), steps[i+1].(dispute.Action), "step", at).Case
	}
	return c
}

func newSweeper(d *db.DB, now time.Time) *deadline.Sweeper {
	return &deadline.Sweeper{DB: d, Policy: dispute.DefaultPolicy(), Now: func() time.Time { return now }}
}

func mustSweep(t *testing.T, d *db.DB, now time.Time, want int) {
	t.Helper()
	n, err := newSweeper(d, now).Sweep(context.Background())
	if err != nil || n != want {
		t.Fatalf("sweep at %s = %d, %v; want %d", now, n, err, want)
	}
}

func TestSweepTransitionsEachDueCaseOnce(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := newSweepWorld(t, d)
		M, C, P := dispute.ActorMerchant, dispute.ActorCustomer, dispute.ActorPlatform
		type due struct {
			c                  dispute.Case
			status             dispute.Status
			action             dispute.EventAction
			outcome            dispute.Outcome
			refund             dispute.Refund
			paymentWasRefunded bool
		}
		dueCases := []due{
			{w.open(t, sweepT0), dispute.StatusUnderPlatformReview, dispute.EventEscalated, "", "", false},
			{w.open(t, sweepT0, M, dispute.ActionRespond), dispute.StatusMerchantWon, dispute.EventDenied, dispute.OutcomeMerchantWon, dispute.RefundNone, false},
			{w.open(t, sweepT0, M, dispute.ActionRequestMoreInfo), dispute.StatusMerchantWon, dispute.EventDenied, dispute.OutcomeMerchantWon, dispute.RefundNone, false},
			{w.open(t, sweepT0, P, dispute.ActionRequestMerchantInfo), dispute.StatusUnderPlatformReview, dispute.EventEscalated, "", "", false},
			{w.open(t, sweepT0, P, dispute.ActionRequestBuyerInfo), dispute.StatusMerchantWon, dispute.EventDenied, dispute.OutcomeMerchantWon, dispute.RefundNone, false},
			// Refunded by the platform, appealed by the merchant, then the customer went
			// silent: the merchant wins and the platform covers the refund already made.
			{w.open(t, sweepT0, P, dispute.ActionMerchantRefund, M, dispute.ActionAppeal, P, dispute.ActionRequestBuyerInfo),
				dispute.StatusMerchantWon, dispute.EventDenied, dispute.OutcomeMerchantWon, dispute.RefundPlatform, true},
		}
		untouched := []dispute.Case{
			w.open(t, sweepT0.Add(time.Hour)),                                                  // due an hour after the sweep
			w.open(t, sweepT0, P, dispute.ActionRequestMerchantInfo, M, dispute.ActionRespond), // under review: no deadline
			w.open(t, sweepT0, M, dispute.ActionAccept),
			w.open(t, sweepT0, M, dispute.ActionDeny),
			w.open(t, sweepT0, C, dispute.ActionWithdraw),
		}
		// A closed case whose row still carries a deadline (e.g. written by an older
		// version) is no business of the sweeper.
		stale := w.open(t, sweepT0, M, dispute.ActionDeny)
		if _, err := d.Raw(context.Background(), nil, "UPDATE resolutions SET due_date = ? WHERE id = ?", sweepT0, stale.ID); err != nil {
			t.Fatal(err)
		}
		stale = dbtest.MustGetCase(t, d, stale.ID)
		untouched = append(untouched, stale)
		payments := map[string]db.Payment{}
		for _, x := range dueCases {
			payments[x.c.ID] = dbtest.MustGetPayment(t, d, x.c.PaymentID)
		}

		now := sweepT0.Add(week) // exactly the deadline of the cases opened at t0
		mustSweep(t, d, now.Add(-time.Millisecond), 0)
		mustSweep(t, d, now, len(dueCases))
		mustSweep(t, d, now, 0)
		mustSweep(t, d, now.Add(time.Hour-time.Millisecond), 0)

		for _, x := range dueCases {
			got := dbtest.MustGetCase(t, d, x.c.ID)
			evs := dbtest.MustEvents(t, d, x.c.ID)
			last := evs[len(evs)-1]
			if got.Status != x.status || got.DueDate != nil || got.Version != x.c.Version+1 || len(evs) != x.c.EventCount+1 ||
				got.Outcome != x.outcome || got.Refund != x.refund || !got.UpdatedAt.Equal(now) {
				t.Errorf("%s from %s: got %+v", x.c.ID, x.c.Status, got)
			}
			if last.Action != x.action || last.Reporter != dispute.ActorSystem || last.FromStatus != x.c.Status ||
				last.ToStatus != x.status || !last.CreatedAt.Equal(now) || !last.ViewableByCustomer || !last.ViewableByMerchant {
				t.Errorf("%s: deadline event %+v", x.c.ID, last)
			}
			pay := dbtest.MustGetPayment(t, d, x.c.PaymentID)
			if !reflect.DeepEqual(pay, payments[x.c.ID]) || pay.Refunded != x.paymentWasRefunded {
				t.Errorf("%s: payment changed by the deadline: %+v -> %+v", x.c.ID, payments[x.c.ID], pay)
			}
		}
		for _, c := range untouched {
			got := dbtest.MustGetCase(t, d, c.ID)
			if got.Version != c.Version || got.Status != c.Status || len(dbtest.MustEvents(t, d, c.ID)) != c.EventCount {
				t.Errorf("%s in %s was touched: %+v", c.ID, c.Status, got)
			}
		}

		// The not-yet-due one goes at its own deadline.
		mustSweep(t, d, sweepT0.Add(time.Hour+week), 1)
	})
}

// Several server processes sweep one database: each past-due case still transitions
// exactly once.
func TestConcurrentSweepers(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		d := dbtest.MustSQLite(t)
		t.Run("one process", func(t *testing.T) { sweepTogether(t, []*db.DB{d, d, d}) })
		path := filepath.Join(t.TempDir(), "shared.db")
		t.Run("three processes", func(t *testing.T) { sweepTogether(t, openThree(t, "sqlite:"+path)) })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		sweepTogether(t, openThree(t, dbtest.PostgresURL(t)))
	})
}

// openThree opens url three times, as three processes would, and migrates once.
func openThree(t *testing.T, url string) []*db.DB {
	var out []*db.DB
	for i := range 3 {
		d, err := db.Open(context.Background(), url)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { d.Close() })
		if i == 0 {
			if _, err := d.Migrate(context.Background()); err != nil {
				t.Fatalf("migrate: %v", err)
			}
		}
		out = append(out, d)
	}
	return out
}

func sweepTogether(t *testing.T, dbs []*db.DB) {
	d := dbs[0]
	w := newSweepWorld(t, d)
	var due, notDue []dispute.Case
	for i := range 30 {
		switch i % 3 {
		case 0:
			due = append(due, w.open(t, sweepT0))
		case 1:
			due = append(due, w.open(t, sweepT0, dispute.ActorMerchant, dispute.ActionRespond))
		default:
			due = append(due, w.open(t, sweepT0, dispute.ActorPlatform, dispute.ActionRequestBuyerInfo))
		}
	}
	for range 5 {
		notDue = append(notDue, w.open(t, sweepT0.Add(2*time.Hour)))
	}
	now := sweepT0.Add(week + time.Hour)
	var wg sync.WaitGroup
	counts := make([]int, len(dbs))
	errs := make([]error, len(dbs))
	start := make(chan struct{})
	for i, x := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			counts[i], errs[i] = newSweeper(x, now).Sweep(context.Background())
		}()
	}
	close(start)
	wg.Wait()
	total := 0
	for i := range dbs {
		if errs[i] != nil {
			t.Errorf("sweeper %d: %v", i, errs[i])
		}
		total += counts[i]
	}
	if total != len(due) {
		t.Errorf("sweepers report %v transitions, want %d in all", counts, len(due))
	}
	for _, c := range due {
		evs := dbtest.MustEvents(t, d, c.ID)
		system := 0
		for _, ev := range evs {
			if ev.Reporter == dispute.ActorSystem {
				system++
			}
		}
		got := dbtest.MustGetCase(t, d, c.ID)
		if system != 1 || got.Version != c.Version+1 || len(evs) != c.EventCount+1 || got.DueDate != nil {
			t.Errorf("%s: %d deadline events, version %d -> %d", c.ID, system, c.Version, got.Version)
		}
	}
	for _, c := range notDue {
		if got := dbtest.MustGetCase(t, d, c.ID); got.Version != c.Version {
			t.Errorf("%s not due yet but changed: %+v", c.ID, got)
		}
	}
}

// Customers answering at the very moment the deadline passes: either an answer
// lands (and the sweeper leaves the case, whose new deadline is a week away) or the
// deadline does (and the answer is refused). Never both, never neither.
func TestSweepRacesWithAnswers(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := newSweepWorld(t, d)
		var cases []dispute.Case
		for range 20 {
			cases = append(cases, w.open(t, sweepT0, dispute.ActorMerchant, dispute.ActionRespond))
		}
		now := sweepT0.Add(week)
		answered := make([]bool, len(cases))
		var wg sync.WaitGroup
		start := make(chan struct{})
		var sweepErr error
		var swept int
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			swept, sweepErr = newSweeper(d, now).Sweep(context.Background())
		}()
		// The customers answer from the newest case back while the sweeper works from
		// the oldest deadline (then the lowest ID) on: they meet somewhere in between.
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := len(cases) - 1; i >= 0; i-- {
				_, err := d.UpdateCase(context.Background(), db.Change{CaseID: cases[i].ID, Scope: db.Scope{UserID: cases[i].UserID},
					Decide: func(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
						return dispute.DefaultPolicy().Apply(c, dispute.ActorCustomer, dispute.ActionRespond, dispute.Input{Message: "Here."}, now)
					}})
				switch {
				case err == nil:
					answered[i] = true
				case dispute.CodeOf(err) != dispute.CodeActionNotAllowed:
					t.Errorf("answer: %v", err)
				}
			}
		}()
		close(start)
		wg.Wait()
		if sweepErr != nil {
			t.Fatal(sweepErr)
		}
		n := 0
		for i, c := range cases {
			got := dbtest.MustGetCase(t, d, c.ID)
			want := dispute.StatusMerchantWon
			if answered[i] {
				want = dispute.StatusMerchantResponseNeeded
			} else {
				n++
			}
			if got.Status != want || got.Version != c.Version+1 {
				t.Errorf("%s answered=%v: status %s version %d", c.ID, answered[i], got.Status, got.Version)
			}
		}
		t.Logf("%d answers landed first, %d deadlines did", len(cases)-n, n)
		if n != swept {
			t.Errorf("sweeper reports %d transitions, %d cases went by the deadline", swept, n)
		}
	})
}

// TestSweepPurgesOldIdempotencyKeys: a sweep deletes the idempotency records created
// more than 24 hours before it and keeps the younger ones, which still replay.
func TestSweepPurgesOldIdempotencyKeys(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		ctx := context.Background()
		w := newSweepWorld(t, d)
		now := sweepT0.Add(3 * 24 * time.Hour)
		respond := func(c dispute.Case, key string, at time.Time) (db.Result, error) {
			return d.UpdateCase(ctx, db.Change{CaseID: c.ID, Scope: db.Scope{All: true}, Now: at,
				Idem: &db.Idempotency{Principal: "user:test", Key: key, Operation: string(dispute.ActionRespond), RequestHash: "h"},
				Decide: func(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
					return dispute.DefaultPolicy().Apply(c, dispute.ActorCustomer, dispute.ActionRespond, dispute.Input{Message: key}, at)
				}})
		}
		keys := func() []string {
			var list []string
			if _, err := d.Raw(ctx, &list, "SELECT key FROM idempotency_keys ORDER BY key"); err != nil {
				t.Fatal(err)
			}
			return list
		}
		c := w.open(t, now.Add(-48*time.Hour))
		for _, k := range []struct {
			key string
			age time.Duration
		}{{"old-a", 25 * time.Hour}, {"old-b", 24*time.Hour + time.Millisecond}, {"young-a", 24 * time.Hour}, {"young-b", time.Hour}} {
			if _, err := respond(c, k.key, now.Add(-k.age)); err != nil {
				t.Fatalf("%s: %v", k.key, err)
			}
		}
		if got := keys(); !reflect.DeepEqual(got, []string{"old-a", "old-b", "young-a", "young-b"}) {
			t.Fatalf("keys before the sweep: %v", got)
		}
		if _, err := newSweeper(d, now).Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if got := keys(); !reflect.DeepEqual(got, []string{"young-a", "young-b"}) {
			t.Fatalf("keys after the sweep: %v, want the two younger than 24 h", got)
		}
		res, err := respond(c, "young-b", now)
		if err != nil || !res.Replayed {
			t.Fatalf("a kept key no longer replays: %+v, %v", res, err)
		}
		res, err = respond(c, "old-a", now)
		if err != nil || res.Replayed {
			t.Fatalf("a purged key still replays: %+v, %v", res, err)
		}
	})
}

// logOutbox writes one delivery to an endpoint for every change, its ID made at the
// change's time, as the webhook outbox does.
type logOutbox struct{ endpoint string }

func (o logOutbox) Enqueue(ctx context.Context, tx *db.OutboxTx, ch db.CaseChange) (func(), error) {
	return nil, tx.InsertDeliveries(ctx, []db.WebhookDelivery{{ID: ids.NewAt(ids.WebhookDelivery, ch.Event.CreatedAt),
		EndpointID: o.endpoint, CompanyID: ch.After.CompanyID, CaseID: ch.After.ID, Position: ch.Event.Position,
		EventType: "resolution_center_case.updated", Status: db.DeliveryPending, CreatedAt: ch.Event.CreatedAt, Data: "{}"}})
}

// TestSweepPurgesOldWebhookDeliveries: with a retention of 30 days, a sweep deletes the
// finished deliveries older than that with their attempts, and the messages no delivery
// refers to any more; a pending delivery stays however old (with its message), and so
// do the younger ones. With no retention nothing goes.
func TestSweepPurgesOldWebhookDeliveries(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		ctx := context.Background()
		w := newSweepWorld(t, d)
		now := sweepT0.Add(90 * 24 * time.Hour)
		ep, err := d.CreateWebhookEndpoint(ctx, db.WebhookEndpoint{URL: "https://example.com/h", SecretEnc: "x",
			CreatedAt: now, UpdatedAt: now}, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.SetOutbox(logOutbox{ep.ID}))
		const day = 24 * time.Hour
		// One case per delivery: its opening at the age given, finished or not.
		type row struct {
			name     string
			age      time.Duration
			status   string
			caseID   string
			delivery string
		}
		rows := []*row{
			{name: "old delivered", age: 31 * day, status: db.DeliveryDelivered},
			{name: "old failed", age: 30*day + time.Second, status: db.DeliveryFailed},
			{name: "old pending", age: 45 * day, status: db.DeliveryPending},
			{name: "young delivered", age: 30*day - time.Second, status: db.DeliveryDelivered},
			{name: "young failed", age: day, status: db.DeliveryFailed},
		}
		for _, r := range rows {
			at := now.Add(-r.age)
			r.caseID = w.open(t, at).ID
			ref := db.DeliveryRef{EndpointID: ep.ID, CaseID: r.caseID, Position: 1}
			claims, err := d.ClaimWebhookDeliveries(ctx, []db.DeliveryRef{ref}, at, time.Minute)
			if err != nil || claims[0].Delivery.ID == "" {
				t.Fatalf("%s: claim %+v %v", r.name, claims, err)
			}
			r.delivery = claims[0].Delivery.ID
			res := db.AttemptResult{EndpointID: ep.ID, Status: r.status, NextAttemptAt: at.Add(time.Hour), LeaseUntil: *claims[0].Delivery.LeaseUntil,
				Attempt: db.WebhookAttempt{ID: ids.New(ids.WebhookAttempt), DeliveryID: r.delivery, AttemptedAt: at,
					Success: r.status == db.DeliveryDelivered, StatusCode: map[bool]int{true: 204, false: 500}[r.status == db.DeliveryDelivered]}}
			if err := d.RecordWebhookAttempts(ctx, []db.AttemptResult{res}); err != nil {
				t.Fatal(err)
			}
		}
		count := func(query string, args ...any) int {
			var n []int
			if _, err := d.Raw(ctx, &n, query, args...); err != nil {
				t.Fatal(err)
			}
			return n[0]
		}
		state := func() map[string][3]int {
			out := map[string][3]int{}
			for _, r := range rows {
				out[r.name] = [3]int{
					count("SELECT count(*) FROM webhook_deliveries WHERE id = ?", r.delivery),
					count("SELECT count(*) FROM webhook_attempts WHERE delivery_id = ?", r.delivery),
					count("SELECT count(*) FROM webhook_messages WHERE case_id = ? AND position = 1", r.caseID),
				}
			}
			return out
		}
		all := map[string][3]int{}
		for _, r := range rows {
			all[r.name] = [3]int{1, 1, 1}
		}
		if got := state(); !reflect.DeepEqual(got, all) {
			t.Fatalf("before: %v", got)
		}
		if _, err := newSweeper(d, now).Sweep(ctx); err != nil { // no retention
			t.Fatal(err)
		}
		if got := state(); !reflect.DeepEqual(got, all) {
			t.Fatalf("a sweep without retention deleted: %v", got)
		}
		s := newSweeper(d, now)
		s.WebhookRetention = 30 * day
		if _, err := s.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		want := map[string][3]int{"old delivered": {}, "old failed": {}, "old pending": {1, 1, 1},
			"young delivered": {1, 1, 1}, "young failed": {1, 1, 1}}
		if got := state(); !reflect.DeepEqual(got, want) {
			t.Fatalf("after the sweep (deliveries, attempts, messages): %v\nwant %v", got, want)
		}
	})
}
