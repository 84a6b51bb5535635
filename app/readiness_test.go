package app_test

// Readiness fails only on sustained unavailability (READY_FAIL_AFTER) and recovers at
// the first good check: killed database connections do not flap it (this file), and a
// real outage fails it only once it lasts (TestOutagePostgres, with
// checkSustainedReadiness).

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
)

// readyProbe is one answer of /readyz.
type readyProbe struct {
	at     time.Time
	status int // 0: no answer
	body   string
}

// readyPoller asks /readyz every interval until stopped.
type readyPoller struct {
	mu     sync.Mutex
	probes []readyProbe
	stop   chan struct{}
	done   chan struct{}
}

func pollReady(base string, every time.Duration) *readyPoller {
	p := &readyPoller{stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 3 * time.Second}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			case <-time.After(every):
			}
			pr := readyProbe{at: time.Now()}
			if resp, err := client.Get(base + "/readyz"); err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				pr.status, pr.body = resp.StatusCode, strings.TrimSpace(string(b))
			}
			p.mu.Lock()
			p.probes = append(p.probes, pr)
			p.mu.Unlock()
		}
	}()
	return p
}

// Stop ends the polling and returns every probe.
func (p *readyPoller) Stop() []readyProbe {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.probes
}

// count503 counts the probes that did not answer 200, and the longest run of them.
func count503(probes []readyProbe) (n int, longest time.Duration) {
	var runStart time.Time
	for _, pr := range probes {
		if pr.status != http.StatusOK {
			n++
			if runStart.IsZero() {
				runStart = pr.at
			}
			longest = max(longest, pr.at.Sub(runStart))
		} else {
			runStart = time.Time{}
		}
	}
	return n, longest
}

// checkSustainedReadiness checks the readiness probes around an outage from stopped
// to restarted: 200 before it and for its first failAfter, 503 once it has lasted
// failAfter (with a margin for a probe in flight), and 200 from the first probe after
// the database is back (no 503 after that).
func checkSustainedReadiness(t *testing.T, probes []readyProbe, stopped, restarted time.Time, failAfter time.Duration) {
	t.Helper()
	const margin = 300 * time.Millisecond
	var first503, first200After time.Time
	for _, pr := range probes {
		switch {
		case pr.at.Before(stopped):
			if pr.status != http.StatusOK {
				t.Errorf("/readyz before the outage: %d %q", pr.status, pr.body)
			}
		case pr.at.Before(stopped.Add(failAfter - margin)):
			if pr.status != http.StatusOK {
				t.Errorf("/readyz %s into the outage: %d %q, want 200 until it lasted READY_FAIL_AFTER (%s)",
					pr.at.Sub(stopped).Round(time.Millisecond), pr.status, pr.body, failAfter)
			}
		case pr.at.Before(restarted):
			if pr.status == http.StatusServiceUnavailable && first503.IsZero() {
				first503 = pr.at
			}
			if pr.at.After(stopped.Add(failAfter+margin)) && pr.status != http.StatusServiceUnavailable {
				t.Errorf("/readyz %s into the outage: %d %q, want 503", pr.at.Sub(stopped).Round(time.Millisecond), pr.status, pr.body)
			}
		default:
			if pr.status == http.StatusOK && first200After.IsZero() {
				first200After = pr.at
			}
			if !first200After.IsZero() && pr.status != http.StatusOK {
				t.Errorf("/readyz flapped %s after the database came back: %d %q", pr.at.Sub(restarted).Round(time.Millisecond), pr.status, pr.body)
			}
		}
	}
	if first503.IsZero() || first200After.IsZero() {
		t.Fatalf("/readyz: no 503 during the outage (%v) or no 200 after it (%v)", first503, first200After)
	}
	back := first200After.Sub(restarted)
	t.Logf("readiness: 200 for the first %s of the outage, 503 from then on, 200 again %s after the database came back (READY_FAIL_AFTER=%s, a probe every 50ms)",
		first503.Sub(stopped).Round(time.Millisecond), back.Round(time.Millisecond), failAfter)
	if back > time.Second {
		t.Errorf("/readyz answered 200 only %s after the database came back: it must recover at its first good check", back)
	}
}

// TestReadinessKilledConnections: the server's database sessions (its pool and its
// LISTEN connection) are killed again and again, as a failover or an operator might.
// Queries keep working, and /readyz, probed every 20 ms, answers 200 throughout: one
// failed ping or a LISTEN reconnect is not sustained unavailability.
func TestReadinessKilledConnections(t *testing.T) {
	d := dbtest.MustPostgres(t)
	fx := seedFixture(t, d, 1)
	s := apptest.New(t, d)
	waitReady(t, s.Base, http.StatusOK, 15*time.Second)
	ready := pollReady(s.Base, 20*time.Millisecond)

	stop := make(chan struct{})
	var failures []string
	var okQueries int
	queried := make(chan struct{})
	go func() {
		defer close(queried)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			r, err := apptest.Post(context.Background(), s.URL, fx.CustomerToken, `{ resolutions(first: 1) { edges { node { id } } } }`, nil)
			if err != nil || len(r.Errors) > 0 {
				failures = append(failures, fmt.Sprint(err, r.Errors))
			} else {
				okQueries++
			}
		}
	}()
	const kills = 4
	killed := 0
	for range kills {
		time.Sleep(time.Second)
		killed += killSessions(t, d)
	}
	time.Sleep(2 * time.Second) // the last reconnect happens meanwhile
	close(stop)
	<-queried
	probes := ready.Stop()
	n, longest := count503(probes)
	t.Logf("%d kills ending %d sessions: /readyz answered not-200 %d times of %d (longest run %s); queries: %d ok, %d failed (one per killed pooled session at most)",
		kills, killed, n, len(probes), longest.Round(time.Millisecond), okQueries, len(failures))
	if n > 0 {
		for _, pr := range probes {
			if pr.status != http.StatusOK {
				t.Errorf("/readyz answered %d %q at %s", pr.status, pr.body, pr.at.Format("15:04:05.000"))
				break
			}
		}
	}
	if okQueries < 50 {
		t.Errorf("only %d queries succeeded", okQueries)
	}
	// A killed pooled session may fail the query that was using it; no more.
	if len(failures) > killed {
		t.Errorf("%d queries failed for %d killed sessions, e.g. %s", len(failures), killed, failures[0])
	}
}

// killSessions ends every session of the test database but the caller's, and returns
// how many it ended.
func killSessions(t *testing.T, d *db.DB) int {
	t.Helper()
	var n []bool
	if _, err := d.Raw(context.Background(), &n, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	return len(n)
}
