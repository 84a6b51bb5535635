package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db/dbtest"
)

// TestE2EMeasure (RC_MEASURE=1, PostgreSQL) measures commit-to-delivery latency with
// 1,000 WebSocket subscribers spread over 3 processes and actions at ~10/s, and the
// memory an idle subscription costs a server process.
func TestE2EMeasure(t *testing.T) {
	if os.Getenv("RC_MEASURE") != "1" {
		t.Skip("measurement: set RC_MEASURE=1 (and TEST_DATABASE_URL)")
	}
	url := dbtest.PostgresURL(t)
	env := map[string]string{"DATABASE_URL": url, "MAX_SUBSCRIPTIONS": "100000", "RATE_LIMIT": "0"}
	procs := make([]*apptest.Process, 3)
	for i := range procs {
		procs[i] = startProcess(t, fmt.Sprintf("rc%d", i+1), env)
	}
	w := newWorld(t, procs[0].URL)

	// Latency: 1,000 subscribers on cases A, B, C, E, F, each its own connection,
	// as the customer, the merchant or the platform, spread over the processes.
	const subscribers = 1000
	var mu sync.Mutex
	var lat, warm []time.Duration
	var warmFrom time.Time // events created after this are past the warm-up
	got := make([]atomic.Int32, subscribers)
	var conns []*apptest.WS
	for i := range subscribers {
		k := caseKeys[i%len(caseKeys)]
		pr := []string{w.party[k][0], w.party[k][1], "plat"}[(i/len(caseKeys))%3]
		ws := apptest.DialWS(t, procs[i%3].URL, map[string]any{"Authorization": "Bearer " + w.tok[pr]})
		conns = append(conns, ws)
		msgs, _ := apptest.Pump(ws)
		ws.Subscribe("1", resumableEventSub, map[string]any{"id": w.cases[k]})
		go func() {
			for m := range msgs {
				now := time.Now()
				var r struct {
					Data struct {
						ResolutionEventAdded struct{ Node struct{ CreatedAt time.Time } }
					}
				}
				if m.Type == "next" && json.Unmarshal(m.Payload, &r) == nil {
					created := r.Data.ResolutionEventAdded.Node.CreatedAt
					mu.Lock()
					lat = append(lat, now.Sub(created))
					if !warmFrom.IsZero() && created.After(warmFrom) {
						warm = append(warm, now.Sub(created))
					}
					mu.Unlock()
					got[i].Add(1)
				}
			}
		}()
	}
	waitSubscribed(t, procs, subscribers)
	// ~10 actions a second for 10 s: replies alternating customer / merchant, visible
	// to all, on random cases, through the processes in turn.
	const actions = 100
	rng := rand.New(rand.NewPCG(1, 2))
	sent := map[string]int{}
	start := time.Now()
	mu.Lock()
	warmFrom = start.Add(time.Second)
	mu.Unlock()
	for i := range actions {
		k := caseKeys[rng.IntN(len(caseKeys))]
		tok := w.tok[w.party[k][sent[k]%2]]
		a := action{caseKey: k, token: tok, op: "respondToResolution"}
		if err := a.run(context.Background(), procs[i%3].URL, w.cases[k], i); err != nil {
			t.Fatal(err)
		}
		sent[k]++
		time.Sleep(time.Until(start.Add(time.Duration(i+1) * 100 * time.Millisecond)))
	}
	want := 0
	for i := range subscribers {
		want += sent[caseKeys[i%len(caseKeys)]]
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(lat)
		mu.Unlock()
		if n >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	sorted, warmSorted := slices.Clone(lat), slices.Clone(warm)
	mu.Unlock()
	slices.Sort(sorted)
	slices.Sort(warmSorted)
	pct := func(d []time.Duration, q float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		return d[min(len(d)-1, int(q*float64(len(d))))].Round(100 * time.Microsecond)
	}
	t.Logf("latency, commit (createdAt, ms precision) to client receipt, %d subscribers over 3 processes, %d actions in %v:",
		subscribers, actions, time.Since(start).Round(time.Millisecond))
	t.Logf("  all:                 %d deliveries of %d; p50 %v  p90 %v  p99 %v  max %v", len(sorted), want,
		pct(sorted, .5), pct(sorted, .9), pct(sorted, .99), pct(sorted, 1))
	t.Logf("  after the first 1 s: %d deliveries; p50 %v  p90 %v  p99 %v  max %v", len(warmSorted),
		pct(warmSorted, .5), pct(warmSorted, .9), pct(warmSorted, .99), pct(warmSorted, 1))
	for _, p := range procs {
		t.Logf("  %s server-side rc_fanout_lag_seconds: %s", p.Name, metric(p, "rc_fanout_lag_seconds_count")+" deliveries, sum "+
			metric(p, "rc_fanout_lag_seconds_sum")+" s")
	}
	if len(sorted) != want {
		t.Errorf("%d deliveries, want %d", len(sorted), want)
	}
	for _, ws := range conns {
		ws.Conn.Close(websocket.StatusNormalClosure, "")
	}
	waitSubscribedAtMost(t, procs, 0)

	// Memory per idle subscription on one process: RSS before and after 1,000
	// subscriptions, first one per connection, then 1,000 more over 10 connections,
	// then 1,000 SSE responses.
	p := procs[0]
	var gor []string
	settle := func() int64 {
		time.Sleep(2 * time.Second)
		gor = append(gor, metric(p, "go_goroutines"))
		rss, _ := p.RSS()
		if rss == 0 {
			t.Fatalf("%s: no VmRSS in /proc", p.Name)
		}
		return int64(rss)
	}
	r0 := settle()
	for i := range 1000 {
		ws := apptest.DialWS(t, p.URL, map[string]any{"Authorization": "Bearer " + w.tok["plat"]})
		ws.Subscribe("1", resumableEventSub, map[string]any{"id": w.cases[caseKeys[i%5]]})
	}
	waitSubscribed(t, procs[:1], 1000)
	r1 := settle()
	for range 10 {
		ws := apptest.DialWS(t, p.URL, map[string]any{"Authorization": "Bearer " + w.tok["plat"]})
		for j := range 100 {
			ws.Subscribe(strconv.Itoa(j), resumableEventSub, map[string]any{"id": w.cases[caseKeys[j%5]]})
		}
	}
	waitSubscribed(t, procs[:1], 2000)
	r2 := settle()
	for i := range 1000 {
		apptest.DialSSE(t, p.URL, w.tok["plat"], resumableEventSub, map[string]any{"id": w.cases[caseKeys[i%5]]})
	}
	waitSubscribed(t, procs[:1], 3000)
	r3 := settle()
	mb := func(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }
	kb := func(b int64) string { return fmt.Sprintf("%.1f KB", float64(b)/1024/1000) }
	t.Logf("server RSS: idle %s; +1,000 WebSocket connections with 1 subscription each %s (%s each);", mb(r0), mb(r1), kb(r1-r0))
	t.Logf("  +1,000 subscriptions over 10 connections %s (%s each); +1,000 SSE subscriptions %s (%s each)",
		mb(r2), kb(r2-r1), mb(r3), kb(r3-r2))
	t.Logf("  server goroutines at each step (go_goroutines): %v", gor)
}
