package app_test

// Webhooks across real server processes on one PostgreSQL database: two processes share
// the delivery work without sending one delivery twice at once, and a process killed
// mid-delivery (SIGKILL) loses nothing once a process runs again.

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/webhook/webhooktest"
)

// webhookProcess starts a server process with the fast webhook clock.
func webhookProcess(t *testing.T, name, url string) *apptest.Process {
	t.Helper()
	env := maps.Clone(fastWebhooks)
	env["DATABASE_URL"] = url
	return startProcess(t, name, env)
}

// openDB opens the processes' database from the test (fixtures, the outbox's rows).
func openDB(t *testing.T, url string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// holdFirstAnswer makes rcv hold its first request unanswered until the test ends
// (then 503), as long as the sender waits, and answer the others 200 at once; the
// channel gets the held request's webhook-id.
func holdFirstAnswer(t *testing.T, rcv *webhooktest.Receiver) <-chan string {
	inFlight := make(chan string, 1)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var once sync.Once
	rcv.Respond = func(dl webhooktest.Delivery, n int) int {
		first := false
		once.Do(func() { first = true })
		if first {
			inFlight <- dl.ID
			<-release
			return 503
		}
		return 200
	}
	return inFlight
}

// checkCommitOrder fails when one case's deliveries were accepted out of version order.
func checkCommitOrder(t *testing.T, got []webhooktest.Delivery) {
	t.Helper()
	last := map[string]float64{}
	for _, d := range got {
		v, _ := d.Data()["version"].(float64)
		if v < last[d.CaseID()] {
			t.Errorf("case %s: version %v accepted after %v", d.CaseID(), v, last[d.CaseID()])
		}
		last[d.CaseID()] = v
	}
}

// TestWebhooksTwoProcesses: changes made through two processes, delivered by both;
// every delivery is accepted once, none is ever being received twice at the same
// time, and each case's deliveries arrive in commit order.
func TestWebhooksTwoProcesses(t *testing.T) {
	url := dbtest.PostgresURL(t)
	procs := []*apptest.Process{webhookProcess(t, "wh1", url), webhookProcess(t, "wh2", url)}
	d := openDB(t, url)
	c := dbtest.MustCast(t, d)
	rcv := webhooktest.Start(t)
	rcv.Respond = func(webhooktest.Delivery, int) int {
		time.Sleep(15 * time.Millisecond) // widen the window in which a double send would overlap
		return 200
	}
	var ep endpointResult
	apptest.MustQuery(t, procs[0].URL, c.CompanyToken, createEndpointMutation, map[string]any{"in": map[string]any{"url": rcv.URL}}, &ep)
	rcv.SetSecrets(*ep.CreateWebhookEndpoint.Secret)

	const cases, responses = 8, 5
	var wg sync.WaitGroup
	for i := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pay := c.MustPayment(t, d)
			p := procs[i%2]
			var open map[string]struct{ Resolution struct{ ID string } }
			apptest.MustQuery(t, p.URL, c.CustomerToken, `mutation($in: OpenResolutionInput!) { openResolution(input: $in) { resolution { id } } }`,
				map[string]any{"in": map[string]any{"paymentId": pay.ID, "issue": "ITEM_NOT_RECEIVED", "message": "Where is it?"}}, &open)
			id := open["openResolution"].Resolution.ID
			for j := range responses {
				apptest.MustQuery(t, procs[(i+j+1)%2].URL, c.CustomerToken, `mutation($id: ID!, $m: String!) { respondToResolution(input: {resolutionId: $id, message: $m}) { resolution { id } } }`,
					map[string]any{"id": id, "m": fmt.Sprintf("message %d", j)}, nil)
			}
		}()
	}
	wg.Wait()
	want := cases * (1 + responses)
	got := rcv.WaitAccepted(t, want, 60*time.Second)
	time.Sleep(500 * time.Millisecond)
	got = rcv.Accepted()
	rcv.CheckAll(t)
	if overlaps := rcv.Overlaps(); len(overlaps) > 0 {
		t.Errorf("received twice at once: %v", overlaps)
	}
	ids := map[string]int{}
	for _, dl := range got {
		ids[dl.ID]++
	}
	if len(got) != want || len(ids) != want {
		t.Errorf("accepted %d deliveries with %d distinct webhook-ids, want %d", len(got), len(ids), want)
	}
	checkCommitOrder(t, got)
}

// TestWebhooksKilledMidDelivery: a process is killed (SIGKILL) while a delivery is in
// flight; changes committed meanwhile through another process... and once a process
// runs again, every delivery arrives, the interrupted one with the same webhook-id.
func TestWebhooksKilledMidDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the job queue to rescue the killed process's job (about a minute)")
	}
	url := dbtest.PostgresURL(t)
	p1 := webhookProcess(t, "wh-killed", url)
	d := openDB(t, url)
	c := dbtest.MustCast(t, d)
	rcv := webhooktest.Start(t)
	inFlight := holdFirstAnswer(t, rcv) // the sender dies while waiting for its answer
	var ep endpointResult
	apptest.MustQuery(t, p1.URL, c.CompanyToken, createEndpointMutation, map[string]any{"in": map[string]any{"url": rcv.URL}}, &ep)
	rcv.SetSecrets(*ep.CreateWebhookEndpoint.Secret)

	pay := c.MustPayment(t, d)
	var open map[string]struct{ Resolution struct{ ID string } }
	apptest.MustQuery(t, p1.URL, c.CustomerToken, `mutation($in: OpenResolutionInput!) { openResolution(input: $in) { resolution { id } } }`,
		map[string]any{"in": map[string]any{"paymentId": pay.ID, "issue": "ITEM_NOT_RECEIVED", "message": "Where is it?"}}, &open)
	caseID := open["openResolution"].Resolution.ID
	var interrupted string
	select {
	case interrupted = <-inFlight:
	case <-time.After(20 * time.Second):
		t.Fatal("the first delivery never arrived")
	}
	if err := p1.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p1.Exited()

	// The restarted process (same database) takes over; changes go on meanwhile.
	p2 := webhookProcess(t, "wh-restarted", url)
	for j := range 3 {
		apptest.MustQuery(t, p2.URL, c.CustomerToken, `mutation($id: ID!, $m: String!) { respondToResolution(input: {resolutionId: $id, message: $m}) { resolution { id } } }`,
			map[string]any{"id": caseID, "m": fmt.Sprintf("still waiting %d", j)}, nil)
	}
	got := rcv.WaitAccepted(t, 4, 150*time.Second)
	rcv.CheckAll(t)
	if got[0].ID != interrupted {
		t.Errorf("first accepted %s, want the interrupted %s first (commit order)", got[0].ID, interrupted)
	}
	checkCommitOrder(t, got)
	// The outbox records an attempt once the receiver has answered: give it a moment.
	var rows []struct {
		ID     string `bun:"id"`
		Status string `bun:"status"`
	}
	for wait := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		rows = rows[:0]
		if _, err := d.Raw(context.Background(), &rows, "SELECT id, status FROM webhook_deliveries ORDER BY id"); err != nil {
			t.Fatal(err)
		}
		delivered := 0
		for _, r := range rows {
			if r.Status == "delivered" {
				delivered++
			}
		}
		if delivered == len(rows) || time.Now().After(wait) {
			break
		}
	}
	var accepted []string
	for _, dl := range got {
		accepted = append(accepted, dl.ID)
	}
	sort.Strings(accepted)
	if len(rows) != 4 {
		t.Fatalf("outbox rows: %+v", rows)
	}
	for i, r := range rows {
		if r.Status != "delivered" || accepted[i] != r.ID {
			t.Errorf("outbox row %s %s; accepted %v", r.ID, r.Status, accepted)
		}
	}
}

// TestWebhooksDeliveryTier: an API process with WEBHOOK_WORKERS=0 only enqueues (its
// changes' deliveries wait in the outbox, none is sent), and a delivery process started
// afterwards on the same database sends them all, in commit order: the split the README
// recommends when webhook traffic should not share the API's CPUs.
func TestWebhooksDeliveryTier(t *testing.T) {
	url := dbtest.PostgresURL(t)
	env := maps.Clone(fastWebhooks)
	env["DATABASE_URL"] = url
	env["WEBHOOK_WORKERS"] = "0"
	api := startProcess(t, "wh-api", env)
	d := openDB(t, url)
	c := dbtest.MustCast(t, d)
	rcv := webhooktest.Start(t)
	var ep endpointResult
	apptest.MustQuery(t, api.URL, c.CompanyToken, createEndpointMutation, map[string]any{"in": map[string]any{"url": rcv.URL}}, &ep)
	rcv.SetSecrets(*ep.CreateWebhookEndpoint.Secret)

	pay := c.MustPayment(t, d)
	var open map[string]struct{ Resolution struct{ ID string } }
	apptest.MustQuery(t, api.URL, c.CustomerToken, `mutation($in: OpenResolutionInput!) { openResolution(input: $in) { resolution { id } } }`,
		map[string]any{"in": map[string]any{"paymentId": pay.ID, "issue": "ITEM_NOT_RECEIVED", "message": "Where is it?"}}, &open)
	caseID := open["openResolution"].Resolution.ID
	for j := range 3 {
		apptest.MustQuery(t, api.URL, c.CustomerToken, `mutation($id: ID!, $m: String!) { respondToResolution(input: {resolutionId: $id, message: $m}) { resolution { id } } }`,
			map[string]any{"id": caseID, "m": fmt.Sprintf("message %d", j)}, nil)
	}
	// Many poll intervals (100 ms) pass: the enqueue-only process sends nothing.
	time.Sleep(1500 * time.Millisecond)
	if got := rcv.Accepted(); len(got) > 0 {
		t.Fatalf("the WEBHOOK_WORKERS=0 process delivered %d", len(got))
	}
	var pending []struct {
		Status string `bun:"status"`
	}
	if _, err := d.Raw(context.Background(), &pending, "SELECT status FROM webhook_deliveries WHERE case_id = ?", caseID); err != nil {
		t.Fatal(err)
	}
	if len(pending) != 4 {
		t.Fatalf("outbox holds %d deliveries of the case, want 4", len(pending))
	}
	for _, r := range pending {
		if r.Status != string(db.DeliveryPending) {
			t.Fatalf("delivery %s before any delivery process ran", r.Status)
		}
	}
	// The API process reports the backlog it is left with (its gauges are read every ten
	// polls: 1 s here).
	deadline := time.Now().Add(20 * time.Second)
	for scrapeMetric(t, api.Base, "rc_webhook_pending") < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("the WEBHOOK_WORKERS=0 process reports rc_webhook_pending %v with 4 deliveries pending", scrapeMetric(t, api.Base, "rc_webhook_pending"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v := scrapeMetric(t, api.Base, "rc_webhook_oldest_pending_seconds"); v <= 0 {
		t.Errorf("rc_webhook_oldest_pending_seconds = %v with deliveries pending", v)
	}

	webhookProcess(t, "wh-delivery", url)
	got := rcv.WaitAccepted(t, 4, 60*time.Second)
	rcv.CheckAll(t)
	checkCommitOrder(t, got)
}
