package db

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestGenericPlansSetting: the statement that opens a read batch sets plan_cache_mode for
// the batch only (the next statement on the connection is back to auto) and makes
// PostgreSQL send no warning (SET LOCAL did, once per batch, into the server's log).
func TestGenericPlansSetting(t *testing.T) {
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		t.Skip("PostgreSQL tests skipped: set TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	ctx := context.Background()
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var notices []string
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		mu.Lock()
		notices = append(notices, n.Severity+": "+n.Message)
		mu.Unlock()
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	show := func() string {
		t.Helper()
		r := conn.ExecParams(ctx, "SHOW plan_cache_mode", nil, nil, nil, nil).Read()
		if r.Err != nil || len(r.Rows) != 1 {
			t.Fatalf("SHOW: %v %v", r.Rows, r.Err)
		}
		return string(r.Rows[0][0])
	}
	if got := show(); got != "auto" {
		t.Fatalf("plan_cache_mode before: %s", got)
	}
	batch := &pgconn.Batch{}
	batch.ExecParams(pgGenericPlans, nil, nil, nil, nil)
	batch.ExecParams("SHOW plan_cache_mode", nil, nil, nil, nil)
	results, err := conn.ExecBatch(ctx, batch).ReadAll()
	if err != nil || len(results) != 2 || len(results[1].Rows) != 1 {
		t.Fatalf("batch: %+v %v", results, err)
	}
	if got := string(results[1].Rows[0][0]); got != "force_generic_plan" {
		t.Errorf("plan_cache_mode in the batch: %s", got)
	}
	if got := show(); got != "auto" {
		t.Errorf("plan_cache_mode after the batch: %s, want auto", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notices) > 0 {
		t.Errorf("PostgreSQL sent %q", notices)
	}
}
