package app_test

// What a company can make the server do through its webhooks: the delivery log is
// priced by the cost model like every other connection, read in a bounded number of
// statements, without the payloads unless asked for, and a company (or the platform)
// can register only so many endpoints.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/ids"
)

// statementLog is a query hook that keeps the statements on the webhook tables.
type statementLog struct {
	mu    sync.Mutex
	stmts []string
}

func (l *statementLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (l *statementLog) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if !strings.Contains(e.Query, "webhook_") {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stmts = append(l.stmts, e.Query)
}

// during returns the webhook statements run by f.
func (l *statementLog) during(f func()) []string {
	l.mu.Lock()
	l.stmts = nil
	l.mu.Unlock()
	f()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stmts
}

// listing shows the first statements, each cut to its start.
func listing(stmts []string) string {
	var b strings.Builder
	for i, s := range stmts {
		if i == 5 {
			fmt.Fprintf(&b, "\n  ... %d more", len(stmts)-5)
			break
		}
		fmt.Fprintf(&b, "\n  %s", apptest.Trunc([]byte(s), 140))
	}
	return b.String()
}

// touching returns the statements that mention table.
func touching(stmts []string, table string) []string {
	var out []string
	for _, s := range stmts {
		if strings.Contains(s, table) {
			out = append(out, s)
		}
	}
	return out
}

// deliveryLog registers an endpoint of the cast's company, opens n cases (one delivery
// each: no workers run, so they stay pending) and logs attempts attempts for each
// delivery. It returns the endpoint ID and the delivery IDs, newest first.
func deliveryLog(t *testing.T, s *apptest.Server, d *db.DB, c *dbtest.Cast, n, attempts int) (string, []string) {
	t.Helper()
	ctx := context.Background()
	epID, _ := mustEndpoint(t, s, c.CompanyToken, "http://127.0.0.1:9/hook", nil)
	for range n {
		dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
	}
	var rows []struct {
		ID        string    `bun:"id"`
		CreatedAt time.Time `bun:"created_at"`
	}
	if _, err := d.Raw(ctx, &rows, "SELECT id, created_at FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY id DESC", epID); err != nil || len(rows) != n {
		t.Fatalf("deliveries: %d %v, want %d", len(rows), err, n)
	}
	var out []string
	for _, r := range rows {
		for k := range attempts {
			mustAttempt(t, d, r.ID, r.CreatedAt.Add(time.Duration(k+1)*time.Second), 500+k)
		}
		out = append(out, r.ID)
	}
	return epID, out
}

// mustAttempt logs a failed attempt of a delivery, answered with status.
func mustAttempt(t *testing.T, d *db.DB, deliveryID string, at time.Time, status int) {
	t.Helper()
	if _, err := d.Raw(context.Background(), nil, `INSERT INTO webhook_attempts (id, delivery_id, attempted_at, success,
 status_code, latency_ms, response_excerpt, error) VALUES (?, ?, ?, false, ?, 3, 'oops', ?)`,
		ids.New(ids.WebhookAttempt), deliveryID, at.UTC(), status, fmt.Sprintf("status %d", status)); err != nil {
		t.Fatal(err)
	}
}

type deliveryPage struct {
	WebhookEndpoint struct {
		Deliveries struct {
			Nodes []struct {
				ID       string
				Payload  string
				Attempts []struct {
					ID         string
					StatusCode int
				}
			}
		}
	}
}

// TestWebhookConnectionsPriced: the webhook connections are priced like the others
// (page size x selection, attempts as a list of 20, the payload as a text of a case
// with its 50 events). Before, 300 aliases of deliveries(first: 100) with their
// attempts cost 1,501 and ran 30,302 statements (4.5-7.4 s, 1.6 MB); now they are
// refused before anything runs, as are a page of endpoints with their deliveries'
// attempts and ten payloads, while the ordinary reads answer.
func TestWebhookConnectionsPriced(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d)
	c := dbtest.MustCast(t, d)
	epID, _ := deliveryLog(t, s, d, c, 3, 2)
	vars := map[string]any{"id": epID}

	var b strings.Builder
	b.WriteString("query($id: ID!) { webhookEndpoint(id: $id) { ")
	for i := range 300 {
		fmt.Fprintf(&b, "d%d: deliveries(first: 100) { nodes { id attempts { id } } } ", i)
	}
	b.WriteString("} }")
	// deliveries: 1 + 100 x (nodes 1 + id 1 + attempts (1 + 20 x 1)) = 2,301 an alias.
	refused := map[string]int{
		b.String(): 1 + 300*2301,
		`{ webhookEndpoints(first: 100) { nodes { deliveries(first: 100) { nodes { attempts { statusCode } } } } } }`: 1 + 100*(1+1+100*(1+1+20)),
		`query($id: ID!) { webhookEndpoint(id: $id) { deliveries(first: 60) { nodes { payload } } } }`:                1 + 1 + 60*(1+906),
		// error and lastError are priced by webhook.MaxErrorLength (500 bytes: 1 + 5).
		`{ webhookEndpoints(first: 100) { nodes { deliveries(first: 100) { nodes { lastError attempts { error } } } } } }`: 1 + 100*(1+1+100*(1+6+1+20*6)),
	}
	for q, cost := range refused {
		r := s.Do(t, c.CompanyToken, q, vars)
		want := fmt.Sprintf("operation has complexity %d, which exceeds the limit of 50000", cost)
		if r.FirstCode() != "GRAPHQL_VALIDATION_FAILED" || r.HasData() || !strings.Contains(r.Errors[0].Message, want) {
			t.Errorf("%s...: %s, want GRAPHQL_VALIDATION_FAILED %q", apptest.Trunc([]byte(q), 80), apptest.Trunc(r.Raw, 300), want)
		}
	}
	var page deliveryPage
	s.MustData(t, c.CompanyToken, `query($id: ID!) { webhookEndpoint(id: $id) { deliveries(first: 100) { nodes { id attempts { id } } } } }`, vars, &page)
	if n := page.WebhookEndpoint.Deliveries.Nodes; len(n) != 3 || len(n[0].Attempts) != 2 {
		t.Errorf("one page with attempts: %+v", n)
	}
	s.MustData(t, c.CompanyToken, `query($id: ID!) { webhookEndpoint(id: $id) { deliveries(first: 9) { nodes { id payload } } } }`, vars, &page)
	if n := page.WebhookEndpoint.Deliveries.Nodes; len(n) != 3 || !strings.Contains(n[0].Payload, n[0].ID) {
		t.Errorf("nine payloads: %+v", n)
	}
}

// TestWebhookDeliveryLogBatchesAttempts: a page of deliveries with their attempts
// costs a fixed number of statements, not one per delivery (before: 1 + 1 + 30 for
// 30 deliveries), and each delivery lists its 20 most recent attempts, oldest first.
func TestWebhookDeliveryLogBatchesAttempts(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d)
		c := dbtest.MustCast(t, d)
		epID, deliveries := deliveryLog(t, s, d, c, 30, 3)
		// The newest delivery was redelivered often: 25 attempts in all.
		var newest struct {
			CreatedAt time.Time `bun:"created_at"`
		}
		if _, err := d.Raw(context.Background(), &newest, "SELECT created_at FROM webhook_deliveries WHERE id = ?", deliveries[0]); err != nil {
			t.Fatal(err)
		}
		for k := 3; k < 25; k++ {
			mustAttempt(t, d, deliveries[0], newest.CreatedAt.Add(time.Duration(k+1)*time.Second), 500+k)
		}
		log := &statementLog{}
		t.Cleanup(d.AddQueryHook(log))

		var page deliveryPage
		stmts := log.during(func() {
			s.MustData(t, c.CompanyToken, `query($id: ID!) { webhookEndpoint(id: $id) { deliveries(first: 100) {
				nodes { id attempts { id statusCode } } } } }`, map[string]any{"id": epID}, &page)
		})
		if a := touching(stmts, "webhook_attempts"); len(a) != 1 || len(stmts) > 3 {
			t.Errorf("%d statements (%d on the attempts) for a page of 30 deliveries with attempts, want 3 (1):%s",
				len(stmts), len(a), listing(stmts))
		}
		nodes := page.WebhookEndpoint.Deliveries.Nodes
		if len(nodes) != 30 {
			t.Fatalf("%d deliveries, want 30", len(nodes))
		}
		for i, n := range nodes {
			want := []int{500, 501, 502}
			if i == 0 {
				want = nil
				for k := 5; k < 25; k++ {
					want = append(want, 500+k)
				}
			}
			var got []int
			for _, a := range n.Attempts {
				got = append(got, a.StatusCode)
			}
			if n.ID != deliveries[i] || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("delivery %d (%s) lists attempts %v, want %v (%s)", i, n.ID, got, want, deliveries[i])
			}
		}
	})
}

// TestWebhookDeliveryLogReadsPayloadOnlyWhenAsked: a page of deliveries reads no
// payload (about 14 KB each in webhook_messages) unless payload is selected, and then
// all of the page's in one statement; a payload read so is the one read alone.
func TestWebhookDeliveryLogReadsPayloadOnlyWhenAsked(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d)
		c := dbtest.MustCast(t, d)
		epID, deliveries := deliveryLog(t, s, d, c, 9, 0)
		log := &statementLog{}
		t.Cleanup(d.AddQueryHook(log))
		vars := map[string]any{"id": epID}

		stmts := log.during(func() {
			s.MustData(t, c.CompanyToken, `query($id: ID!) { webhookEndpoint(id: $id) { deliveries(first: 100) {
				nodes { id status eventType attemptCount } } } }`, vars, nil)
		})
		if m := touching(stmts, "webhook_messages"); len(m) != 0 {
			t.Errorf("a page without payloads read the messages:%s", listing(m))
		}
		var page deliveryPage
		stmts = log.during(func() {
			s.MustData(t, c.CompanyToken, `query($id: ID!) { webhookEndpoint(id: $id) { deliveries(first: 9) {
				nodes { id payload } } } }`, vars, &page)
		})
		if m := touching(stmts, "webhook_messages"); len(m) != 1 {
			t.Errorf("%d statements on the messages for a page of 9 payloads, want 1:%s", len(m), listing(stmts))
		}
		nodes := page.WebhookEndpoint.Deliveries.Nodes
		if len(nodes) != 9 {
			t.Fatalf("%d deliveries, want 9", len(nodes))
		}
		for i, n := range nodes {
			if n.ID != deliveries[i] || !strings.HasPrefix(n.Payload, `{"id":"`+n.ID+`","type":"resolution_center_case.created"`) ||
				!strings.Contains(n.Payload, `"resolution_events":[`) {
				t.Fatalf("delivery %d: %s", i, apptest.Trunc([]byte(n.Payload), 200))
			}
		}
		// The body as the log lists it is the body of the delivery read alone (as
		// redeliverWebhook returns it, with its message).
		var one struct {
			RedeliverWebhook struct {
				Delivery   struct{ ID, Payload string }
				UserErrors []struct{ Code, Message string }
			}
		}
		s.MustData(t, c.CompanyToken, `mutation($id: ID!) { redeliverWebhook(input: {deliveryId: $id}) { delivery { id payload } userErrors { code message } } }`,
			map[string]any{"id": nodes[3].ID}, &one)
		if r := one.RedeliverWebhook; len(r.UserErrors) > 0 || r.Delivery.Payload != nodes[3].Payload {
			t.Errorf("redelivered:\n%+v\nlisted:\n%s", r, nodes[3].Payload)
		}
	})
}

// TestWebhookEndpointCap: a company may have WEBHOOK_MAX_ENDPOINTS endpoints, enabled
// or not, and the platform as many platform-wide ones; one more is LIMIT_REACHED and
// creates nothing, another company and the other scope are not affected, and a deleted
// endpoint makes room. Concurrent creations cannot pass the cap together. Before,
// nothing bounded them: 300 endpoints made one customer message write 300 deliveries
// in its transaction.
func TestWebhookEndpointCap(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		const max = 3
		s := apptest.New(t, d, apptest.Options{Env: map[string]string{"WEBHOOK_MAX_ENDPOINTS": fmt.Sprint(max)}})
		c := dbtest.MustCast(t, d)
		count := func(company string) int {
			t.Helper()
			var n []int
			q, args := "SELECT count(*) FROM webhook_endpoints WHERE company_id IS NULL", []any{}
			if company != "" {
				q, args = "SELECT count(*) FROM webhook_endpoints WHERE company_id = ?", []any{company}
			}
			if _, err := d.Raw(context.Background(), &n, q, args...); err != nil {
				t.Fatal(err)
			}
			return n[0]
		}
		create := func(token string, in map[string]any) endpointResult {
			t.Helper()
			in["url"] = "http://127.0.0.1:9/hook"
			var out endpointResult
			s.MustData(t, token, createEndpointMutation, map[string]any{"in": in}, &out)
			return out
		}
		refused := func(what string, out endpointResult) {
			t.Helper()
			r := out.CreateWebhookEndpoint
			if r.Endpoint != nil || r.Secret != nil || len(r.UserErrors) != 1 || r.UserErrors[0].Code != "LIMIT_REACHED" {
				t.Fatalf("%s: %+v, want LIMIT_REACHED and no endpoint", what, r)
			}
		}

		var first string
		for i := range max {
			id, _ := mustEndpoint(t, s, c.CompanyToken, "http://127.0.0.1:9/hook", nil)
			if i == 0 {
				first = id
			}
		}
		// A disabled endpoint still counts (enabling it again is one update).
		s.MustData(t, c.CompanyToken, `mutation($id: ID!) { disableWebhookEndpoint(input: {id: $id}) { userErrors { code } } }`,
			map[string]any{"id": first}, nil)
		refused("the company's fourth", create(c.CompanyToken, map[string]any{}))
		refused("the platform's for the company", create(apptest.PlatformToken, map[string]any{"companyId": c.Company.ID}))
		if n := count(c.Company.ID); n != max {
			t.Fatalf("the company has %d endpoints, want %d", n, max)
		}
		// Another company, and platform-wide endpoints, have caps of their own.
		mustEndpoint(t, s, c.OtherCompanyToken, "http://127.0.0.1:9/hook", nil)
		for range max {
			mustEndpoint(t, s, apptest.PlatformToken, "http://127.0.0.1:9/hook", nil)
		}
		refused("a fourth platform-wide", create(apptest.PlatformToken, map[string]any{}))
		if n := count(""); n != max {
			t.Fatalf("%d platform-wide endpoints, want %d", n, max)
		}
		// Deleting one makes room for one.
		s.MustData(t, c.CompanyToken, `mutation($id: ID!) { deleteWebhookEndpoint(input: {id: $id}) { deletedId } }`,
			map[string]any{"id": first}, nil)
		mustEndpoint(t, s, c.CompanyToken, "http://127.0.0.1:9/hook", nil)
		refused("the company's fourth again", create(c.CompanyToken, map[string]any{}))

		// Concurrent creations for fresh companies: exactly max of each burst succeed.
		for round := range 3 {
			company := dbtest.MustCompany(t, d)
			const n = 12
			codes := make([]string, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					r, err := apptest.Post(context.Background(), s.URL, apptest.PlatformToken, createEndpointMutation,
						map[string]any{"in": map[string]any{"url": "http://127.0.0.1:9/hook", "companyId": company.ID}})
					switch {
					case err != nil || len(r.Errors) > 0:
						codes[i] = fmt.Sprintf("error %v %s", err, apptest.Trunc(r.Raw, 200))
					case strings.Contains(string(r.Data), `"endpoint":{`):
						codes[i] = "created"
					case strings.Contains(string(r.Data), "LIMIT_REACHED"):
						codes[i] = "LIMIT_REACHED"
					default:
						codes[i] = string(r.Data)
					}
				})
			}
			close(start)
			wg.Wait()
			tally := map[string]int{}
			for _, code := range codes {
				tally[code]++
			}
			if tally["created"] != max || tally["LIMIT_REACHED"] != n-max || count(company.ID) != max {
				t.Fatalf("round %d: %d concurrent creations: %v; %d stored, want %d created and the rest LIMIT_REACHED",
					round, n, tally, count(company.ID), max)
			}
		}
	})
}
