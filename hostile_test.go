package main

// The hostile-query suite: the real server (run() in-process, SQLite, rate limiting
// off, HEADER_TIMEOUT=1s) receives abusive requests while an honest client keeps
// querying. Every abusive request must be refused with a clear error (status and
// extensions.code) within 100 ms of the server having read it (500 ms under -race,
// which slows code 2-20x), without growing the heap, and the honest traffic must keep
// succeeding. The shapes a server could burn unbounded CPU on go to the server binary
// in a child process instead (see TestHostileQueries). A table of times and heap
// deltas is logged for the report:
//
//	go test -v -count=1 -run TestHostileQueries .

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hxRefusalBudget is how long the server may take, after it has the whole request,
// to refuse it.
const hxRefusalBudget = 100 * time.Millisecond

// Heap bounds for one hostile request: the peak growth of live heap objects while it
// is served, and what stays after a GC.
const (
	hxMaxPeakGrowth = 64 << 20
	hxMaxRetained   = 8 << 20
)

type hxHostileCase struct {
	name string
	// req builds the raw HTTP request (built before the heap baseline is taken).
	req        func(host string) []byte
	wantStatus int
	wantCode   string
	wantMsg    string // a substring of the first error's message
	// isolate sends the case to a child process (see TestHostileQueries).
	isolate bool
}

func hxBody(query string, vars map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		panic(err)
	}
	return b
}

// hxDeepQuery nests depth levels of selections through introspection types (valid at
// any depth, so only the depth limit can refuse it).
func hxDeepQuery(depth int) string {
	var b strings.Builder
	b.WriteString(`{ __type(name: "Query") { fields { type { `)
	for range depth - 4 {
		b.WriteString("ofType { ")
	}
	b.WriteString("name")
	b.WriteString(strings.Repeat(" }", depth-1))
	b.WriteString(" }")
	return b.String()
}

// hxFanoutQuery is a "billion laughs" document: fragment F(i) spreads F(i+1) twice,
// so the operation expands to 2^levels selections while the text stays tiny. It has
// no cycle, no depth, and merges to a single __typename at execution.
func hxFanoutQuery(levels int) string {
	var b strings.Builder
	b.WriteString("query Fanout { ...F0 }\n")
	for i := range levels {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { __typename }\n", levels)
	return b.String()
}

func hxHostileCases() []hxHostileCase {
	jsonReq := func(body []byte) func(string) []byte {
		return func(host string) []byte { return hxRequest(host, nil, body, false) }
	}
	var aliases strings.Builder
	aliases.WriteString("{ ")
	for i := range 10000 {
		fmt.Fprintf(&aliases, "a%d: __typename ", i)
	}
	aliases.WriteString("}")

	nestedList := strings.Repeat("[", 5000) + "MERCHANT_RESPONSE_NEEDED" + strings.Repeat("]", 5000)
	var nestedVar any = "MERCHANT_RESPONSE_NEEDED"
	for range 9000 {
		nestedVar = []any{nestedVar}
	}
	hugeIDs := make([]any, 60000)
	for i := range hugeIDs {
		hugeIDs[i] = "x" + strconv.Itoa(i%10)
	}
	five := strings.Repeat("x", 5<<20)
	var batch bytes.Buffer
	batch.WriteString("[")
	for i := range 1000 {
		if i > 0 {
			batch.WriteString(",")
		}
		fmt.Fprintf(&batch, `{"query":"query Q%d { __typename }"}`, i)
	}
	batch.WriteString("]")

	return []hxHostileCase{
		{name: "depth 100", req: jsonReq(hxBody(hxDeepQuery(100), nil)),
			wantStatus: 400, wantCode: "INVALID_ARGUMENT", wantMsg: "exceeds the limit of 15"},
		{name: "10,000 aliases", req: jsonReq(hxBody(aliases.String(), nil)),
			wantStatus: 400, wantCode: "INVALID_ARGUMENT", wantMsg: "token limit"},
		{name: "same field x10,000", req: jsonReq(hxBody("{ viewer { "+strings.Repeat("role ", 10000)+"} }", nil)),
			wantStatus: 400, wantCode: "INVALID_ARGUMENT", isolate: true},
		{name: "__typename x14,000", req: jsonReq(hxBody("{ "+strings.Repeat("__typename ", 14000)+"}", nil)),
			wantStatus: 400, wantCode: "INVALID_ARGUMENT", isolate: true},
		{name: "fragment cycle", req: jsonReq(hxBody("query Cycle { ...A } fragment A on Query { __typename ...B } fragment B on Query { __typename ...A }", nil)),
			wantStatus: 400, wantCode: "INVALID_ARGUMENT", wantMsg: "Cannot spread fragment"},
		{name: "fragment fan-out 2^40", req: jsonReq(hxBody(hxFanoutQuery(40), nil)),
			wantStatus: 400, wantCode: "INVALID_ARGUMENT", isolate: true},
		{name: "5 MB query", req: jsonReq(hxBody("{ __typename } # "+five, nil)),
			wantStatus: 413, wantCode: "INVALID_ARGUMENT", wantMsg: "too large"},
		{name: "5 MB query, chunked", req: func(host string) []byte {
			return hxRequest(host, nil, hxBody("{ __typename } # "+five, nil), true)
		}, wantStatus: 413, wantCode: "INVALID_ARGUMENT", wantMsg: "too large"},
		{name: "list nested 5,000 deep in argument", req: jsonReq(hxBody(
			"{ resolutions(filter: {statuses: "+nestedList+"}) { pageInfo { hasNextPage } } }", nil)),
			wantStatus: 400, wantCode: "INVALID_ARGUMENT"},
		{name: "variable nested 9,000 deep", req: jsonReq(hxBody(
			"query($s: [ResolutionStatus!]) { resolutions(filter: {statuses: $s}) { pageInfo { hasNextPage } } }", map[string]any{"s": nestedVar})),
			wantStatus: 400, wantCode: "INVALID_ARGUMENT"},
		{name: "variables array of 60,000 IDs", req: jsonReq(hxBody(
			"query($ids: [ID!]!) { nodes(ids: $ids) { id } }", map[string]any{"ids": hugeIDs})),
			wantStatus: 400, wantCode: "INVALID_ARGUMENT"},
		{name: "5 MB variables", req: jsonReq(hxBody("query($v: String) { __typename }", map[string]any{"v": five})),
			wantStatus: 413, wantCode: "INVALID_ARGUMENT", wantMsg: "too large"},
		{name: "batch of 1,000 operations", req: jsonReq(batch.Bytes()),
			wantStatus: 400, wantCode: "INVALID_ARGUMENT", wantMsg: "batched requests"},
	}
}

// hxHeapObjects reads the bytes of live and not-yet-swept heap objects cheaply (no
// stop-the-world), for sampling the peak while a request is served.
func hxHeapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

type hxHeapSample struct {
	baseline uint64 // HeapAlloc after a GC, before the request
	peak     uint64 // highest heap-objects reading while the request was served, minus the baseline
	retained int64  // HeapAlloc after a GC, after the request, minus baseline
	alloc    uint64 // bytes allocated (whole process) while the request was served
}

// hxMeasureHeap runs fn while sampling the heap every millisecond.
func hxMeasureHeap(fn func()) hxHeapSample {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC() // the second cycle frees what the first one's finalizers released
	runtime.ReadMemStats(&before)
	base := hxHeapObjects()
	var peak atomic.Uint64
	peak.Store(base)
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if v := hxHeapObjects(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	<-sampled
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	runtime.GC()
	runtime.ReadMemStats(&after)
	return hxHeapSample{baseline: before.HeapAlloc, peak: peak.Load() - base,
		retained: int64(after.HeapAlloc) - int64(before.HeapAlloc), alloc: alloc}
}

func hxMB(n float64) string { return fmt.Sprintf("%.2f MB", n/(1<<20)) }

// hxHonest runs normal queries as the customer until stop is closed.
type hxHonest struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	failures   []string
	maxLatency time.Duration
	done       chan struct{}
}

func hxStartHonest(endpoint, token string, stop <-chan struct{}) *hxHonest {
	h := &hxHonest{done: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	const q = `query Honest { viewer { role } resolutions(first: 5) { edges { node { id status company { title } } } } }`
	go func() {
		defer close(h.done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			start := time.Now()
			r, err := hxPost(context.Background(), client, endpoint, token, q, nil, nil)
			lat := time.Since(start)
			h.mu.Lock()
			h.maxLatency = max(h.maxLatency, lat)
			switch {
			case err != nil:
				h.failures = append(h.failures, err.Error())
				h.failed.Add(1)
			case r.Status != 200 || len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"USER"`):
				h.failures = append(h.failures, fmt.Sprintf("%d %s", r.Status, hxTrunc(r.Raw, 200)))
				h.failed.Add(1)
			default:
				h.ok.Add(1)
			}
			h.mu.Unlock()
		}
	}()
	return h
}

// hxSlowloris sends request headers one byte every interval and reports how long the
// server kept the connection open and what it sent back, if anything.
func hxSlowloris(addr string, interval time.Duration) (open time.Duration, got []byte, err error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	start := time.Now()
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		got, _ = io.ReadAll(conn) // returns when the server closes the connection
	}()
	hdr := "POST /graphql HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\nAuthorization: Bearer " +
		hxPlatformToken + "\r\nX-Slow: " + strings.Repeat("a", 200) + "\r\n\r\n"
	for i := 0; i < len(hdr); i++ {
		select {
		case <-closed:
			return time.Since(start), got, nil
		case <-time.After(interval):
		}
		if _, err := conn.Write([]byte{hdr[i]}); err != nil {
			<-closed
			return time.Since(start), got, nil
		}
	}
	<-closed
	return time.Since(start), got, fmt.Errorf("the server read the whole slow header (%s) without closing", time.Since(start))
}

// hxBudget is the refusal budget, scaled under the race detector, which slows code
// down 2-20x; the table gives the real figures.
func hxBudget() time.Duration {
	if hxRaceEnabled() {
		return 5 * hxRefusalBudget
	}
	return hxRefusalBudget
}

type hxRow struct {
	name     string
	where    string // "in-process" or "child"
	status   int
	code     string
	latency  time.Duration
	answered bool
	heap     hxHeapSample // in-process
	rss      [2]int64     // child: peak RSS growth, RSS growth after
	cpu      time.Duration
}

// hxCheck asserts the refusal of one hostile request and fills the row.
func hxCheck(t *testing.T, c hxHostileCase, res hxRawResult, row *hxRow) {
	t.Helper()
	row.latency = res.Latency()
	if res.Resp == nil {
		row.latency = time.Since(res.SentAt)
		t.Errorf("%s: no answer (write: %v, read: %v): the server neither refused nor answered it", c.name, res.WriteErr, res.ReadErr)
		return
	}
	row.answered = true
	row.status = res.Resp.StatusCode
	var body hxResponse
	if err := json.Unmarshal(res.Body, &body); err != nil {
		t.Errorf("%s: answer is not JSON: %d %q", c.name, res.Resp.StatusCode, hxTrunc(res.Body, 300))
	}
	row.code = body.Code()
	if row.status != c.wantStatus || row.code != c.wantCode {
		t.Errorf("%s: got %d %q, want %d %s: %s", c.name, row.status, row.code, c.wantStatus, c.wantCode, hxTrunc(res.Body, 300))
	}
	if body.HasData() {
		t.Errorf("%s: executed instead of refused: %s", c.name, hxTrunc(res.Body, 300))
	}
	if c.wantMsg != "" && (len(body.Errors) == 0 || !strings.Contains(body.Errors[0].Message, c.wantMsg)) {
		t.Errorf("%s: message should mention %q: %s", c.name, c.wantMsg, hxTrunc(res.Body, 300))
	}
	if ct := res.Resp.Header.Get("Content-Type"); !strings.Contains(ct, "json") {
		t.Errorf("%s: Content-Type %q, want JSON", c.name, ct)
	}
	if row.latency > hxBudget() {
		t.Errorf("%s: answered %s after the request was sent, want < %s", c.name, row.latency, hxBudget())
	}
}

func hxCheckHonest(t *testing.T, where string, h *hxHonest) {
	t.Helper()
	t.Logf("%s: honest traffic alongside: %d ok, %d failed, max latency %s", where, h.ok.Load(), h.failed.Load(), h.maxLatency.Round(time.Millisecond))
	if n := h.failed.Load(); n > 0 {
		h.mu.Lock()
		t.Errorf("%s: honest traffic: %d of %d requests failed, e.g. %v", where, n, n+h.ok.Load(), h.failures[:min(3, len(h.failures))])
		h.mu.Unlock()
	}
	if h.ok.Load() < 10 {
		t.Errorf("%s: honest traffic: only %d requests succeeded", where, h.ok.Load())
	}
}

// TestHostileQueries sends every hostile request to the real server. The shapes a
// server could spend unbounded CPU on (field duplication, fragment fan-out) go to the
// server binary in a child process, which is killed at the end: in-process, a
// goroutine stuck in validation could not be stopped and would slow every later test.
// The others go to run() in-process, where the Go heap is measured directly.
func TestHostileQueries(t *testing.T) {
	dbURL, fx := hxSQLiteWithFixture(t, 5)
	env := map[string]string{"DATABASE_URL": dbURL, "HEADER_TIMEOUT": "1s", "READ_TIMEOUT": "10s"}
	var rows []hxRow
	var slowOpen time.Duration
	var slowGot []byte

	t.Run("in-process", func(t *testing.T) {
		s := hxStart(t, env)
		endpoint := s.GraphQL()
		// Warm up: the first requests pay for lazy initialisation (schema, pools, caches).
		for range 3 {
			hxMust(t, endpoint, fx.CustomerToken, `{ viewer { role } resolutions(first: 5) { pageInfo { hasNextPage } } }`, nil, nil)
		}
		stop := make(chan struct{})
		honest := hxStartHonest(endpoint, fx.CustomerToken, stop)
		type slowResult struct {
			open time.Duration
			got  []byte
			err  error
		}
		slow := make(chan slowResult, 1)
		go func() {
			open, got, err := hxSlowloris(s.Addr, 100*time.Millisecond)
			slow <- slowResult{open, got, err}
		}()

		for _, c := range hxHostileCases() {
			if c.isolate {
				continue
			}
			req := c.req(s.Addr)
			// The machine may be busy with other work: a refusal over the budget is
			// retried twice and the best attempt counts (a shape the server is slow
			// on is slow every time).
			var res hxRawResult
			var heap hxHeapSample
			for attempt := 1; attempt <= 3; attempt++ {
				var r hxRawResult
				h := hxMeasureHeap(func() { r = hxRaw(s.Addr, req, 10*time.Second) })
				if attempt == 1 || (r.Resp != nil && r.Latency() < res.Latency()) {
					res, heap = r, h
				}
				if res.Resp == nil || res.Latency() <= hxBudget() {
					break
				}
			}
			runtime.KeepAlive(req)
			row := hxRow{name: c.name, where: "in-process", heap: heap}
			hxCheck(t, c, res, &row)
			if heap.peak > hxMaxPeakGrowth {
				t.Errorf("%s: heap grew by %s while serving it, want < %s", c.name, hxMB(float64(heap.peak)), hxMB(hxMaxPeakGrowth))
			}
			if heap.retained > hxMaxRetained {
				t.Errorf("%s: %s of heap retained after it, want < %s", c.name, hxMB(float64(heap.retained)), hxMB(hxMaxRetained))
			}
			rows = append(rows, row)
		}

		// Slowloris: HEADER_TIMEOUT=1s, so the server must hang up after about a
		// second, long before the header is complete (about 30 s at this pace).
		sr := <-slow
		slowOpen, slowGot = sr.open, sr.got
		if sr.err != nil {
			t.Errorf("slowloris: %v", sr.err)
		} else if sr.open < 900*time.Millisecond || sr.open > 3*time.Second {
			t.Errorf("slowloris: the server closed the connection after %s, want about HEADER_TIMEOUT (1s)", sr.open)
		}
		if len(sr.got) > 0 && !bytes.HasPrefix(sr.got, []byte("HTTP/1.1 408")) && !bytes.HasPrefix(sr.got, []byte("HTTP/1.1 400")) {
			t.Errorf("slowloris: unexpected answer %q", sr.got)
		}
		close(stop)
		<-honest.done
		hxCheckHonest(t, "in-process", honest)
		hxMust(t, endpoint, fx.CustomerToken, `{ viewer { role } }`, nil, nil)
	})

	t.Run("child process", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("RSS is read from /proc")
		}
		bin := hxBuild(t, t.TempDir())
		c := hxStartChild(t, bin, env)
		endpoint := c.URL + "/graphql"
		for range 3 {
			hxMust(t, endpoint, fx.CustomerToken, `{ viewer { role } resolutions(first: 5) { pageInfo { hasNextPage } } }`, nil, nil)
		}
		stop := make(chan struct{})
		honest := hxStartHonest(endpoint, fx.CustomerToken, stop)
		// A server that does not bound these shapes keeps computing after the
		// client gives up; wait a bounded time for the refusal.
		wait := 3 * time.Second
		for _, hc := range hxHostileCases() {
			if !hc.isolate {
				continue
			}
			req := hc.req(c.Addr)
			rss0, _ := c.RSS()
			cpu0 := c.CPU()
			c.ResetPeak()
			res := hxRaw(c.Addr, req, wait)
			rss1, peak := c.RSS()
			row := hxRow{name: hc.name, where: "child", rss: [2]int64{int64(peak) - int64(rss0), int64(rss1) - int64(rss0)},
				cpu: c.CPU() - cpu0}
			hxCheck(t, hc, res, &row)
			if row.rss[0] > hxMaxPeakGrowth {
				t.Errorf("%s: RSS grew by %s while serving it, want < %s", hc.name, hxMB(float64(row.rss[0])), hxMB(hxMaxPeakGrowth))
			}
			rows = append(rows, row)
		}
		time.Sleep(time.Second) // honest traffic keeps going while the server is busy
		close(stop)
		<-honest.done
		hxCheckHonest(t, "child", honest)
		t.Logf("child: CPU time used by the server in total: %s", c.CPU())
	})

	t.Logf("hostile queries (latency = end of the send to the first byte of the answer; <= 0: answered before the body was sent;")
	t.Logf("  in-process: Go heap growth at peak / retained after GC / bytes allocated by the process meanwhile; child: RSS growth at peak / after, CPU):")
	t.Logf("  %-36s %-10s %6s %-18s %12s %11s %11s %11s", "query", "server", "status", "code", "latency", "peak", "retained", "alloc/CPU")
	for _, r := range rows {
		lat := r.latency.Round(10 * time.Microsecond).String()
		if !r.answered {
			lat = "> " + r.latency.Round(time.Millisecond).String()
		}
		if r.where == "child" {
			t.Logf("  %-36s %-10s %6d %-18s %12s %11s %11s %11s", r.name, r.where, r.status, r.code, lat,
				hxMB(float64(r.rss[0])), hxMB(float64(r.rss[1])), r.cpu.Round(10*time.Millisecond))
			continue
		}
		t.Logf("  %-36s %-10s %6d %-18s %12s %11s %11s %11s", r.name, r.where, r.status, r.code, lat,
			hxMB(float64(r.heap.peak)), hxMB(float64(r.heap.retained)), hxMB(float64(r.heap.alloc)))
	}
	t.Logf("  %-36s %-10s connection closed by the server after %s (HEADER_TIMEOUT=1s), answer %q",
		"slowloris (1 header byte / 100 ms)", "in-process", slowOpen.Round(time.Millisecond), hxTrunc(slowGot, 40))
}
