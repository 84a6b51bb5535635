package app_test

// End to end: the real binary, built once, run as separate processes on one database,
// driven over HTTP, WebSocket and Server-Sent Events exactly as clients would.

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db/dbtest"
)

// asDeployed leaves the settings apptest.Defaults turns off for in-process tests at the
// server's own defaults (an empty value does): the processes run with rate limiting,
// the token cache and the deadline sweeper on, as deployed.
var asDeployed = map[string]string{"RATE_LIMIT": "", "AUTH_CACHE_TTL": "", "SWEEP_INTERVAL": ""}

// startProcess starts the binary as deployed, with env on top, and waits for it to
// listen. It gets SIGTERM when the test ends.
func startProcess(t *testing.T, name string, env map[string]string) *apptest.Process {
	t.Helper()
	p := launchProcess(t, name, env)
	p.WaitListening(t)
	return p
}

// launchProcess starts the binary as deployed without waiting for it to listen.
func launchProcess(t *testing.T, name string, env map[string]string) *apptest.Process {
	t.Helper()
	vals := maps.Clone(asDeployed)
	maps.Copy(vals, env)
	return apptest.LaunchProcess(t, name, vals)
}

// TestE2EFanoutThreeProcesses: three server processes on one PostgreSQL database;
// every subscriber on every process, over WebSocket and SSE, as customer, merchant
// and platform, gets every event it may see exactly once and in order, nothing else,
// and each case's final version; then SIGTERM ends every stream cleanly.
func TestE2EFanoutThreeProcesses(t *testing.T) {
	url := dbtest.PostgresURL(t)
	procs := make([]*apptest.Process, 3)
	for i := range procs { // started together: they migrate the empty database concurrently
		procs[i] = launchProcess(t, fmt.Sprintf("rc%d", i+1), map[string]string{"DATABASE_URL": url})
	}
	for _, p := range procs {
		p.WaitListening(t)
	}
	w := newWorld(t, procs[0].URL)
	sc := subscribeAll(t, procs, w, []string{"A", "B", "C", "E", "F"})
	t.Logf("%d subscriptions (%d WebSocket connections, %d SSE responses)", len(sc.streams), len(sc.wsConns), len(sc.sseDone))
	runPlan(t, procs, w, makePlan(w, map[string]int{"A": 17, "B": 14, "C": 11, "E": 6, "F": 6}), 0)
	sc.check(t)
	sc.stopAll(t, 5*time.Second)
}

// TestE2ESQLiteSmoke runs the same binary once on SQLite: one process, both
// transports, the same checks, and a clean SIGTERM.
func TestE2ESQLiteSmoke(t *testing.T) {
	p := startProcess(t, "rc-sqlite", map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "x.db")})
	w := newWorld(t, p.URL)
	sc := subscribeAll(t, []*apptest.Process{p}, w, []string{"A", "B", "F"})
	runPlan(t, []*apptest.Process{p}, w, makePlan(w, map[string]int{"A": 12, "B": 8, "C": 2, "E": 3, "F": 4}), 0)
	sc.check(t)
	sc.stopAll(t, 5*time.Second)
}

// TestE2ESSEOutlivesReadTimeout: READ_TIMEOUT bounds reading a request, not how long
// a subscription may stream: an SSE (and a WebSocket) subscription older than it still
// gets events.
func TestE2ESSEOutlivesReadTimeout(t *testing.T) {
	p := startProcess(t, "rc-timeouts", map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "x.db"),
		"READ_TIMEOUT": "1s", "REQUEST_TIMEOUT": "1s", "HEADER_TIMEOUT": "1s"})
	w := newWorld(t, p.URL)
	ws := apptest.DialWS(t, p.URL, map[string]any{"Authorization": "Bearer " + w.tok["c1"]})
	msgs, _ := apptest.Pump(ws)
	ws.Subscribe("1", resumableEventSub, map[string]any{"id": w.cases["A"]})
	sse := apptest.DialSSE(t, p.URL, w.tok["b1"], resumableEventSub, map[string]any{"id": w.cases["A"]})
	waitSubscribed(t, []*apptest.Process{p}, 2)
	time.Sleep(2500 * time.Millisecond)
	runPlan(t, []*apptest.Process{p}, w, map[string][]action{"A": {{caseKey: "A", token: w.tok["c1"], op: "respondToResolution"}}}, 0)
	select {
	case m := <-msgs:
		if m.Type != "next" {
			t.Errorf("ws 2.5s after subscribing (READ_TIMEOUT=1s): got %s %s, want the event", m.Type, m.Payload)
		}
	case <-time.After(10 * time.Second):
		t.Error("ws: no event")
	}
	ev, err := sse.TryRead(10 * time.Second)
	if err != nil || ev.Event != "next" {
		t.Errorf("sse 2.5s after subscribing (READ_TIMEOUT=1s): got %q %s (%v), want the event", ev.Event, ev.Data, err)
	}
}

// scrape returns the process's /metrics text, or false when it does not answer.
func scrape(p *apptest.Process) (string, bool) {
	_, text, err := apptest.Get(context.Background(), p.Base+"/metrics", apptest.MetricsHeader)
	return text, err == nil
}

// subscriptions returns the server's active subscription count from /metrics, or -1
// when it does not report one.
func subscriptions(p *apptest.Process) float64 {
	text, ok := scrape(p)
	if !ok {
		return -1
	}
	total, found := 0.0, false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "rc_subscriptions{") {
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err == nil {
				total += v
				found = true
			}
		}
	}
	if !found {
		return -1
	}
	return total
}

// metric returns the value of an unlabelled metric from /metrics, or "?".
func metric(p *apptest.Process, name string) string {
	text, ok := scrape(p)
	if !ok {
		return "?"
	}
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == name {
			return f[1]
		}
	}
	return "?"
}

// waitSubscribed waits until the processes report at least want subscriptions in all;
// when they report none (no such metric), it gives them a second instead.
func waitSubscribed(t *testing.T, procs []*apptest.Process, want int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		total, reported := 0.0, true
		for _, p := range procs {
			n := subscriptions(p)
			if n < 0 {
				reported = false
				break
			}
			total += n
		}
		if !reported {
			time.Sleep(time.Second)
			return
		}
		if total >= float64(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("servers report %v subscriptions, want %d", total, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitSubscribedAtMost waits until the processes report at most want subscriptions
// (or a second when they report none).
func waitSubscribedAtMost(t *testing.T, procs []*apptest.Process, want int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		total := 0.0
		for _, p := range procs {
			n := subscriptions(p)
			if n < 0 {
				time.Sleep(time.Second)
				return
			}
			total += n
		}
		if total <= float64(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("servers still report %v subscriptions, want at most %d", total, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
