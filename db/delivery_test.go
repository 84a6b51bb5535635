package db_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/ids"
)

// everyChange is an outbox that writes one delivery per endpoint for every change.
type everyChange struct{ endpoints []string }

func (o everyChange) Enqueue(ctx context.Context, tx *db.OutboxTx, ch db.CaseChange) (func(), error) {
	var list []db.WebhookDelivery
	for _, ep := range o.endpoints {
		list = append(list, db.WebhookDelivery{ID: ids.New(ids.WebhookDelivery), EndpointID: ep, CompanyID: ch.After.CompanyID,
			CaseID: ch.After.ID, Position: ch.Event.Position, EventType: "resolution_center_case.updated",
			Status: db.DeliveryPending, CreatedAt: ch.Event.CreatedAt,
			Data: fmt.Sprintf(`{"version":%d}`, ch.After.Version), Previous: `{"status":"x"}`})
	}
	return nil, tx.InsertDeliveries(ctx, list)
}

// deliveryFixture makes endpoints of one company and cases whose every change writes
// a delivery to each, and returns the refs by case, endpoint and position (1-based).
func deliveryFixture(t *testing.T, d *db.DB, endpoints, cases, changes int) ([]string, [][][]db.DeliveryRef) {
	t.Helper()
	ctx := context.Background()
	c := dbtest.MustCast(t, d)
	var eps []string
	for range endpoints {
		ep, err := d.CreateWebhookEndpoint(ctx, db.WebhookEndpoint{CompanyID: c.Company.ID, URL: "https://example.com/h",
			SecretEnc: "x", CreatedAt: dbtest.Now(), UpdatedAt: dbtest.Now()}, 0)
		if err != nil {
			t.Fatal(err)
		}
		eps = append(eps, ep.ID)
	}
	t.Cleanup(d.SetOutbox(everyChange{eps}))
	refs := make([][][]db.DeliveryRef, cases)
	for k := range cases {
		res := dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
		for range changes - 1 {
			dbtest.MustApply(t, d, res.Case.ID, dispute.ActorCustomer, dispute.ActionRespond, "more", dbtest.Now())
		}
		refs[k] = make([][]db.DeliveryRef, endpoints)
		for e, ep := range eps {
			var rows []struct {
				ID       string `bun:"id"`
				Position int    `bun:"position"`
			}
			if _, err := d.Raw(ctx, &rows, "SELECT id, position FROM webhook_deliveries WHERE case_id = ? AND endpoint_id = ? ORDER BY position",
				res.Case.ID, ep); err != nil || len(rows) != changes {
				t.Fatalf("deliveries: %v %v", rows, err)
			}
			for _, r := range rows {
				refs[k][e] = append(refs[k][e], db.DeliveryRef{ID: r.ID, EndpointID: ep, CaseID: res.Case.ID, Position: r.Position})
			}
		}
	}
	return eps, refs
}

func success(c db.Claim, at time.Time) db.AttemptResult {
	var lease time.Time
	if c.Delivery.LeaseUntil != nil {
		lease = *c.Delivery.LeaseUntil
	}
	return db.AttemptResult{EndpointID: c.Delivery.EndpointID, Status: db.DeliveryDelivered, LeaseUntil: lease,
		Attempt: db.WebhookAttempt{ID: ids.New(ids.WebhookAttempt), DeliveryID: c.Delivery.ID, AttemptedAt: at,
			Success: true, StatusCode: 204, LatencyMS: 3}}
}

// TestClaimWebhookDeliveries: a batch claims the head of each case and endpoint (the
// earliest pending delivery, so commit order holds), with its message; later refs of
// the same pair wait; a leased head makes claims wait until the recheck, a head waiting
// for its retry until then; delivered heads make way; an expired lease is claimed
// again; records of successes and failures in one batch land.
func TestClaimWebhookDeliveries(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		_, refs := deliveryFixture(t, d, 2, 1, 3)
		a, b := refs[0][0], refs[0][1] // endpoint a's and b's deliveries at positions 1..3
		now := dbtest.Now()
		lease := 10 * time.Second
		got, err := d.ClaimWebhookDeliveries(ctx, []db.DeliveryRef{a[2], b[0], a[1]}, now, lease)
		if err != nil {
			t.Fatal(err)
		}
		// a's head (position 1) goes to the earliest ref of a (position 2), which
		// must first send it; a's position 3 waits for it.
		if got[2].Delivery.ID != a[0].ID || got[1].Delivery.ID != b[0].ID {
			t.Fatalf("claimed %+v and %+v, want a1 %s and b1 %s", got[2], got[1], a[0].ID, b[0].ID)
		}
		if got[1].Delivery.Data != `{"version":1}` || got[1].Delivery.Previous != `{"status":"x"}` {
			t.Fatalf("the second delivery of the change lacks its message: %+v", got[1].Delivery)
		}
		if got[0].Done || got[0].Delivery.ID != "" || !got[0].WaitUntil.Equal(now.Add(200*time.Millisecond)) {
			t.Fatalf("a3: %+v, want a wait of 200 ms", got[0])
		}
		if d1 := got[2].Delivery; d1.Data != `{"version":1}` || d1.Previous != `{"status":"x"}` || d1.Attempts != 1 ||
			d1.Position != 1 || d1.EventType != "resolution_center_case.updated" || d1.CompanyID == "" {
			t.Fatalf("claimed delivery: %+v", d1)
		}
		// Leased: another claim waits.
		again, err := d.ClaimWebhookDeliveries(ctx, []db.DeliveryRef{a[0]}, now.Add(time.Second), lease)
		if err != nil || again[0].Delivery.ID != "" || again[0].Done {
			t.Fatalf("claim of a leased head: %+v %v", again, err)
		}
		// a1 delivered, b1 failed with a retry in an hour.
		fail := db.AttemptResult{EndpointID: b[0].EndpointID, Status: db.DeliveryPending, NextAttemptAt: now.Add(time.Hour), LeaseUntil: *got[1].Delivery.LeaseUntil,
			Attempt: db.WebhookAttempt{ID: ids.New(ids.WebhookAttempt), DeliveryID: b[0].ID, AttemptedAt: now, StatusCode: 500,
				LatencyMS: 4, Error: "status 500", ResponseExcerpt: "oops"}}
		if err := d.RecordWebhookAttempts(ctx, []db.AttemptResult{success(got[2], now), fail}); err != nil {
			t.Fatal(err)
		}
		next, err := d.ClaimWebhookDeliveries(ctx, []db.DeliveryRef{a[0], a[2], b[2]}, now.Add(time.Second), lease)
		if err != nil {
			t.Fatal(err)
		}
		if !next[0].Done {
			t.Errorf("a1 delivered: %+v, want done", next[0])
		}
		if next[1].Delivery.ID != a[1].ID {
			t.Errorf("a3's claim took %+v, want a2 (the new head)", next[1])
		}
		if !next[2].WaitUntil.Equal(now.Add(time.Hour)) {
			t.Errorf("b3 behind b1 waiting for its retry: %+v, want to wait an hour", next[2])
		}
		// The lease of a2 runs out: it is claimed again, a second attempt.
		later, err := d.ClaimWebhookDeliveries(ctx, []db.DeliveryRef{a[1]}, now.Add(time.Second+lease+time.Millisecond), lease)
		if err != nil || later[0].Delivery.ID != a[1].ID || later[0].Delivery.Attempts != 2 {
			t.Fatalf("after the lease: %+v %v", later, err)
		}
		st, err := d.WebhookDeliveryByID(ctx, b[0].ID)
		if err != nil || st.Status != db.DeliveryPending || st.LastStatusCode != 500 || st.LastError != "status 500" {
			t.Errorf("b1 after its failure: %+v %v", st, err)
		}
		st, err = d.WebhookDeliveryByID(ctx, a[0].ID)
		if err != nil || st.Status != db.DeliveryDelivered || st.DeliveredAt == nil || st.LastStatusCode != 204 || st.LeaseUntil != nil {
			t.Errorf("a1 after its success: %+v %v", st, err)
		}
		log, err := d.WebhookAttempts(ctx, []string{a[0].ID, b[0].ID}, 10)
		if err != nil || len(log[a[0].ID]) != 1 || !log[a[0].ID][0].Success || len(log[b[0].ID]) != 1 || log[b[0].ID][0].ResponseExcerpt != "oops" {
			t.Errorf("attempt log: %+v %v", log, err)
		}
	})
}

// TestClaimWebhookDeliveriesConcurrently: batches claiming overlapping refs in random
// orders at once never lease one delivery twice, never deadlock, and in the end every
// delivery is sent once, each case's in commit order per endpoint.
func TestClaimWebhookDeliveriesConcurrently(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const endpoints, cases, changes = 3, 6, 4
		_, refs := deliveryFixture(t, d, endpoints, cases, changes)
		var all []db.DeliveryRef
		for _, byEp := range refs {
			for _, list := range byEp {
				all = append(all, list...)
			}
		}
		var mu sync.Mutex
		sent := map[string]int{}
		order := map[[2]string][]int{}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 7))
				for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
					batch := make([]db.DeliveryRef, 0, 10)
					for range 10 {
						batch = append(batch, all[rng.IntN(len(all))])
					}
					got, err := d.ClaimWebhookDeliveries(ctx, batch, dbtest.Now(), time.Minute)
					if err != nil {
						errs <- err
						return
					}
					var results []db.AttemptResult
					mu.Lock()
					for _, c := range got {
						if c.Delivery.ID == "" {
							continue
						}
						sent[c.Delivery.ID]++
						k := [2]string{c.Delivery.CaseID, c.Delivery.EndpointID}
						order[k] = append(order[k], c.Delivery.Position)
						results = append(results, success(c, dbtest.Now()))
					}
					done := len(sent) == len(all)
					mu.Unlock()
					if err := d.RecordWebhookAttempts(ctx, results); err != nil {
						errs <- err
						return
					}
					if done {
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(sent) != len(all) {
			t.Fatalf("%d of %d deliveries claimed", len(sent), len(all))
		}
		for id, n := range sent {
			if n != 1 {
				t.Errorf("delivery %s claimed %d times", id, n)
			}
		}
		for k, positions := range order {
			for i := range positions {
				if positions[i] != i+1 {
					t.Errorf("case %s endpoint %s sent in order %v", k[0], k[1], positions)
					break
				}
			}
		}
	})
}

// partsCheck is an outbox that reads every change's case parts both through the
// engine's statements and through bun, for every role, and keeps any difference.
type partsCheck struct {
	mu    sync.Mutex
	diffs []string
	seen  int
}

func (o *partsCheck) Enqueue(ctx context.Context, tx *db.OutboxTx, ch db.CaseChange) (func(), error) {
	for _, role := range []dispute.Actor{dispute.ActorCustomer, dispute.ActorMerchant, dispute.ActorPlatform} {
		for _, n := range []int{50, 2, 0} {
			fast, slow, err := db.CasePartsBothWays(ctx, tx, ch.After, role, n)
			o.mu.Lock()
			o.seen++
			if err != nil || !reflect.DeepEqual(fast, slow) {
				o.diffs = append(o.diffs, fmt.Sprintf("%s %d at %d: %v\n%+v\n%+v", role, n, ch.Event.Position, err, fast, slow))
			}
			o.mu.Unlock()
		}
	}
	return nil, nil
}

// TestOutboxCaseParts: the outbox's reads of a case's company, customer, payment,
// membership and visible events (prepared statements on PostgreSQL) give what bun's
// reads give, as the case goes through hidden events, a refund and a cancelled
// membership.
func TestOutboxCaseParts(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		o := &partsCheck{}
		t.Cleanup(d.SetOutbox(o))
		c := dbtest.MustCast(t, d)
		res := dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
		id := res.Case.ID
		dbtest.MustApply(t, d, id, dispute.ActorMerchant, dispute.ActionDeny, "no", dbtest.Now())
		dbtest.MustApply(t, d, id, dispute.ActorCustomer, dispute.ActionAppeal, "please", dbtest.Now())
		dbtest.MustApply(t, d, id, dispute.ActorPlatform, dispute.ActionRequestBuyerInfo, "statement?", dbtest.Now())
		dbtest.MustApply(t, d, id, dispute.ActorCustomer, dispute.ActionRespond, "attached", dbtest.Now())
		dbtest.MustApply(t, d, id, dispute.ActorPlatform, dispute.ActionMerchantRefund, "refund", dbtest.Now())
		// A payment without membership, a customer without a name.
		u := dbtest.MustUser(t, d)
		dbtest.MustOpen(t, d, dbtest.MustPayment(t, d, u, c.Company, ""), dispute.IssueItemNotReceived, dbtest.Now())
		if o.seen < 7*9 {
			t.Fatalf("the outbox saw %d reads", o.seen)
		}
		for _, diff := range o.diffs {
			t.Error(diff)
		}
		if p := dbtest.MustGetPayment(t, d, res.Case.PaymentID); !p.Refunded {
			t.Fatalf("the scenario did not refund the payment")
		}
	})
}

// TestPurgeWebhookDeliveriesInBatches: a purge works through more rows than one
// statement deletes, keeps pending deliveries and the messages they need, and deleting
// an endpoint takes the messages only its deliveries referred to.
func TestPurgeWebhookDeliveriesInBatches(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		db.SetPurgeBatch(d, 2)
		eps, refs := deliveryFixture(t, d, 2, 3, 3) // 3 cases x 3 changes x 2 endpoints
		count := func(table string) int {
			var n []int
			if _, err := d.Raw(ctx, &n, "SELECT count(*) FROM "+table); err != nil {
				t.Fatal(err)
			}
			return n[0]
		}
		// Deliver everything to the first endpoint but the last change of case 0.
		now := dbtest.Now()
		for k, byEp := range refs {
			for i, ref := range byEp[0] {
				if k == 0 && i == 2 {
					continue
				}
				c, err := d.ClaimWebhookDeliveries(ctx, []db.DeliveryRef{ref}, now, time.Minute)
				if err != nil || c[0].Delivery.ID != ref.ID {
					t.Fatalf("claim %v: %+v %v", ref, c, err)
				}
				if err := d.RecordWebhookAttempts(ctx, []db.AttemptResult{success(c[0], now)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		n, m, err := d.PurgeWebhookDeliveries(ctx, time.Now().Add(time.Minute))
		if err != nil || n != 8 || m != 0 {
			t.Fatalf("purge: %d deliveries, %d messages, %v; want 8, 0 (the other endpoint's deliveries keep every message)", n, m, err)
		}
		if got := count("webhook_attempts"); got != 0 {
			t.Errorf("%d attempts left", got)
		}
		if got := count("webhook_deliveries"); got != 10 {
			t.Errorf("%d deliveries left, want the 9 pending ones of the second endpoint and case 0's last", got)
		}
		// Deleting the second endpoint leaves only the message of the first endpoint's
		// pending delivery.
		if err := d.DeleteWebhookEndpoint(ctx, eps[1], func(db.WebhookEndpoint) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if got := count("webhook_messages"); got != 1 {
			t.Errorf("%d messages after deleting the endpoint, want 1", got)
		}
		if n, m, err := d.PurgeWebhookDeliveries(ctx, time.Now().Add(time.Minute)); err != nil || n != 0 || m != 0 {
			t.Errorf("second purge: %d, %d, %v", n, m, err)
		}
	})
}

// TestRecordAttemptsOfADeletedDelivery: a batch of attempts where one delivery was
// deleted meanwhile (with its endpoint) records the others and drops that one.
func TestRecordAttemptsOfADeletedDelivery(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		eps, refs := deliveryFixture(t, d, 2, 1, 1)
		now := dbtest.Now()
		got, err := d.ClaimWebhookDeliveries(ctx, []db.DeliveryRef{refs[0][0][0], refs[0][1][0]}, now, time.Minute)
		if err != nil || got[0].Delivery.ID == "" || got[1].Delivery.ID == "" {
			t.Fatalf("claims: %+v %v", got, err)
		}
		if err := d.DeleteWebhookEndpoint(ctx, eps[1], func(db.WebhookEndpoint) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if err := d.RecordWebhookAttempts(ctx, []db.AttemptResult{success(got[1], now), success(got[0], now)}); err != nil {
			t.Fatalf("recording with a deleted delivery: %v", err)
		}
		if st, err := d.WebhookDeliveryByID(ctx, got[0].Delivery.ID); err != nil || st.Status != db.DeliveryDelivered {
			t.Errorf("the surviving delivery: %+v %v", st, err)
		}
	})
}

// On PostgreSQL a change's payload is compressed with lz4 where the server has it (the
// migration keeps pglz, the default, where it has not). The delivery tests read
// payloads back.
func TestPayloadCompression(t *testing.T) {
	d := dbtest.MustPostgres(t)
	ctx := context.Background()
	var available bool
	if _, err := d.Raw(ctx, &available, `SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals))`); err != nil {
		t.Fatal(err)
	}
	var method string
	if _, err := d.Raw(ctx, &method, `SELECT attcompression::text FROM pg_attribute WHERE attrelid = 'webhook_messages'::regclass AND attname = 'data'`); err != nil {
		t.Fatal(err)
	}
	want := ""
	if available {
		want = "l"
	}
	if method != want {
		t.Fatalf("webhook_messages.data compression %q, want %q (lz4 available: %v)", method, want, available)
	}
}

// TestClaimReadsOnlyPendingDeliveries: a claim's head lookup reads the pending
// deliveries of the case and endpoint, not the delivered ones before them. A case with
// a long history with an endpoint (400 delivered deliveries, then one pending) is
// claimed through webhook_deliveries_head_idx; on PostgreSQL the lookup, run, reads
// that one row (on the case index it stepped over all 400, removed by its filter).
func TestClaimReadsOnlyPendingDeliveries(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		_, refs := deliveryFixture(t, d, 1, 1, 1)
		ref := refs[0][0][0]
		if _, err := d.Raw(ctx, nil, "UPDATE webhook_deliveries SET position = position + 1000 WHERE id = ?", ref.ID); err != nil {
			t.Fatal(err)
		}
		ref.Position += 1000
		if _, err := d.Raw(ctx, nil, `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 400)
INSERT INTO webhook_deliveries (id, endpoint_id, company_id, case_id, position, ordinal, event_type, status, attempts, created_at, delivered_at)
SELECT w.id || '_' || s.n, w.endpoint_id, w.company_id, w.case_id, s.n, 0, w.event_type, 'delivered', 1, w.created_at, w.created_at
FROM webhook_deliveries AS w CROSS JOIN s WHERE w.id = ?`, ref.ID); err != nil {
			t.Fatal(err)
		}
		if d.Engine == db.Postgres {
			if _, err := d.Raw(ctx, nil, "ANALYZE webhook_deliveries"); err != nil {
				t.Fatal(err)
			}
		}
		plan, err := db.ExplainClaimHead(ctx, d, ref, dbtest.Now())
		if err != nil {
			t.Fatal(err)
		}
		if d.Engine != db.Postgres {
			if !strings.Contains(plan, "webhook_deliveries_head_idx") {
				t.Fatalf("the head lookup does not use the head index:\n%s", plan)
			}
			return
		}
		root := parsePlan(t, plan)
		var head *planNode
		root.walk(func(n *planNode) {
			if n.Relation == "webhook_deliveries" && n.Index != "" {
				head = n
			}
		})
		if head == nil || head.Index != "webhook_deliveries_head_idx" || head.ActualRows != 1 || head.RemovedByFilter != 0 {
			t.Fatalf("the head lookup is not one row read from the head index:\n%s", plan)
		}
	})
}

// planNode is a node of PostgreSQL's EXPLAIN (FORMAT JSON).
type planNode struct {
	Type            string     `json:"Node Type"`
	Relation        string     `json:"Relation Name"`
	Index           string     `json:"Index Name"`
	ActualRows      float64    `json:"Actual Rows"`
	RemovedByFilter float64    `json:"Rows Removed by Filter"`
	Plans           []planNode `json:"Plans"`
}

// parsePlan reads PostgreSQL's EXPLAIN (FORMAT JSON) of one statement.
func parsePlan(t *testing.T, plan string) *planNode {
	t.Helper()
	var doc []struct{ Plan planNode }
	if err := json.Unmarshal([]byte(plan), &doc); err != nil || len(doc) != 1 {
		t.Fatalf("plan: %v\n%s", err, plan)
	}
	return &doc[0].Plan
}

// waitForLockWait waits until one statement of the database whose text is LIKE query
// waits for a lock (PostgreSQL), or fails with msg after 10 s.
func waitForLockWait(t *testing.T, d *db.DB, query, msg string) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		var n []int
		if _, err := d.Raw(context.Background(), &n, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
 AND wait_event_type = 'Lock' AND query LIKE ?`, query); err != nil {
			t.Fatal(err)
		}
		if n[0] == 1 {
			return
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal(msg)
		}
	}
}

func (n *planNode) walk(f func(*planNode)) {
	f(n)
	for i := range n.Plans {
		n.Plans[i].walk(f)
	}
}

// TestRecordLocksInClaimOrder: a record batch locks its deliveries by case and endpoint,
// the order claims lock heads in, whatever the order of the batch: with the first
// (case, endpoint) pair's delivery locked elsewhere, a record of the second and the
// first waits without holding the second, so a claim holding the first can still take
// the second (updated in the batch's order, the record held the second: a deadlock).
func TestRecordLocksInClaimOrder(t *testing.T) {
	d := dbtest.MustPostgres(t)
	ctx := context.Background()
	_, refs := deliveryFixture(t, d, 1, 2, 1)
	first, second := refs[0][0][0], refs[1][0][0]
	if second.CaseID < first.CaseID {
		first, second = second, first
	}
	tx, err := db.BeginTx(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	lock := func(id, wait string) error {
		_, err := tx.ExecContext(ctx, "SELECT id FROM webhook_deliveries WHERE id = ? FOR NO KEY UPDATE "+wait, id)
		return err
	}
	now := dbtest.Now()
	claims, err := d.ClaimWebhookDeliveries(ctx, []db.DeliveryRef{first, second}, now, time.Minute)
	if err != nil || claims[0].Delivery.ID != first.ID || claims[1].Delivery.ID != second.ID {
		t.Fatalf("claims %+v %v", claims, err)
	}
	if err := lock(first.ID, ""); err != nil {
		t.Fatal(err)
	}
	result := func(r db.DeliveryRef) db.AttemptResult {
		for _, c := range claims {
			if c.Delivery.ID == r.ID {
				return success(c, now)
			}
		}
		t.Fatalf("no claim of %s", r.ID)
		return db.AttemptResult{}
	}
	recorded := make(chan error, 1)
	go func() { recorded <- d.RecordWebhookAttempts(ctx, []db.AttemptResult{result(second), result(first)}) }()
	waitForLockWait(t, d, "%webhook_attempts%", "the record never waited for the locked delivery")
	if err := lock(second.ID, "NOWAIT"); err != nil {
		t.Fatalf("the record holds the second pair's delivery while it waits for the first: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-recorded; err != nil {
		t.Fatal(err)
	}
	for _, r := range []db.DeliveryRef{first, second} {
		if st, err := d.WebhookDeliveryByID(ctx, r.ID); err != nil || st.Status != db.DeliveryDelivered {
			t.Errorf("%s after the record: %+v %v", r.ID, st, err)
		}
	}
}

// TestRequeueFailedWebhookDeliveries: an endpoint's failed deliveries since a time go
// back to pending, oldest first, limit at a time, with more reported while some remain;
// the enqueue runs in the same transaction (its error leaves them failed); another
// endpoint's failures and deliveries before the time stay; claims then take each case's
// in commit order.
func TestRequeueFailedWebhookDeliveries(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		_, refs := deliveryFixture(t, d, 2, 2, 3)
		var failed []string // endpoint a's six, then b's first of case 1
		for _, c := range refs {
			for _, r := range c[0] {
				failed = append(failed, r.ID)
			}
		}
		failed = append(failed, refs[0][1][0].ID)
		for _, id := range failed {
			if err := db.FailDelivery(ctx, d, id, "status 500"); err != nil {
				t.Fatal(err)
			}
		}
		epA := refs[0][0][0].EndpointID
		status := func(id string) string {
			t.Helper()
			st, err := d.WebhookDeliveryByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return st.Status
		}
		now := dbtest.Now().Add(time.Minute)
		past := now.Add(-time.Hour)
		var enqueued []string
		record := func(ctx context.Context, tx *db.OutboxTx, list []db.WebhookDelivery) error {
			for _, x := range list {
				enqueued = append(enqueued, x.ID)
			}
			return nil
		}

		// Nothing since a later time.
		got, more, err := d.RequeueFailedWebhookDeliveries(ctx, epA, now, now, 4, record)
		if err != nil || len(got) != 0 || more || len(enqueued) != 0 {
			t.Fatalf("since later: %v %v %v %v", got, more, err, enqueued)
		}
		// The enqueue's error rolls the requeue back.
		boom := errors.New("queue down")
		if _, _, err := d.RequeueFailedWebhookDeliveries(ctx, epA, past, now, 4,
			func(context.Context, *db.OutboxTx, []db.WebhookDelivery) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("enqueue error: %v", err)
		}
		for _, id := range failed {
			if s := status(id); s != db.DeliveryFailed {
				t.Fatalf("%s is %s after a rolled-back requeue", id, s)
			}
		}

		got, more, err = d.RequeueFailedWebhookDeliveries(ctx, epA, past, now, 4, record)
		if err != nil || len(got) != 4 || !more {
			t.Fatalf("first page: %d %v %v", len(got), more, err)
		}
		rest, more, err := d.RequeueFailedWebhookDeliveries(ctx, epA, past, now, 4, record)
		if err != nil || len(rest) != 2 || more {
			t.Fatalf("second page: %d %v %v", len(rest), more, err)
		}
		got = append(got, rest...)
		var ids []string
		for i, x := range got {
			ids = append(ids, x.ID)
			if x.EndpointID != epA || x.Status != db.DeliveryPending || !x.NextAttemptAt.Equal(now) {
				t.Errorf("requeued %+v", x)
			}
			if i > 0 && x.CreatedAt.Before(got[i-1].CreatedAt) {
				t.Errorf("not oldest first: %v after %v", x.CreatedAt, got[i-1].CreatedAt)
			}
		}
		if !slices.Equal(ids, enqueued) {
			t.Fatalf("enqueued %v, requeued %v", enqueued, ids)
		}
		slices.Sort(ids)
		want := slices.Clone(failed[:6])
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Fatalf("requeued %v, want endpoint a's failed %v", ids, want)
		}
		for _, id := range failed[:6] {
			if s := status(id); s != db.DeliveryPending {
				t.Errorf("%s is %s", id, s)
			}
		}
		if s := status(failed[6]); s != db.DeliveryFailed {
			t.Errorf("endpoint b's failure became %s", s)
		}
		if again, more, err := d.RequeueFailedWebhookDeliveries(ctx, epA, past, now, 4, record); err != nil || len(again) != 0 || more {
			t.Fatalf("a third call: %v %v %v", again, more, err)
		}
		// Claims send them in commit order again.
		c, err := d.ClaimWebhookDeliveries(ctx, []db.DeliveryRef{refs[0][0][2]}, now, 10*time.Second)
		if err != nil || c[0].Delivery.ID != refs[0][0][0].ID {
			t.Fatalf("claim after the requeue: %+v %v, want position 1", c, err)
		}

		// Two recoveries at once requeue each failed delivery once between them.
		for _, id := range failed[:6] {
			if err := db.FailDelivery(ctx, d, id, "status 500"); err != nil {
				t.Fatal(err)
			}
		}
		var (
			mu    sync.Mutex
			seen  = map[string]int{}
			wg    sync.WaitGroup
			total atomic.Int64
		)
		for range 4 {
			wg.Go(func() {
				got, _, err := d.RequeueFailedWebhookDeliveries(ctx, epA, past, now, 10,
					func(_ context.Context, _ *db.OutboxTx, list []db.WebhookDelivery) error {
						mu.Lock()
						defer mu.Unlock()
						for _, x := range list {
							seen[x.ID]++
						}
						return nil
					})
				if err != nil {
					t.Error(err)
				}
				total.Add(int64(len(got)))
			})
		}
		wg.Wait()
		if total.Load() != 6 || len(seen) != 6 {
			t.Fatalf("concurrent recoveries requeued %d, enqueued %v; want each of 6 once", total.Load(), seen)
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s enqueued %d times", id, n)
			}
		}
	})
}

// TestListWebhookDeliveriesByStatus: an endpoint's deliveries filtered by status, newest
// first, paged by ID.
func TestListWebhookDeliveriesByStatus(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		_, refs := deliveryFixture(t, d, 1, 2, 3)
		ep := refs[0][0][0].EndpointID
		failed := []string{refs[0][0][1].ID, refs[1][0][2].ID} // in commit order
		for _, id := range failed {
			if err := db.FailDelivery(ctx, d, id, "status 500"); err != nil {
				t.Fatal(err)
			}
		}
		list := func(status, before string, limit int) []string {
			t.Helper()
			got, err := d.ListWebhookDeliveries(ctx, ep, db.DeliveryFilter{Status: status}, before, limit)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, x := range got {
				if status != "" && x.Status != status {
					t.Errorf("%s listed as %s is %s", x.ID, status, x.Status)
				}
				out = append(out, x.ID)
			}
			return out
		}
		if got := list(db.DeliveryFailed, "", 10); !slices.Equal(got, []string{failed[1], failed[0]}) {
			t.Fatalf("failed: %v, want %v newest first", got, failed)
		}
		if got := list(db.DeliveryFailed, "", 1); !slices.Equal(got, []string{failed[1]}) {
			t.Fatalf("failed, first page: %v", got)
		}
		if got := list(db.DeliveryFailed, failed[1], 10); !slices.Equal(got, []string{failed[0]}) {
			t.Fatalf("failed, after the first page: %v", got)
		}
		if got := list(db.DeliveryPending, "", 10); len(got) != 4 || slices.Contains(got, failed[0]) || slices.Contains(got, failed[1]) {
			t.Fatalf("pending: %v", got)
		}
		if got := list(db.DeliveryDelivered, "", 10); len(got) != 0 {
			t.Fatalf("delivered: %v", got)
		}
		if got := list("", "", 10); len(got) != 6 {
			t.Fatalf("all: %v", got)
		}
		// One case's, newest first, with and without a status.
		byCase := func(caseID, status string) []string {
			t.Helper()
			got, err := d.ListWebhookDeliveries(ctx, ep, db.DeliveryFilter{Status: status, CaseID: caseID}, "", 10)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, x := range got {
				if x.CaseID != caseID {
					t.Errorf("%s of case %s listed for case %s", x.ID, x.CaseID, caseID)
				}
				out = append(out, x.ID)
			}
			return out
		}
		c0, c1 := refs[0][0], refs[1][0]
		if got := byCase(c1[0].CaseID, ""); !slices.Equal(got, []string{c1[2].ID, c1[1].ID, c1[0].ID}) {
			t.Fatalf("case 2: %v", got)
		}
		if got := byCase(c0[0].CaseID, db.DeliveryFailed); !slices.Equal(got, []string{failed[0]}) {
			t.Fatalf("case 1, failed: %v", got)
		}
		if got := byCase(ids.New(ids.Resolution), ""); len(got) != 0 {
			t.Fatalf("an unknown case: %v", got)
		}
	})
}

// TestListCaseDeliveriesUsesCaseIndex: one case's deliveries to an endpoint are found
// on the case index, not by stepping back through the endpoint's whole log (here 400
// deliveries of other cases, newer than the case's).
func TestListCaseDeliveriesUsesCaseIndex(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		_, refs := deliveryFixture(t, d, 1, 1, 2)
		ref := refs[0][0][0]
		if _, err := d.Raw(ctx, nil, `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 400)
INSERT INTO webhook_deliveries (id, endpoint_id, company_id, case_id, position, ordinal, event_type, status, attempts, created_at, delivered_at)
SELECT 'msg_zz' || s.n, w.endpoint_id, w.company_id, 'reso_other' || s.n, 1, 0, w.event_type, 'delivered', 1, w.created_at, w.created_at
FROM webhook_deliveries AS w CROSS JOIN s WHERE w.id = ?`, ref.ID); err != nil {
			t.Fatal(err)
		}
		if d.Engine == db.Postgres {
			if _, err := d.Raw(ctx, nil, "ANALYZE webhook_deliveries"); err != nil {
				t.Fatal(err)
			}
		}
		got, err := d.ListWebhookDeliveries(ctx, ref.EndpointID, db.DeliveryFilter{CaseID: ref.CaseID}, "", 21)
		if err != nil || len(got) != 2 {
			t.Fatalf("the case's deliveries: %d %v", len(got), err)
		}
		plan, err := db.ExplainListDeliveries(ctx, d, ref.EndpointID, db.DeliveryFilter{CaseID: ref.CaseID}, 21)
		if err != nil {
			t.Fatal(err)
		}
		if d.Engine != db.Postgres {
			if !strings.Contains(plan, "webhook_deliveries_case_idx") {
				t.Fatalf("one case's deliveries are not read on the case index:\n%s", plan)
			}
			return
		}
		root := parsePlan(t, plan)
		var scans []string
		root.walk(func(n *planNode) {
			if n.Index != "" && strings.HasPrefix(n.Index, "webhook_deliveries") {
				scans = append(scans, n.Index)
			}
		})
		if !slices.Equal(scans, []string{"webhook_deliveries_case_idx"}) {
			t.Fatalf("one case's deliveries are read on %v, want the case index:\n%s", scans, plan)
		}
	})
}
