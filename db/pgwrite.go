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

// pgTxQuery runs a statement of fixed text in tx as a prepared statement, with the
// query hooks.
func (d *DB) pgTxQuery(ctx context.Context, tx bun.Tx, query string, args ...any) (*sql.Rows, error) {
	var rows *sql.Rows
	err := d.hooked(ctx, query, func() (err error) {
		rows, err = tx.Tx.QueryContext(ctx, query, append([]any{pgx.QueryExecModeCacheStatement}, args...)...)
		return err
	})
	return rows, mapErr(err)
}

// pgExec is pgTxQuery for a statement without rows; it returns the rows it affected.
func (d *DB) pgExec(ctx context.Context, tx bun.Tx, query string, args ...any) (int64, error) {
	var n int64
	err := d.hooked(ctx, query, func() error {
		res, err := tx.Tx.ExecContext(ctx, query, append([]any{pgx.QueryExecModeCacheStatement}, args...)...)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	return n, mapErr(err)
}

// nullTime is t, or NULL for a zero time (bun's nullzero, as nullStr for strings).
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
	return d.pgExec(ctx, tx, pgSaveCase, r.ID, prev, r.Status, r.Issue, r.CompanyID, r.UserID, r.PaymentID,
		nullStr(r.MemberID), r.UpdatedAt, nullTime(r.DueDate), r.CustomerAppealed, r.MerchantAppealed, nullStr(r.Outcome),
		nullStr(r.Refund), nullStr(r.DecidedBy), r.InfoRequests, r.PaymentRefunded, r.Version, r.EventCount)
}

const pgInsertEvent = `INSERT INTO resolution_events (id, resolution_id, position, action, reporter_type, details, ` +
	`from_status, to_status, viewable_by_customer, viewable_by_merchant, created_at) ` +
	`VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

// pgAppendEvent inserts an event row (appendEvent on PostgreSQL).
func (d *DB) pgAppendEvent(ctx context.Context, tx bun.Tx, r eventRow) error {
	_, err := d.pgExec(ctx, tx, pgInsertEvent, r.ID, r.ResolutionID, r.Position, r.Action, r.ReporterType, nullStr(r.Details),
		r.FromStatus, r.ToStatus, r.ViewableByCustomer, r.ViewableByMerchant, r.CreatedAt)
	return err
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
	err := d.pgStatement(ctx, pgLookupToken, []any{hash}, func(rows pgx.Rows) error {
		for rows.Next() {
			found = true
			if err := rows.Scan(&r.ID, &r.Hash, &r.Kind, &r.UserID, &r.CompanyID, &r.Scopes, &r.Label, &r.CreatedAt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Token{}, err
	}
	if !found {
		return Token{}, mapErr(sql.ErrNoRows)
	}
	return toToken(r), nil
}
