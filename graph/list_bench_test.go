package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
)

// The list benchmark measures the hot read path in process, allocations and goroutines
// started included: resolutions(first: 20) with company, user, payment, member and
// events(first: 10), over real HTTP (the client's work is counted too), on SQLite and,
// when TEST_DATABASE_URL is set, PostgreSQL; "planned" is the default executor,
// "gqlgen" the server with QUERY_PLANNER=false; "list-total" is the same page with
// the connection's totalCount and each case's events' totalCount (as a merchant: one
// count of the cases and one of the page's events).
//
//	go test -run '^$' -bench 'List|Money|DateTime' -benchmem ./graph/
const benchListQuery = `{ resolutions(first: 20) { edges { cursor node {
  id status issue createdAt updatedAt dueDate viewerActions
  company { id title } user { id username email } payment { id total { amount currency } status }
  member { id status } events(first: 10) { edges { cursor node { id action reporterType details createdAt } } }
} } pageInfo { hasNextPage endCursor } } }`

const benchListTotalQuery = `{ resolutions(first: 20) { totalCount edges { cursor node {
  id status issue createdAt updatedAt dueDate viewerActions
  company { id title } user { id username email } payment { id total { amount currency } status }
  member { id status } events(first: 10) { totalCount edges { cursor node { id action reporterType details createdAt } } }
} } pageInfo { hasNextPage endCursor } } }`

func BenchmarkListResolutions(b *testing.B) {
	engines := map[string]func(testing.TB) *db.DB{"sqlite": dbtest.MustSQLite}
	if os.Getenv(dbtest.EnvPostgres) != "" {
		engines["postgres"] = dbtest.MustPostgres
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		open, ok := engines[engine]
		if !ok {
			continue
		}
		b.Run(engine, func(b *testing.B) {
			d := open(b)
			tok := benchListData(b, d)
			for _, executor := range []string{"planned", "gqlgen"} {
				b.Run(executor, func(b *testing.B) {
					s := apptest.New(b, d, apptest.Options{Env: map[string]string{"QUERY_PLANNER": strconv.FormatBool(executor == "planned")}})
					b.Run("list", func(b *testing.B) { benchList(b, s, tok, benchListQuery, executor == "planned") })
					b.Run("list-total", func(b *testing.B) { benchList(b, s, tok, benchListTotalQuery, executor == "planned") })
				})
			}
		})
	}
}

// benchListData fills d with 20 cases of one company, 11 events each, and returns the
// company's token.
func benchListData(b *testing.B, d *db.DB) string {
	biz := dbtest.MustCompany(b, d)
	now := dbtest.Now().Add(-time.Hour)
	for i := 0; i < 20; i++ {
		u := dbtest.MustUser(b, d)
		m := dbtest.MustMembership(b, d, u, biz)
		res := dbtest.MustOpen(b, d, dbtest.MustPayment(b, d, u, biz, m.ID), dispute.IssueItemNotReceived, now)
		for j := 0; j < 10; j++ {
			actor := dispute.ActorCustomer
			if j%2 == 1 {
				actor = dispute.ActorMerchant
			}
			now = now.Add(time.Second)
			dbtest.MustApply(b, d, res.Case.ID, actor, dispute.ActionRespond, "Another message for the timeline.", now)
		}
	}
	return dbtest.MustToken(b, d, db.TokenCompany, biz.ID, false)
}

func benchList(b *testing.B, s *apptest.Server, tok, query string, planned bool) {
	body, _ := json.Marshal(map[string]any{"query": query})
	client := &http.Client{}
	do := func() {
		req, _ := http.NewRequest(http.MethodPost, s.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n < 10000 {
			b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
		}
	}
	do() // warm the caches (plan, documents, connections)
	plannedBefore := counterValue(s.Metrics.QueriesPlanned)
	goroutines := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(goroutines)
	started := goroutines[0].Value.Uint64()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		do()
	}
	b.StopTimer()
	metrics.Read(goroutines)
	b.ReportMetric(float64(goroutines[0].Value.Uint64()-started)/float64(b.N), "goroutines/op")
	if got := counterValue(s.Metrics.QueriesPlanned) - plannedBefore; planned && int(got) != b.N {
		b.Fatalf("%v of %d requests took the planned path", got, b.N)
	}
}

func counterValue(c interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}

func BenchmarkMoneyAmount(b *testing.B) {
	m := model.NewMoney(123456789, "USD")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = m.Amount()
	}
}

func BenchmarkMarshalDateTime(b *testing.B) {
	t := time.Now()
	var buf bytes.Buffer
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		model.MarshalDateTime(t).MarshalGQL(&buf)
	}
}
