package db

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
)

// RunMigrationFile runs one embedded migration file again, statement by statement, in a
// transaction: for tests of a migration's data rewriting on rows made for the purpose.
func RunMigrationFile(ctx context.Context, d *DB, name string) error {
	b, err := migrationFiles.ReadFile("migrations/" + string(d.Engine) + "/" + name)
	if err != nil {
		return err
	}
	return d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, stmt := range strings.Split(string(b), "--bun:split") {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
}

// InsertIdempotencyRecord stores a finished idempotency record as a build would have.
func InsertIdempotencyRecord(ctx context.Context, d *DB, principal, key, response string, at time.Time) error {
	r := idempotencyRow{Principal: principal, Key: key, Operation: "respond", RequestHash: "h", Response: response, CreatedAt: at}
	return insert(ctx, d, &r, "")
}

// IdempotencyRecords returns principal -> key -> response of every record.
func IdempotencyRecords(ctx context.Context, d *DB) (map[string]map[string]string, error) {
	var rows []idempotencyRow
	if err := d.bun.NewSelect().Model(&rows).Scan(ctx); err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, r := range rows {
		if out[r.Principal] == nil {
			out[r.Principal] = map[string]string{}
		}
		out[r.Principal][r.Key] = r.Response
	}
	return out, nil
}

// CasePartsBothWays reads a case's parts inside tx through the engine's path and
// through bun's, for a differential test of the PostgreSQL statements.
func CasePartsBothWays(ctx context.Context, tx *OutboxTx, c dispute.Case, role dispute.Actor, n int) (CaseParts, CaseParts, error) {
	fast, err := tx.CaseParts(ctx, c, role, n)
	if err != nil {
		return fast, CaseParts{}, err
	}
	slow, err := tx.bunCaseParts(ctx, c, role, n)
	return fast, slow, err
}

// SetPurgeBatch makes d's purges delete n rows per statement.
func SetPurgeBatch(d *DB, n int) { d.purgeBatch = n }

// ExplainClaimHead returns the plan of a claim's head lookup for ref: on PostgreSQL the
// whole claim statement run under EXPLAIN (ANALYZE, FORMAT JSON) (it leases what it
// claims), on SQLite EXPLAIN QUERY PLAN of the head query, its details joined by lines.
func ExplainClaimHead(ctx context.Context, d *DB, ref DeliveryRef, now time.Time) (string, error) {
	if d.Engine == Postgres {
		var plan string
		err := d.pgStatement(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+pgClaimQuery,
			[]any{[]string{ref.EndpointID}, []string{ref.CaseID}, []int32{int32(ref.Position)}, []int32{int32(ref.Ordinal)},
				now.Add(time.Minute), now}, func(rows pgx.Rows) error {
				for rows.Next() {
					if err := rows.Scan(&plan); err != nil {
						return err
					}
				}
				return nil
			})
		return plan, err
	}
	var rows []struct {
		ID      int    `bun:"id"`
		Parent  int    `bun:"parent"`
		NotUsed int    `bun:"notused"`
		Detail  string `bun:"detail"`
	}
	err := d.bun.NewRaw("EXPLAIN QUERY PLAN "+headQuery, ref.EndpointID, ref.CaseID, ref.Position, ref.Position, ref.Ordinal).Scan(ctx, &rows)
	var lines []string
	for _, r := range rows {
		lines = append(lines, r.Detail)
	}
	return strings.Join(lines, "\n"), err
}

// BeginTx begins a transaction on the pool (tests that hold row locks).
func BeginTx(ctx context.Context, d *DB) (bun.Tx, error) { return d.bun.BeginTx(ctx, nil) }

// MigrationLockKey is the advisory lock key that serialises migrations.
const MigrationLockKey = migrationLockKey

// ExplainListDeliveries returns the plan of ListWebhookDeliveries's query: SQLite's
// EXPLAIN QUERY PLAN lines, or PostgreSQL's EXPLAIN (ANALYZE, FORMAT JSON).
func ExplainListDeliveries(ctx context.Context, d *DB, endpointID string, f DeliveryFilter, limit int) (string, error) {
	query := d.listDeliveries(new([]webhookDeliveryRow), endpointID, f, "", limit).String()
	if d.Engine == Postgres {
		var plan []string
		err := d.bun.NewRaw("EXPLAIN (ANALYZE, FORMAT JSON) "+query).Scan(ctx, &plan)
		return strings.Join(plan, ""), err
	}
	var rows []struct {
		ID      int    `bun:"id"`
		Parent  int    `bun:"parent"`
		NotUsed int    `bun:"notused"`
		Detail  string `bun:"detail"`
	}
	err := d.bun.NewRaw("EXPLAIN QUERY PLAN "+query).Scan(ctx, &rows)
	var lines []string
	for _, r := range rows {
		lines = append(lines, r.Detail)
	}
	return strings.Join(lines, "\n"), err
}

// FailDelivery marks a delivery failed whatever holds it (FailWebhookDelivery does so
// only for the holder of its lease): for tests that need failed deliveries.
func FailDelivery(ctx context.Context, d *DB, id, reason string) error {
	_, err := d.bun.NewUpdate().Model((*webhookDeliveryRow)(nil)).Set("status = ?", DeliveryFailed).
		Set("lease_until = NULL").Set("last_error = ?", reason).Where("id = ?", id).Exec(ctx)
	return mapErr(err)
}
