package db

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

//go:embed migrations
var migrationFiles embed.FS

// migrationLockKey is the pg_advisory_lock key that serialises migrations of
// several replicas starting at once ("rescentr" in ASCII).
const migrationLockKey = 0x7265736365_6e7472

func (d *DB) migrator() (*migrate.Migrator, error) {
	sub, err := fs.Sub(migrationFiles, "migrations/"+string(d.Engine))
	if err != nil {
		return nil, err
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(sub); err != nil {
		return nil, fmt.Errorf("db: discover migrations: %w", err)
	}
	return migrate.NewMigrator(d.bun, ms, migrate.WithMarkAppliedOnSuccess(true), migrate.WithUpsert(true),
		migrate.AfterMigration(markAppliedInTx)), nil
}

// markAppliedInTx records a transactional migration (a .tx.up.sql file) as applied in
// its own transaction. bun records it after the commit, in a statement of its own: a
// start interrupted in between (SIGTERM, a lost connection) left the migration's tables
// without its record, and every later start ran it again and failed ("relation ...
// already exists"). bun's own record after the commit then finds this one (upsert).
// Every migration file runs in a transaction but those that build an index
// CONCURRENTLY, which cannot, and are written to run again from any point instead.
func markAppliedInTx(ctx context.Context, conn bun.IConn, m *migrate.Migration) error {
	tx, ok := conn.(bun.Tx)
	if !ok {
		return nil
	}
	row := *m
	row.ID = 0
	_, err := tx.NewInsert().Model(&row).ModelTableExpr("bun_migrations").
		On("CONFLICT (name) DO UPDATE").Set("group_id = EXCLUDED.group_id").Exec(ctx)
	return err
}

// Migrate applies every pending migration, the job queue's (River's) included, and
// returns the names of those it applied. On PostgreSQL a session advisory lock makes replicas that start together take turns.
func (d *DB) Migrate(ctx context.Context) ([]string, error) {
	m, err := d.migrator()
	if err != nil {
		return nil, err
	}
	if d.Engine == Postgres {
		conn, err := d.bun.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("db: migrate: %w", err)
		}
		defer conn.Close()
		if err := lockMigrations(ctx, conn); err != nil {
			return nil, fmt.Errorf("db: migrate lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", migrationLockKey) //nolint:errcheck
	} else {
		release, err := d.gate(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("db: migrate init: %w", err)
	}
	group, err := m.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: migrate: %w", err)
	}
	var names []string
	for _, mig := range group.Migrations {
		names = append(names, mig.Name)
	}
	queue, err := d.migrateQueue(ctx)
	return append(names, queue...), err
}

// migrationLockPoll is how often a replica waiting for another's migrations asks for
// the lock again.
const migrationLockPoll = 200 * time.Millisecond

// lockMigrations takes the migration lock on conn, asking with pg_try_advisory_lock
// until it gets it, rather than waiting inside pg_advisory_lock: a statement waiting
// for a lock holds a snapshot, and a migration that builds an index CONCURRENTLY waits
// for every transaction in the database with an older snapshot, so the waiting replica
// and the migrating one waited for each other until the statement timeout ended the
// waiter (TestE2EFanoutThreeProcesses, three replicas starting together).
func lockMigrations(ctx context.Context, conn bun.Conn) error {
	for {
		var ok bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(?)", migrationLockKey).Scan(&ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(migrationLockPoll):
		}
	}
}

// PendingMigrations returns the names of migrations not yet applied (for readiness).
func (d *DB) PendingMigrations(ctx context.Context) ([]string, error) {
	m, err := d.migrator()
	if err != nil {
		return nil, err
	}
	missing, err := m.MissingMigrations(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, mig := range missing {
		names = append(names, mig.Name)
	}
	return names, nil
}
