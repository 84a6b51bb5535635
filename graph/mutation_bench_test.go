package graph_test

import (
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"testing"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// The mutation benchmarks measure actions per second through the whole stack: HTTP,
// authentication, GraphQL, one transaction with the row lock and version guard, the
// event insert and the response. Each action is a customer's respondToResolution on a
// case waiting for the merchant, which leaves the status as it is, so it can repeat
// forever; consecutive actions go to different cases.
//
//	go test -run '^$' -bench Respond -benchtime 3s ./graph/

// benchCases is how many cases the actions rotate over.
const benchCases = 200

// benchClients is how many concurrent clients BenchmarkRespondParallel runs.
const benchClients = 20

func BenchmarkRespond(b *testing.B) { benchRespond(b, false) }

func BenchmarkRespondParallel(b *testing.B) { benchRespond(b, true) }

func benchRespond(b *testing.B, parallel bool) {
	for _, engine := range []db.Engine{db.SQLite, db.Postgres} {
		if engine == db.Postgres && os.Getenv(dbtest.EnvPostgres) == "" {
			b.Run(string(engine), func(b *testing.B) { b.Skipf("set %s to benchmark PostgreSQL", dbtest.EnvPostgres) })
			continue
		}
		// Set up on the outer benchmark, once: sub-benchmarks run several times.
		e := newCaseEnv(b, freshDB(b, engine))
		ids := make([]string, benchCases)
		for i := range ids {
			ids[i] = dbtest.MustOpen(b, e.d, e.cast.MustPayment(b, e.d), dispute.IssueItemNotReceived, e.clock.Now()).Case.ID
		}
		doc := mutationSelecting("respondToResolution", "id status version")
		var next atomic.Int64
		act := func(b *testing.B) bool {
			id := ids[int(next.Add(1))%len(ids)]
			r, err := postGQL(e.s, e.cast.CustomerToken, doc,
				map[string]any{"input": map[string]any{"resolutionId": id, "message": "Any news?"}})
			if err == nil && (len(r.Errors) > 0 || len(r.P.UserErrors) > 0 || r.P.Resolution == nil) {
				err = fmt.Errorf("errors %+v userErrors %+v", r.Errors, r.P.UserErrors)
			}
			if err != nil {
				b.Error(err)
				return false
			}
			return true
		}
		b.Run(string(engine), func(b *testing.B) {
			b.ResetTimer()
			if parallel {
				b.SetParallelism((benchClients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if !act(b) {
							return
						}
					}
				})
			} else {
				for range b.N {
					if !act(b) {
						b.FailNow()
					}
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "actions/s")
		})
	}
}
