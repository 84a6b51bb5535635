// Package dbtest runs tests against real database engines: SQLite in a temporary
// directory always, and PostgreSQL when TEST_DATABASE_URL is set (CI always sets it).
// Each call gets a fresh, migrated database. It also builds fixtures.
//
// dbtest imports db and dispute; only tests import it.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"resolutioncenter/db"
)

// EnvPostgres names the environment variable holding the PostgreSQL URL for tests.
const EnvPostgres = "TEST_DATABASE_URL"

// Engines runs body once per engine as subtests named "sqlite" and "postgres". The
// PostgreSQL subtest is skipped, saying so, when TEST_DATABASE_URL is unset.
func Engines(t *testing.T, body func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { body(t, MustSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { body(t, MustPostgres(t)) })
}

// MustSQLite returns a fresh migrated SQLite database in a temp dir.
func MustSQLite(tb testing.TB) *db.DB {
	tb.Helper()
	d, err := db.Open(context.Background(), "sqlite:"+filepath.Join(tb.TempDir(), "test.db"))
	if err != nil {
		tb.Fatalf("open sqlite: %v", err)
	}
	tb.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate sqlite: %v", err)
	}
	checkCountsAtEnd(tb, d)
	return d
}

// PostgresURL returns a URL to a fresh, empty PostgreSQL database that is dropped when
// the test ends, or skips the test when TEST_DATABASE_URL is unset.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		tb.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", EnvPostgres)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect %s: %v", EnvPostgres, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "rc_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Logf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String()
}

// MustPostgres returns a fresh migrated PostgreSQL database, or skips.
func MustPostgres(tb testing.TB) *db.DB {
	tb.Helper()
	d, err := db.Open(context.Background(), PostgresURL(tb))
	if err != nil {
		tb.Fatalf("open postgres: %v", err)
	}
	tb.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate postgres: %v", err)
	}
	checkCountsAtEnd(tb, d)
	return d
}

// checkCountsAtEnd makes the test fail if, when it ends, the database's case counts
// differ from its cases: whatever a test did through the store, every write path must
// have kept them. A test that changes cases behind the store's back (Raw) calls
// d.RecountCases afterwards, as an operator would. A database the test closed is not
// checked.
func checkCountsAtEnd(tb testing.TB, d *db.DB) {
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if d.Ping(ctx) != nil {
			return // the test closed it
		}
		if err := d.CheckCounts(ctx); err != nil {
			tb.Errorf("at the end of the test: %v", err)
		}
	})
}
