package app_test

// The memory soak of issue 11: one customer token sends 16 worst-case requests at
// once, to the server binary (so that the client's memory is not counted), and the
// server's resident memory must stay under soakCeiling.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"sync"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
)

// soakCeiling is the most the server's resident memory may grow (peak RSS over its
// RSS before the soak) while it serves 16 worst-case requests of one customer at once.
// Issue 11 measured 1.56 GB for 16 alias attacks; the cost model now refuses those, and
// the costliest requests it allows (four 100-event windows of 40 KB messages: 16 MB of
// text read, answers cut at MAX_RESPONSE_BYTES) stay well under this (about 230 MB
// measured). The server is the binary built without the race detector even under
// -race, which would multiply memory and time.
const soakCeiling = 384 << 20

// soakParallel is how many requests the customer sends at once, soakRounds how many
// times in a row.
const (
	soakParallel = 16
	soakRounds   = 1
)

var codeRE = regexp.MustCompile(`"code":"([A-Z_]+)"`)

// soakSend posts a query and returns the code of its first error (errors come first
// in the answer), reading only the start of the answer and discarding the rest: the
// test process must not hold what the server was made to send.
func soakSend(client *http.Client, url, token, query string, vars map[string]any) string {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(resp.Body, head)
	rest, _ := io.Copy(io.Discard, resp.Body)
	if m := codeRE.FindSubmatch(head[:n]); m != nil {
		return string(m[1])
	}
	return fmt.Sprintf("none (%d bytes)", int64(n)+rest)
}

// TestSoakWorstCaseRequests runs the soak with rate limiting off (RATE_LIMIT=0: with
// the default limit, a customer's burst admits about 6 such requests at once and one
// a second after that), on the binary with every other setting at its default, each
// request shape 16 times at once.
func TestSoakWorstCaseRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("soak skipped in -short mode")
	}
	if runtime.GOOS != "linux" {
		t.Skip("RSS is read from /proc")
	}
	dbURL, fx := sqliteWithFixture(t, 2)
	big := fillForSizeAttacks(t, dbURL, fx)
	p := apptest.StartPlainProcess(t, "soak", map[string]string{"DATABASE_URL": dbURL, "RATE_LIMIT": "0"})
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: soakParallel}}
	for range 2 { // warm up: schema, pools, caches
		apptest.MustQuery(t, p.URL, big.token, `{ viewer { role } }`, nil, nil)
	}
	ceiling := uint64(soakCeiling)
	shapes := []struct {
		name, query string
		vars        map[string]any
		wantCode    string
	}{
		{"245 aliases x 100 messages of 10,000 characters (issue 11)", aliasAttack(245), map[string]any{"id": big.ascii}, "GRAPHQL_VALIDATION_FAILED"},
		{"4 windows x 100 messages of 40 KB (16 MB read)", wideWindows, map[string]any{"id": big.wide}, "RESPONSE_TOO_LARGE"},
	}
	for _, sh := range shapes {
		runtime.GC()
		rss0, _ := p.RSS()
		p.ResetPeak()
		start := time.Now()
		codes := map[string]int{}
		var mu sync.Mutex
		for range soakRounds {
			var wg sync.WaitGroup
			for range soakParallel {
				wg.Add(1)
				go func() {
					defer wg.Done()
					code := soakSend(client, p.URL, big.token, sh.query, sh.vars)
					mu.Lock()
					codes[code]++
					mu.Unlock()
				}()
			}
			wg.Wait()
		}
		took := time.Since(start)
		rss1, peak := p.RSS()
		growth := int64(peak) - int64(rss0)
		t.Logf("%s: %d x %d at once in %s: answers %v; RSS %s before, peak %s (+%s), %s after",
			sh.name, soakRounds, soakParallel, took.Round(time.Millisecond), codes, fmtMB(float64(rss0)), fmtMB(float64(peak)),
			fmtMB(float64(growth)), fmtMB(float64(rss1)))
		if codes[sh.wantCode] != soakRounds*soakParallel {
			t.Errorf("%s: answers %v, want %s for all %d", sh.name, codes, sh.wantCode, soakRounds*soakParallel)
		}
		if growth > int64(ceiling) {
			t.Errorf("%s: the server's RSS grew by %s, over the ceiling of %s", sh.name, fmtMB(float64(growth)), fmtMB(float64(ceiling)))
		}
	}
}
