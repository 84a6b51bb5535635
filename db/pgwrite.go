package db

import (
	"context"
	"database/sql"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
)

// The statements of fixed text that every change (and every request's token check)
// runs on PostgreSQL go as prepared statements through pgx's statement cache: each
// connection parses them once and PostgreSQL reuses their plans. Through bun, which
// formats the arguments into the text, they went by the simple protocol and were parsed,
// analysed and planned every time: about two fifths of PostgreSQL's samples under the
// load tool's mutate scenario (perf), against a tenth for executing them.

// pgExec runs a statement of fixed text in tx as a prepared statement, with the query
// hooks.
func (d *DB) pgExec(ctx context.Context, tx bun.Tx, query string, args ...any) error {
	_, err := d.pgExecCount(ctx, tx, query, args...)
	return err
}

// pgExecCount is pgExec returning the number of rows the statement affected.
func (d *DB) pgExecCount(ctx context.Context, tx bun.Tx, query string, args ...any) (int64, error) {
	ev := &bun.QueryEvent{DB: d.bun, Query: query, StartTime: time.Now()}
	hookCtx := d.hooks.BeforeQuery(ctx, ev)
	res, err := tx.Tx.ExecContext(ctx, query, append([]any{pgx.QueryExecModeCacheStatement}, args...)...)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	ev.Err = err
	d.hooks.AfterQuery(hookCtx, ev)
	return n, mapErr(err)
}

// null is v, or NULL for its zero value (bun's nullzero; times: nullTime).
func null[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// nullTime is t, or NULL for a zero time (bun's nullzero).
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

const pgSaveCase = `UPDATE resolutions SET status = $3, issue = $4, company_id = $5, user_id = $6, payment_id = $7, ` +
	`member_id = $8, updated_at = $9, due_date = $10, customer_appealed = $11, merchant_appealed = $12, outcome = $13, ` +
	`refund = $14, decided_by = $15, info_requests = $16, payment_refunded = $17, version = $18, event_count = $19 ` +
	`WHERE id = $1 AND version = $2`

// pgSaveCase writes every column of the case but its ID and creation time over the row
// that still has version prev (saveCase on PostgreSQL); it returns the rows written.
func (d *DB) pgSaveCase(ctx context.Context, tx bun.Tx, prev int, r resolutionRow) (int64, error) {
	return d.pgExecCount(ctx, tx, pgSaveCase, r.ID, prev, r.Status, r.Issue, r.CompanyID, r.UserID, r.PaymentID,
		null(r.MemberID), r.UpdatedAt, nullTime(r.DueDate), r.CustomerAppealed, r.MerchantAppealed, null(r.Outcome),
		null(r.Refund), null(r.DecidedBy), r.InfoRequests, r.PaymentRefunded, r.Version, r.EventCount)
}

// pgRows runs a query of fixed text as a prepared statement, in tx when given (else on
// the pool), with the query hooks, and hands each row to scan.
func (d *DB) pgRows(ctx context.Context, tx *bun.Tx, query string, args []any, scan func(*sql.Rows) error) error {
	ev := &bun.QueryEvent{DB: d.bun, Query: query, StartTime: time.Now()}
	hookCtx := d.hooks.BeforeQuery(ctx, ev)
	args = append([]any{pgx.QueryExecModeCacheStatement}, args...)
	var rows *sql.Rows
	var err error
	if tx != nil {
		rows, err = tx.Tx.QueryContext(ctx, query, args...)
	} else {
		rows, err = d.bun.DB.QueryContext(ctx, query, args...)
	}
	if err == nil {
		for err == nil && rows.Next() {
			err = scan(rows)
		}
		if err == nil {
			err = rows.Err()
		}
		rows.Close()
	}
	ev.Err = err
	d.hooks.AfterQuery(hookCtx, ev)
	return mapErr(err)
}

const pgInsertEvent = `INSERT INTO resolution_events (id, resolution_id, position, action, reporter_type, details, ` +
	`from_status, to_status, viewable_by_customer, viewable_by_merchant, created_at) ` +
	`VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

// pgAppendEvent inserts an event row (appendEvent on PostgreSQL).
func (d *DB) pgAppendEvent(ctx context.Context, tx bun.Tx, r eventRow) error {
	return d.pgExec(ctx, tx, pgInsertEvent, r.ID, r.ResolutionID, r.Position, r.Action, r.ReporterType, null(r.Details),
		r.FromStatus, r.ToStatus, r.ViewableByCustomer, r.ViewableByMerchant, r.CreatedAt)
}

const pgNotify = `SELECT pg_notify($1, $2)`

const pgActiveEndpoints = `SELECT id, coalesce(company_id, ''), event_types FROM webhook_endpoints ` +
	`WHERE (company_id = $1 OR company_id IS NULL) AND disabled_at IS NULL ORDER BY id`

const pgTeamCompanies = `SELECT company_id FROM team_members WHERE user_id = $1 ORDER BY company_id`

const pgLookupToken = `SELECT id, hash, kind, coalesce(user_id, ''), coalesce(company_id, ''), scopes, ` +
	`coalesce(label, ''), created_at FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL LIMIT 1`

// pgLookupTokenHash finds the live token of a hash (LookupTokenHash on PostgreSQL).
func (d *DB) pgLookupTokenHash(ctx context.Context, hash string) (Token, error) {
	var r tokenRow
	found := false
	err := d.pgRows(ctx, nil, pgLookupToken, []any{hash}, func(rows *sql.Rows) error {
		found = true
		return rows.Scan(&r.ID, &r.Hash, &r.Kind, &r.UserID, &r.CompanyID, &r.Scopes, &r.Label, &r.CreatedAt)
	})
	if err != nil {
		return Token{}, err
	}
	if !found {
		return Token{}, mapErr(sql.ErrNoRows)
	}
	return toToken(r), nil
}
