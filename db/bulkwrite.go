package db

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
)

// BulkBatch is a run of generated cases with what they need, written in one transaction
// so an interrupted load leaves whole cases behind. Records carry their stored IDs;
// times are UTC at millisecond precision. Every referenced record is written before,
// in the same batch or an earlier one.
type BulkBatch struct {
	Memberships []Membership
	Payments    []Payment
	Cases       []dispute.Case
	Events      []dispute.Event // ResolutionID set
}

// BulkWriter stores generated data fast: COPY on PostgreSQL, multi-row INSERTs on
// SQLite, through the same row structs as every other write. WriteBatch may be called
// from Parallel() goroutines at once; it adds the batch's cases to the case counts in
// the same transaction.
type BulkWriter interface {
	WriteReferences(ctx context.Context, companies []Company, users []User, team []TeamMember) error
	WriteBatch(ctx context.Context, b *BulkBatch) error
	Parallel() int
	Finish(ctx context.Context) error
	Close()
}

// NewBulkWriter returns the bulk writer for the database's engine.
func (d *DB) NewBulkWriter(ctx context.Context) (BulkWriter, error) {
	if d.Engine == Postgres && d.pool != nil {
		w := &pgWriter{pool: d.pool}
		var super string
		if err := w.pool.QueryRow(ctx, "SHOW is_superuser").Scan(&super); err != nil {
			return nil, fmt.Errorf("db: bulk writer: %w", err)
		}
		w.skipTriggers = super == "on"
		return w, nil
	}
	return &bunWriter{d: d}, nil
}

// pgWriter streams rows with binary COPY, two transactions at a time: on a
// two-core machine the server's COPY work, not the generator, is the bottleneck.
type pgWriter struct {
	pool *pgxpool.Pool
	// skipTriggers: the session may set session_replication_role, which turns off
	// the foreign-key triggers for the load, as pg_restore --disable-triggers does.
	// The generator writes every referenced row before the rows that reference it,
	// in the same or an earlier transaction, so the checks could only pass; they would
	// cost more than half of the server's time (each locks the referenced row).
	// Indexes and unique constraints stay in force.
	skipTriggers bool
}

func (w *pgWriter) Close() {}

func (w *pgWriter) Parallel() int { return 2 }

func (w *pgWriter) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it is a no-op
	// Losing the last batches in a crash is fine for generated data: no need to wait
	// for each commit to reach the disk.
	if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
		return err
	}
	if w.skipTriggers {
		if _, err := tx.Exec(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
			return err
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (w *pgWriter) WriteReferences(ctx context.Context, companies []Company, users []User, team []TeamMember) error {
	return w.tx(ctx, func(tx pgx.Tx) error {
		if err := copyRows(ctx, tx, "companies", bulkCompanyColumns, companies, companyValues); err != nil {
			return err
		}
		if err := copyRows(ctx, tx, "users", bulkUserColumns, users, userValues); err != nil {
			return err
		}
		return copyRows(ctx, tx, "team_members", bulkTeamColumns, team, teamValues)
	})
}

func (w *pgWriter) WriteBatch(ctx context.Context, b *BulkBatch) error {
	return w.tx(ctx, func(tx pgx.Tx) error {
		if err := copyRows(ctx, tx, "memberships", bulkMembershipColumns, b.Memberships, membershipValues); err != nil {
			return err
		}
		if err := copyRows(ctx, tx, "payments", bulkPaymentColumns, b.Payments, paymentValues); err != nil {
			return err
		}
		if err := copyRows(ctx, tx, "resolutions", bulkResolutionColumns, b.Cases, resolutionValues); err != nil {
			return err
		}
		if err := copyRows(ctx, tx, "resolution_events", bulkEventColumns, b.Events, eventValues); err != nil {
			return err
		}
		return copyCounts(ctx, tx, b.counts())
	})
}

// counts are the batch's cases as changes of the counts, in key order.
func (b *BulkBatch) counts() []caseCountRow {
	d := countDeltas{}
	for _, c := range b.Cases {
		d.add(c, 1)
	}
	return d.rows()
}

// copyCounts adds rows to the counts in one statement, in the order given (the order
// every writer locks count rows in: see countDeltas.rows).
func copyCounts(ctx context.Context, tx pgx.Tx, rows []caseCountRow) error {
	if len(rows) == 0 {
		return nil
	}
	cols := make([][]string, 5)
	n := make([]int64, len(rows))
	for i, r := range rows {
		for j, v := range []string{r.Scope, r.Slot, r.Status, r.Issue, r.Outcome} {
			cols[j] = append(cols[j], v)
		}
		n[i] = r.N
	}
	_, err := tx.Exec(ctx, `INSERT INTO case_counts (scope, slot, status, issue, outcome, n)
SELECT scope, slot, status, issue, outcome, n
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
     WITH ORDINALITY AS c (scope, slot, status, issue, outcome, n, i)
ORDER BY i
ON CONFLICT (scope, slot, status, issue, outcome) DO UPDATE SET n = case_counts.n + EXCLUDED.n`,
		cols[0], cols[1], cols[2], cols[3], cols[4], n)
	if err != nil {
		return fmt.Errorf("add case counts: %w", err)
	}
	return nil
}

// Finish refreshes the planner's statistics, so the first queries on the new data
// use the indexes as they would in production.
func (w *pgWriter) Finish(ctx context.Context) error {
	_, err := w.pool.Exec(ctx, "ANALYZE companies, users, team_members, memberships, payments, resolutions, resolution_events, case_counts")
	return err
}

// copyRows COPYs rows into table, converting each with values into a reused slice.
func copyRows[T any](ctx context.Context, tx pgx.Tx, table string, cols []string, rows []T, values func(*T, []any)) error {
	if len(rows) == 0 {
		return nil
	}
	src := &rowSource[T]{rows: rows, vals: make([]any, len(cols)), conv: values}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, src)
	if err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	if n != int64(len(rows)) {
		return fmt.Errorf("copy into %s: %d of %d rows", table, n, len(rows))
	}
	return nil
}

// rowSource is a pgx.CopyFromSource over a slice. pgx encodes the values of a row
// before asking for the next, so one []any serves every row.
type rowSource[T any] struct {
	rows []T
	i    int
	vals []any
	conv func(*T, []any)
}

func (s *rowSource[T]) Next() bool { s.i++; return s.i <= len(s.rows) }

func (s *rowSource[T]) Values() ([]any, error) {
	s.conv(&s.rows[s.i-1], s.vals)
	return s.vals, nil
}

func (s *rowSource[T]) Err() error { return nil }

// nullable maps the zero value to NULL, as the nullzero tags do for bun.
func nullable[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

var (
	bulkCompanyColumns    = []string{"id", "title", "route", "created_at"}
	bulkUserColumns       = []string{"id", "name", "username", "email", "created_at", "external_id"}
	bulkTeamColumns       = []string{"company_id", "user_id", "created_at"}
	bulkMembershipColumns = []string{"id", "user_id", "company_id", "status", "created_at", "canceled_at"}
	bulkPaymentColumns    = []string{"id", "user_id", "company_id", "membership_id", "currency", "total", "subtotal",
		"refunded_amount", "status", "paid_at", "refunded_at", "created_at"}
	bulkResolutionColumns = []string{"id", "status", "issue", "company_id", "user_id", "payment_id", "member_id",
		"created_at", "updated_at", "due_date", "customer_appealed", "merchant_appealed", "outcome", "refund",
		"decided_by", "info_requests", "payment_refunded", "version", "event_count"}
	bulkEventColumns = []string{"id", "resolution_id", "position", "action", "reporter_type", "details",
		"from_status", "to_status", "viewable_by_customer", "viewable_by_merchant", "created_at"}
)

// The values functions give COPY a record's columns in the order above, through the
// record's row struct, so that COPY stores exactly what an INSERT of the row would.

func companyValues(c *Company, v []any) {
	r := fromCompany(*c)
	v[0], v[1], v[2], v[3] = r.ID, r.Title, r.Route, r.CreatedAt
}

func userValues(u *User, v []any) {
	r := fromUser(*u)
	v[0], v[1], v[2], v[3], v[4], v[5] = r.ID, nullable(r.Name), r.Username, r.Email, r.CreatedAt, nullable(r.ExternalID)
}

func teamValues(t *TeamMember, v []any) {
	r := fromTeamMember(*t)
	v[0], v[1], v[2] = r.CompanyID, r.UserID, r.CreatedAt
}

func membershipValues(m *Membership, v []any) {
	r := fromMembership(*m)
	v[0], v[1], v[2], v[3], v[4], v[5] = r.ID, r.UserID, r.CompanyID, r.Status, r.CreatedAt, nullable(r.CanceledAt)
}

func paymentValues(p *Payment, v []any) {
	r := fromPayment(*p)
	var sub any
	if r.Subtotal != nil {
		sub = *r.Subtotal
	}
	v[0], v[1], v[2], v[3], v[4], v[5] = r.ID, r.UserID, r.CompanyID, nullable(r.MembershipID), r.Currency, r.Total
	v[6], v[7], v[8], v[9], v[10], v[11] = sub, r.RefundedAmount, r.Status, nullable(r.PaidAt), nullable(r.RefundedAt), r.CreatedAt
}

func resolutionValues(c *dispute.Case, v []any) {
	r := fromDomainCase(*c)
	v[0], v[1], v[2], v[3], v[4], v[5], v[6] = r.ID, r.Status, r.Issue, r.CompanyID, r.UserID, r.PaymentID, nullable(r.MemberID)
	v[7], v[8], v[9], v[10], v[11] = r.CreatedAt, r.UpdatedAt, nullable(r.DueDate), r.CustomerAppealed, r.MerchantAppealed
	v[12], v[13], v[14], v[15], v[16] = nullable(r.Outcome), nullable(r.Refund), nullable(r.DecidedBy), r.InfoRequests, r.PaymentRefunded
	v[17], v[18] = r.Version, r.EventCount
}

func eventValues(e *dispute.Event, v []any) {
	r := fromDomainEvent(*e)
	v[0], v[1], v[2], v[3], v[4], v[5] = r.ID, r.ResolutionID, r.Position, r.Action, r.ReporterType, nullable(r.Details)
	v[6], v[7], v[8], v[9], v[10] = r.FromStatus, r.ToStatus, r.ViewableByCustomer, r.ViewableByMerchant, r.CreatedAt
}

// bunWriter inserts through bun, many rows per statement, one transaction per batch.
// It serves SQLite, whose bun dialect then formats values exactly as the server's
// own writes do.
type bunWriter struct {
	d *DB
}

func (w *bunWriter) Close() {}

func (w *bunWriter) Parallel() int { return 1 }

func (w *bunWriter) Finish(context.Context) error { return nil }

func (w *bunWriter) WriteReferences(ctx context.Context, companies []Company, users []User, team []TeamMember) error {
	return w.d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := insertRows(ctx, tx, companies, fromCompany); err != nil {
			return err
		}
		if err := insertRows(ctx, tx, users, fromUser); err != nil {
			return err
		}
		return insertRows(ctx, tx, team, fromTeamMember)
	})
}

func (w *bunWriter) WriteBatch(ctx context.Context, b *BulkBatch) error {
	return w.d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := insertRows(ctx, tx, b.Memberships, fromMembership); err != nil {
			return err
		}
		if err := insertRows(ctx, tx, b.Payments, fromPayment); err != nil {
			return err
		}
		if err := insertRows(ctx, tx, b.Cases, fromDomainCase); err != nil {
			return err
		}
		if err := insertRows(ctx, tx, b.Events, fromDomainEvent); err != nil {
			return err
		}
		return addCounts(ctx, tx, b.counts())
	})
}

// insertChunk is the number of rows per INSERT statement.
const insertChunk = 500

// insertRows converts records to rows and inserts them, insertChunk per statement.
func insertRows[T, R any](ctx context.Context, tx bun.Tx, recs []T, row func(T) R) error {
	rows := make([]R, 0, min(len(recs), insertChunk))
	for len(recs) > 0 {
		n := min(len(recs), insertChunk)
		rows = rows[:0]
		for _, r := range recs[:n] {
			rows = append(rows, row(r))
		}
		if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}
