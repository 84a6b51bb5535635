package main

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

const sampleMetrics = `# HELP rc_sql_statements_total SQL statements executed.
# TYPE rc_sql_statements_total counter
rc_sql_statements_total 1234
process_cpu_seconds_total 12.5
process_resident_memory_bytes 1.048576e+08
rc_subscriptions{field="resolutionEventAdded"} 7
rc_subscriptions{field="resolutionUpdated"} 3
rc_graphql_operations_total{operation="we\"ird, {name}",type="query"} 5
rc_fanout_lag_seconds_bucket{le="0.001"} 5
rc_fanout_lag_seconds_bucket{le="0.002"} 9
rc_fanout_lag_seconds_bucket{le="+Inf"} 10
`

func TestParseMetrics(t *testing.T) {
	ms, err := parseMetrics(strings.NewReader(sampleMetrics))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 9 {
		t.Fatalf("got %d samples: %+v", len(ms), ms)
	}
	if ms[5].Name != "rc_graphql_operations_total" || ms[5].Labels["operation"] != `we"ird, {name}` || ms[5].Value != 5 {
		t.Errorf("escaped label: %+v", ms[5])
	}
	if ms[2].Value != 104857600 {
		t.Errorf("exponent: %v", ms[2].Value)
	}
}

func TestSnapshotSumsServers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(sampleMetrics))
	}))
	defer srv.Close()
	c := newHTTPClient(1, 0)
	probes := []*Probe{{MetricsURL: srv.URL, client: c}, {MetricsURL: srv.URL, client: c}}
	s := snapshot(context.Background(), probes, "")
	if !s.HaveSQL || s.SQL != 2468 || s.CPU != 25 || s.RSS != 2*104857600 {
		t.Errorf("snapshot: %+v", s)
	}
	if len(s.LagBounds) != 3 || s.LagCum[2] != 20 {
		t.Errorf("lag buckets: %v %v", s.LagBounds, s.LagCum)
	}
	q := lagQuantiles(Snapshot{}, s, 0.5)
	if math.Abs(q[0]-0.001) > 1e-9 {
		t.Errorf("lag p50 = %v", q[0])
	}
	down := snapshot(context.Background(), []*Probe{{MetricsURL: "http://127.0.0.1:1/metrics", client: c}}, "")
	if down.HaveSQL || down.HaveCPU || down.HaveRSS {
		t.Errorf("unreachable server: %+v", down)
	}
}

func TestProcSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if _, err := procCPUSeconds(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	rss, err := procRSSBytes(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Fatalf("rss %v, %v", rss, err)
	}
	cpu, err := parseProcStat("42 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0")
	if err != nil || cpu != 3 {
		t.Fatalf("parseProcStat = %v, %v; want 3", cpu, err)
	}
}

func TestBackendDatabase(t *testing.T) {
	for title, want := range map[string]string{
		"postgres: 15/main: postgres bench_db 127.0.0.1(52442) idle\x00\x00\x00": "bench_db",
		"postgres: 15/main: app other [local] idle in transaction":               "",
		"postgres: 15/main: app other 127.0.0.1(5) SELECT":                       "other",
		"postgres: 15/main: checkpointer ":                                       "",
		"postgres: 15/main: walwriter":                                           "",
		"/usr/lib/postgresql/15/bin/postgres\x00-D\x00/var/lib/postgresql":       "",
	} {
		if got := backendDatabase(title); got != want {
			t.Errorf("backendDatabase(%q) = %q, want %q", title, got, want)
		}
	}
}

// TestPostgresCPUOfOneDatabase: with a database named, only its backends count.
func TestPostgresCPUOfOneDatabase(t *testing.T) {
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		t.Skip("TEST_DATABASE_URL is not set")
	}
	if _, found := postgresCPUSeconds(""); !found {
		t.Skip("no postgres process visible in /proc (PostgreSQL runs elsewhere)")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var name string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	if _, found := postgresCPUSeconds(name); !found {
		t.Errorf("no backend of %s found while connected to it", name)
	}
	if _, found := postgresCPUSeconds("no_such_database_here"); found {
		t.Errorf("backends found for a database nobody uses")
	}
}
