package db

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// QueueDriver returns the River job queue's driver on this database: database/sql on
// PostgreSQL (with a pgx LISTEN connection from the pool, so new jobs are picked up at
// once) and on SQLite. Both take a *sql.Tx, so a job is inserted in the transaction of
// a change (OutboxTx.SQL). It is the one handle on the database that leaves the
// package, and only River uses it.
func (d *DB) QueueDriver() riverdriver.Driver[*sql.Tx] {
	if d.Engine == Postgres {
		return riverdatabasesql.NewWithPgxListener(d.bun.DB, d.pool)
	}
	return riversqlite.New(d.bun.DB)
}

// migrateQueue applies River's own migrations (its river_* tables). Migrate calls it
// under the same lock as the application's migrations.
func (d *DB) migrateQueue(ctx context.Context) ([]string, error) {
	m, err := rivermigrate.New(d.QueueDriver(), nil)
	if err != nil {
		return nil, fmt.Errorf("db: queue migrator: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("db: queue migrate: %w", err)
	}
	var names []string
	for _, v := range res.Versions {
		names = append(names, fmt.Sprintf("river_%03d_%s", v.Version, v.Name))
	}
	return names, nil
}
