package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
)

// TestMigrateWaitsWithoutHoldingASnapshot: a replica that waits for another's
// migrations must not hold a snapshot meanwhile, or the other's CREATE INDEX
// CONCURRENTLY (which waits for every older snapshot) and the waiter wait for each
// other until the statement timeout. Here a plain connection plays the replica that
// migrates: it holds the migration lock and builds an index concurrently while a second
// process's Migrate waits for the lock.
func TestMigrateWaitsWithoutHoldingASnapshot(t *testing.T) {
	url := dbtest.PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	holder, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(context.Background())
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(db.MigrationLockKey)); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, "CREATE TABLE cic_probe (id int)"); err != nil {
		t.Fatal(err)
	}

	other, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	done := make(chan error, 1)
	go func() { _, err := other.Migrate(ctx); done <- err }()

	// Wait until the other process has asked for the lock at least once.
	for asked := false; !asked; {
		if err := holder.QueryRow(ctx, `SELECT count(*) > 0 FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%advisory_lock%'`).Scan(&asked); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			t.Fatalf("Migrate returned while another held the lock: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	time.Sleep(300 * time.Millisecond) // a little while into the wait

	if _, err := holder.Exec(ctx, "SET statement_timeout = '5s'"); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, "CREATE INDEX CONCURRENTLY cic_probe_idx ON cic_probe (id)"); err != nil {
		t.Fatalf("an index built concurrently while a replica waits for the migration lock: %v", err)
	}
	select {
	case err := <-done:
		t.Fatalf("Migrate returned while another held the lock: %v", err)
	default:
	}
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_unlock($1)", int64(db.MigrationLockKey)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Migrate after the lock was released: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Migrate still waiting 10 s after the lock was released")
	}
}
