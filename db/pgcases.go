package db

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"resolutioncenter/dispute"
)

// Reading whole case rows on PostgreSQL without bun's reflection: the SELECT is still
// built by bun from the one copy of the scope, filter and keyset rules (resolutions.go),
// with its arguments as parameters, so that its text is the same from request to
// request and pgx's statement cache prepares it once per connection (PostgreSQL then
// neither parses nor plans it again); the rows come back in binary and are decoded
// here. A page of cases is the first read of every list.

// caseColumns are resolutionRow's columns in the order bun selects them.
var caseColumns = []uint32{oidText, oidText, oidText, oidText, oidText, oidText, oidText, oidTimestamptz, oidTimestamptz,
	oidTimestamptz, oidBool, oidBool, oidText, oidText, oidText, oidInt4, oidBool, oidInt4, oidInt4}

// sqlArgs writes the arguments of the rules' conditions: inline, formatted into the
// text by bun (nil sqlArgs: SQLite, and PostgreSQL outside selectCases), or as
// PostgreSQL parameters ($1, $2, ...) collected in params.
type sqlArgs struct {
	params []any
}

// arg returns what to pass bun for a ? of value v.
func (a *sqlArgs) arg(v any) any {
	if a == nil {
		return v
	}
	a.params = append(a.params, v)
	return pgParam{n: len(a.params), cast: pgCast(v)}
}

// in returns a condition that col is one of list, and its argument.
//
// A list of one is written col = ?: PostgreSQL walks an index led by col in the
// order of its next columns only for an equality, not for = ANY(array) (the array's
// length is unknown to a generic plan). A company's waiting cases by deadline then
// read the first page off resolutions_company_due_idx instead of sorting every
// waiting case of the company: 0.9 s -> under a millisecond for a company with
// 70,000 cases.
func (a *sqlArgs) in(col string, list []string) (string, any) {
	if len(list) == 1 {
		return col + " = ?", a.arg(list[0])
	}
	if a == nil {
		return col + " IN (?)", bun.List(list)
	}
	return col + " = ANY(?)", a.arg(list)
}

// pgParam is a parameter's place in the text: $n with the type it is sent as.
type pgParam struct {
	n    int
	cast string
}

func (p pgParam) AppendQuery(_ schema.QueryGen, b []byte) ([]byte, error) {
	b = strconv.AppendInt(append(b, '$'), int64(p.n), 10)
	return append(b, p.cast...), nil
}

func pgCast(v any) string {
	switch v.(type) {
	case time.Time:
		return "::timestamptz"
	case []string:
		return "::text[]"
	case int, int64:
		return "::bigint"
	}
	return "::text"
}

func strs[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}

// selectCases runs the case SELECT that build makes of bun's query on resolutions AS r.
func (d *DB) selectCases(ctx context.Context, build func(*bun.SelectQuery, *sqlArgs) *bun.SelectQuery) ([]resolutionRow, error) {
	if d.pool == nil {
		var rows []resolutionRow
		if err := build(d.bun.NewSelect().Model(&rows), nil).Scan(ctx); err != nil {
			return nil, mapErr(err)
		}
		return rows, nil
	}
	a := &sqlArgs{}
	q := build(d.bun.NewSelect().Model((*resolutionRow)(nil)), a)
	query, err := q.AppendQuery(d.bun.QueryGen(), nil)
	if err != nil {
		return nil, err
	}
	var rows []resolutionRow
	st := &pgStatement{name: "cases", sql: string(query), oids: caseColumns}
	err = d.pgQuery(ctx, st, a.params, func(v [][]byte) error {
		rows = append(rows, resolutionRow{ID: string(v[0]), Status: intern(v[1], statusNames), Issue: intern(v[2], issueNames),
			CompanyID: string(v[3]), UserID: string(v[4]), PaymentID: string(v[5]), MemberID: string(v[6]),
			CreatedAt: pgTime(v[7]), UpdatedAt: pgTime(v[8]), DueDate: pgTime(v[9]),
			CustomerAppealed: pgBool(v[10]), MerchantAppealed: pgBool(v[11]), Outcome: intern(v[12], outcomeNames),
			Refund: intern(v[13], refundNames), DecidedBy: intern(v[14], actorNames), InfoRequests: int(pgInt4(v[15])),
			PaymentRefunded: pgBool(v[16]), Version: int(pgInt4(v[17])), EventCount: int(pgInt4(v[18]))})
		return nil
	})
	return rows, mapErr(err)
}

// pgQuery runs one statement through pgx's statement cache (prepared once per
// connection and text) and hands each row to row.
func (d *DB) pgQuery(ctx context.Context, st *pgStatement, params []any, row func([][]byte) error) error {
	return d.hooked(ctx, st.sql, func() error {
		rows, err := d.pool.Query(ctx, st.sql, append([]any{pgx.QueryExecModeCacheStatement}, params...)...)
		if err != nil {
			return err
		}
		return readRows(pgxRows{rows}, st, row)
	})
}

// pgxRows reads pgx.Rows as readRows reads a result.
type pgxRows struct{ pgx.Rows }

func (r pgxRows) NextRow() bool    { return r.Next() }
func (r pgxRows) Values() [][]byte { return r.RawValues() }
func (r pgxRows) Close() (pgconn.CommandTag, error) {
	r.Rows.Close()
	return r.CommandTag(), r.Err()
}

// The domain's wire names, to decode them without allocating a string per row.
var (
	statusNames  = names(dispute.Statuses)
	issueNames   = names(dispute.Issues)
	outcomeNames = names([]dispute.Outcome{dispute.OutcomeCustomerWon, dispute.OutcomeMerchantWon, dispute.OutcomeWithdrawn})
	refundNames  = names([]dispute.Refund{dispute.RefundNone, dispute.RefundMerchant, dispute.RefundPlatform})
	actorNames   = names([]dispute.Actor{dispute.ActorCustomer, dispute.ActorMerchant, dispute.ActorPlatform, dispute.ActorSystem})
	eventNames   = names([]dispute.EventAction{dispute.EventCreated, dispute.EventResponded, dispute.EventAccepted,
		dispute.EventDenied, dispute.EventAppealed, dispute.EventWithdrew, dispute.EventRequestedMoreInfo, dispute.EventEscalated,
		dispute.EventDisputeOpened, dispute.EventDisputeCustomerWon, dispute.EventDisputeMerchantWon})
)

func names[T ~string](list []T) map[string]string {
	m := make(map[string]string, len(list))
	for _, v := range list {
		m[string(v)] = string(v)
	}
	return m
}

// intern returns b as a string, the shared copy when it is one of known.
func intern(b []byte, known map[string]string) string {
	if s, ok := known[string(b)]; ok {
		return s
	}
	return string(b)
}
