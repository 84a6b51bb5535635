package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
)

// The list benchmark measures the hot read path in process, allocations included:
// resolutions(first: 20) with company, user, payment, member and events(first: 10),
// over real HTTP, on SQLite (the GraphQL layer's cost dominates; see BENCHMARKS.md).
//
//	go test -run '^$' -bench 'List|Money|DateTime' -benchmem ./graph/
const benchListQuery = `{ resolutions(first: 20) { edges { cursor node {
  id status issue createdAt updatedAt dueDate viewerActions
  company { id title } user { id username email } payment { id total { amount currency } status }
  member { id status } events(first: 10) { edges { cursor node { id action reporterType details createdAt } } }
} } pageInfo { hasNextPage endCursor } } }`

func BenchmarkListResolutions(b *testing.B) {
	d := dbtest.MustSQLite(b)
	s := apptest.New(b, d)
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
	body, _ := json.Marshal(map[string]any{"query": benchListQuery})
	tok := dbtest.MustToken(b, d, db.TokenCompany, biz.ID, false)
	client := &http.Client{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
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
