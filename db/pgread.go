package db

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
)

// The planned executor's reads on PostgreSQL. bun sends every statement through the
// simple protocol with its arguments formatted in, so PostgreSQL parses and plans each
// one, and scans rows by reflection. For the hot read path this file instead sends the
// statements of one level (Reads) as prepared statements in one round trip (pgconn's
// batch: Bind/Execute for each, one Sync), asks for binary results and decodes the few
// column types itself. The statements are the loaders' queries with arrays for the key
// lists; the visibility of events is byRole's, as in ListEvents. Counts of cases are
// CountCases's and SummarizeCases's own statements (pgCounting), which they run the
// same way. Every
// statement still goes through the query hooks (metrics, tracing, statement counts in
// tests).

// pgStatement is a read and the column types it returns. Without a name it is sent
// unnamed (planned for its parameters each time).
type pgStatement struct {
	name string
	sql  string
	oids []uint32
}

// PostgreSQL type OIDs of the columns read here.
const (
	oidBool        = 16
	oidInt8        = 20
	oidInt4        = 23
	oidText        = 25
	oidTimestamptz = 1184
)

var (
	pgCompanies = pgStatement{"rc_read_companies", pgByID("companies", "id, title, route, created_at"),
		[]uint32{oidText, oidText, oidText, oidTimestamptz}}
	pgUsers = pgStatement{"rc_read_users", pgByID("users", "id, name, username, email, created_at"),
		[]uint32{oidText, oidText, oidText, oidText, oidTimestamptz}}
	pgPayments = pgStatement{"rc_read_payments",
		pgByID("payments", "id, user_id, company_id, membership_id, currency, total, subtotal, refunded_amount, status, paid_at, refunded_at, created_at"),
		[]uint32{oidText, oidText, oidText, oidText, oidText, oidInt8, oidInt8, oidInt8, oidText, oidTimestamptz, oidTimestamptz, oidTimestamptz}}
	pgMemberships = pgStatement{"rc_read_memberships", pgByID("memberships", "id, user_id, company_id, status, created_at, canceled_at"),
		[]uint32{oidText, oidText, oidText, oidText, oidTimestamptz, oidTimestamptz}}
	pgDisputants = pgStatement{"rc_read_disputants",
		"SELECT DISTINCT user_id FROM resolutions WHERE user_id = ANY($1::text[]) AND company_id = ANY($2::text[])",
		[]uint32{oidText}}
	// pgEventCounts counts the visible events of each case, by the same groups as pgEvents.
	pgEventCounts = pgStatement{"rc_read_event_counts",
		"SELECT e.resolution_id, count(*) FROM " + pgViews + " JOIN resolution_events AS e " +
			"ON e.resolution_id = v.id AND " + pgVisible + " GROUP BY e.resolution_id",
		[]uint32{oidText, oidInt8}}
	// pgEvents[desc][cursor]: $1 customer's cases, $2 merchant's, $3 platform's (byRole:
	// each group sees the events flagged for it, the platform all), $4 events per case,
	// $5 the cursor's position.
	pgEvents = [2][2]pgStatement{{pgEventsStatement(false, false), pgEventsStatement(false, true)},
		{pgEventsStatement(true, false), pgEventsStatement(true, true)}}
)

// pgViews are the cases of $1 (seen by their customer), $2 (by their merchant) and $3
// (by the platform) as v(id, g), g the group; pgVisible keeps the events of e each
// group may see (byRole's visibility: each side the events flagged for it, the
// platform all).
const (
	pgViews   = "(SELECT unnest($1::text[]) AS id, 1 AS g UNION ALL SELECT unnest($2::text[]), 2 UNION ALL SELECT unnest($3::text[]), 3) AS v"
	pgVisible = "((v.g = 1 AND e.viewable_by_customer) OR (v.g = 2 AND e.viewable_by_merchant) OR v.g = 3)"
)

// pgByID selects cols of the rows of table whose primary key is in $1, one index probe
// per key. The plain "WHERE id = ANY($1)" lets the planner scan a small table instead
// and test every row against every key: on the 500 companies of the 1,000,000-case set
// that took 290 us of the backend's CPU per list page (5,000 text comparisons, a fifth
// of PostgreSQL's work for the page) against 36 us for 20 probes. OFFSET 0 keeps the
// lateral subquery from being flattened into a join the planner could hash.
func pgByID(table, cols string) string {
	return "SELECT r.* FROM unnest($1::text[]) AS k(id) CROSS JOIN LATERAL (SELECT " + cols + " FROM " + table +
		" WHERE id = k.id OFFSET 0) AS r"
}

func pgEventsStatement(desc, cursor bool) pgStatement {
	name, order, cond := "rc_read_events_asc", "ASC", ""
	if desc {
		name, order = "rc_read_events_desc", "DESC"
	}
	if cursor {
		name += "_after"
		cond = " AND e.position > $5"
		if desc {
			cond = " AND e.position < $5"
		}
	}
	// Each case's page is an index range scan of its own timeline stopping at the
	// limit (ListEvents, for SQLite, numbers every visible event of the cases instead).
	cols := "e.id, e.resolution_id, e.position, e.action, e.reporter_type, e.details, e.from_status, e.to_status, " +
		"e.viewable_by_customer, e.viewable_by_merchant, e.created_at"
	return pgStatement{name,
		"SELECT " + cols + " FROM " + pgViews + " CROSS JOIN LATERAL (SELECT * FROM resolution_events AS e " +
			"WHERE e.resolution_id = v.id AND " + pgVisible + cond + " ORDER BY e.position " + order + " LIMIT $4) AS e",
		[]uint32{oidText, oidText, oidInt4, oidText, oidText, oidText, oidText, oidText, oidBool, oidBool, oidTimestamptz}}
}

// pgQueued is one statement of a round trip and what to do with its rows.
type pgQueued struct {
	st     *pgStatement
	params [][]byte
	row    func(v [][]byte) error
}

var binaryResults = []int16{1}

// pgRead runs r's statements on one connection in one round trip.
func (d *DB) pgRead(ctx context.Context, r *Reads, into *ReadSet) error {
	var q []pgQueued
	if len(r.Companies) > 0 {
		q = append(q, pgQueued{&pgCompanies, [][]byte{textArray(r.Companies)}, func(v [][]byte) error {
			c := Company{ID: string(v[0]), Title: string(v[1]), Route: string(v[2]), CreatedAt: pgTime(v[3])}
			into.Companies[c.ID] = c
			return nil
		}})
	}
	if len(r.Users) > 0 {
		q = append(q, pgQueued{&pgUsers, [][]byte{textArray(r.Users)}, func(v [][]byte) error {
			u := User{ID: string(v[0]), Name: string(v[1]), Username: string(v[2]), Email: string(v[3]), CreatedAt: pgTime(v[4])}
			into.Users[u.ID] = u
			return nil
		}})
	}
	if len(r.Payments) > 0 {
		q = append(q, pgQueued{&pgPayments, [][]byte{textArray(r.Payments)}, func(v [][]byte) error {
			into.Payments[string(v[0])] = toPayment(paymentRow{ID: string(v[0]), UserID: string(v[1]), CompanyID: string(v[2]),
				MembershipID: string(v[3]), Currency: string(v[4]), Total: pgInt8(v[5]), Subtotal: pgInt8Ptr(v[6]),
				RefundedAmount: pgInt8(v[7]), Status: string(v[8]), PaidAt: pgTime(v[9]), RefundedAt: pgTime(v[10]), CreatedAt: pgTime(v[11])})
			return nil
		}})
	}
	if len(r.Memberships) > 0 {
		q = append(q, pgQueued{&pgMemberships, [][]byte{textArray(r.Memberships)}, func(v [][]byte) error {
			into.Memberships[string(v[0])] = toMembership(membershipRow{ID: string(v[0]), UserID: string(v[1]), CompanyID: string(v[2]),
				Status: string(v[3]), CreatedAt: pgTime(v[4]), CanceledAt: pgTime(v[5])})
			return nil
		}})
	}
	if len(r.DisputantUsers) > 0 && len(r.DisputantCompanies) > 0 {
		q = append(q, pgQueued{&pgDisputants, [][]byte{textArray(r.DisputantUsers), textArray(r.DisputantCompanies)}, func(v [][]byte) error {
			into.Disputants[string(v[0])] = true
			return nil
		}})
	}
	if len(r.Recent) > 0 {
		// The n most recent, newest first; reversed below, as RecentEvents does.
		q = append(q, pgEventsQueued(r.Recent, EventPage{Limit: r.RecentN - 1, Desc: true}, into.Recent))
	}
	for i, pr := range r.Pages {
		q = append(q, pgEventsQueued(pr.Views, pr.Page, into.Pages[i]))
	}
	if len(r.EventCounts) > 0 {
		customer, merchant, platform := byRole(r.EventCounts)
		caseIDs := knownIDs(r.EventCounts)
		q = append(q, pgQueued{&pgEventCounts, [][]byte{textArray(customer), textArray(merchant), textArray(platform)}, func(v [][]byte) error {
			into.EventCounts[caseIDs.of(v[0])] = int(pgInt8(v[1]))
			return nil
		}})
	}
	for i, c := range r.Counts {
		cq, err := d.pgCounting(c, &into.Counts[i])
		if err != nil {
			return err
		}
		q = append(q, cq)
	}
	if err := d.pgRun(ctx, q); err != nil {
		return mapErr(err)
	}
	for i, pr := range r.Pages {
		travelOrder(into.Pages[i], pr.Views, pr.Page.Desc)
	}
	if len(r.Recent) > 0 {
		travelOrder(into.Recent, r.Recent, true)
		for _, v := range r.Recent {
			evs := into.Recent[v.CaseID]
			for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
				evs[i], evs[j] = evs[j], evs[i]
			}
		}
	}
	return nil
}

// pgEventsQueued reads page p of the timelines of views into out, as ListEvents does.
func pgEventsQueued(views []CaseView, p EventPage, out map[string][]dispute.Event) pgQueued {
	customer, merchant, platform := byRole(views)
	caseIDs := knownIDs(views)
	st := &pgEvents[b2i(p.Desc)][b2i(p.Cursor > 0)]
	params := [][]byte{textArray(customer), textArray(merchant), textArray(platform), strconv.AppendInt(nil, int64(p.Limit+1), 10)}
	if p.Cursor > 0 {
		params = append(params, strconv.AppendInt(nil, int64(p.Cursor), 10))
	}
	return pgQueued{st, params, func(v [][]byte) error {
		e := dispute.Event{ID: string(v[0]), ResolutionID: caseIDs.of(v[1]), Position: int(pgInt4(v[2])),
			Action: dispute.EventAction(intern(v[3], eventNames)), Reporter: dispute.Actor(intern(v[4], actorNames)), Details: string(v[5]),
			FromStatus: dispute.Status(intern(v[6], statusNames)), ToStatus: dispute.Status(intern(v[7], statusNames)),
			ViewableByCustomer: pgBool(v[8]), ViewableByMerchant: pgBool(v[9]), CreatedAt: pgTime(v[10])}
		evs := out[e.ResolutionID]
		if evs == nil { // a case's page holds at most Limit+1 events
			evs = make([]dispute.Event, 0, min(p.Limit+1, 64))
		}
		out[e.ResolutionID] = append(evs, e)
		return nil
	}}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// travelOrder makes sure each case's events are in travel order: the lateral join
// returns them so, but SQL promises no order without an ORDER BY on the whole result.
func travelOrder(m map[string][]dispute.Event, views []CaseView, desc bool) {
	cmp := func(a, b dispute.Event) int {
		if desc {
			return b.Position - a.Position
		}
		return a.Position - b.Position
	}
	for _, v := range views {
		if evs := m[v.CaseID]; !slices.IsSortedFunc(evs, cmp) {
			slices.SortFunc(evs, cmp)
		}
	}
}

// knownIDs returns the case IDs of views, so that events share their case's ID string.
func knownIDs(views []CaseView) idSet {
	m := make(map[string]string, len(views))
	for _, v := range views {
		m[v.CaseID] = v.CaseID
	}
	return idSet(m)
}

type idSet map[string]string

func (k idSet) of(b []byte) string { return intern(b, k) }

// pgCounting queues the counting statement of r with its arguments as parameters, and
// its summary into into. The counts' statement is prepared (named by its text: one per
// shape of scope and filter); a statement over the cases is unnamed, so PostgreSQL
// plans it for the values each time (how much of an index a date range covers decides
// the plan).
func (d *DB) pgCounting(r CountRead, into *Summary) (pgQueued, error) {
	a := &sqlArgs{}
	c := d.counting(r, a)
	b, err := c.query.AppendQuery(d.bun.QueryGen(), nil)
	if err != nil {
		return pgQueued{}, err
	}
	params, err := pgTextParams(a.params)
	if err != nil {
		return pgQueued{}, err
	}
	*into = newSummary()
	f := r.Filter
	switch c.kind {
	case countsRows:
		st := &pgStatement{name: string(b), sql: string(b), oids: []uint32{oidText, oidText, oidText, oidText, oidInt8}}
		return pgQueued{st, params, func(v [][]byte) error {
			c.plan.addRow(into, f, string(v[0]), intern(v[1], statusNames), intern(v[2], issueNames), intern(v[3], outcomeNames),
				int(pgInt8(v[4])))
			return nil
		}}, nil
	case caseGroups:
		st := &pgStatement{sql: string(b), oids: []uint32{oidInt4, oidText, oidText, oidText, oidInt8}}
		return pgQueued{st, params, func(v [][]byte) error {
			into.add(f, r.Scope.role(pgInt4(v[0]) == 1), intern(v[1], statusNames), intern(v[2], issueNames),
				intern(v[3], outcomeNames), int(pgInt8(v[4])))
			return nil
		}}, nil
	}
	return pgQueued{&pgStatement{sql: string(b), oids: []uint32{oidInt8}}, params, func(v [][]byte) error {
		into.Total = int(pgInt8(v[0]))
		return nil
	}}, nil
}

// pgTextParams encodes the parameters sqlArgs collected in PostgreSQL's text format
// (their types are cast in the statement's text: pgCast). Times are written to the
// microsecond, cut as pgx cuts them.
func pgTextParams(params []any) ([][]byte, error) {
	out := make([][]byte, len(params))
	for i, p := range params {
		switch v := p.(type) {
		case string:
			out[i] = []byte(v)
		case []string:
			out[i] = textArray(v)
		case time.Time:
			out[i] = v.UTC().AppendFormat(nil, "2006-01-02 15:04:05.999999Z07:00")
		case int:
			out[i] = strconv.AppendInt(nil, int64(v), 10)
		case int64:
			out[i] = strconv.AppendInt(nil, v, 10)
		default:
			return nil, fmt.Errorf("db: no text encoding for a parameter of type %T", p)
		}
	}
	return out, nil
}

// pgGenericPlans opens every read batch that has named statements. Under the default
// plan_cache_mode (auto) PostgreSQL keeps planning a prepared statement for each
// execution while its generic plan looks dearer than the custom ones, which it does for
// the timeline statement (the generic plan guesses the arrays' lengths); the plans are
// the same, and planning cost as much as running it: 0.12-0.28 ms a page in planning
// against 0.02 with the generic plan (EXPLAIN ANALYZE on the 1M-case set). The setting
// is local: it lasts until the batch's Sync ends its implicit transaction, so the
// connection's other statements (the case pages, whose plans may depend on their
// values) keep auto; unnamed statements are planned for their values whatever the mode.
// It is set_config(..., true) rather than SET LOCAL, which does the same but, outside
// an explicit transaction block, has PostgreSQL log a warning every time (a line in the
// server's log for every read batch).
const pgGenericPlans = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)"

// pgRun prepares the statements on one pooled connection (once per connection: pgx
// keeps them by name; a statement without a name is sent unnamed, parsed and planned
// each time) and runs them in one round trip.
func (d *DB) pgRun(ctx context.Context, q []pgQueued) error {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	c := conn.Conn()
	batch := &pgconn.Batch{}
	generic := slices.ContainsFunc(q, func(s pgQueued) bool { return s.st.name != "" })
	if generic {
		batch.ExecParams(pgGenericPlans, nil, nil, nil, nil)
	}
	for _, s := range q {
		if s.st.name == "" { // planned for its parameters' values, each time
			batch.ExecParams(s.st.sql, s.params, nil, nil, binaryResults)
			continue
		}
		sd, err := c.Prepare(ctx, s.st.name, s.st.sql)
		if err != nil {
			return err
		}
		batch.ExecStatement(sd, s.params, nil, binaryResults)
	}
	events := make([]*bun.QueryEvent, len(q))
	hookCtx := make([]context.Context, len(q))
	for i, s := range q {
		events[i] = &bun.QueryEvent{DB: d.bun, Query: s.st.sql, StartTime: time.Now()}
		hookCtx[i] = d.hooks.BeforeQuery(ctx, events[i])
	}
	mrr := c.PgConn().ExecBatch(ctx, batch)
	var first error
	ended := false
	if generic { // the SET's result
		if !mrr.NextResult() {
			ended = true
			if first = mrr.Close(); first == nil {
				first = errors.New("db: the batch ended early")
			}
		} else if _, err := mrr.ResultReader().Close(); err != nil {
			first = err
		}
	}
	for i, s := range q {
		var err error
		switch {
		case !ended && mrr.NextResult():
			err = readRows(mrr.ResultReader(), s.st, s.row)
		case !ended: // an error ended the batch: Close reports it
			ended = true
			if err = mrr.Close(); err == nil {
				err = errors.New("db: the batch ended early")
			}
		default:
			err = first
		}
		events[i].Err = err
		d.hooks.AfterQuery(hookCtx[i], events[i])
		if err != nil && first == nil {
			first = err
		}
	}
	if !ended {
		if err := mrr.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// resultRows is a result being read: pgconn's ResultReader, or pgx.Rows (pgxRows).
type resultRows interface {
	FieldDescriptions() []pgconn.FieldDescription
	NextRow() bool
	Values() [][]byte
	Close() (pgconn.CommandTag, error)
}

// readRows checks the result's column types and hands each row to row. Text comes in
// either format (the bytes are the same); every other type in binary.
func readRows(rr resultRows, st *pgStatement, row func([][]byte) error) error {
	fds := rr.FieldDescriptions()
	if len(fds) != len(st.oids) {
		if _, err := rr.Close(); err != nil {
			return err // the statement failed (a broken connection...): no columns came
		}
		return fmt.Errorf("db: %s returned %d columns, want %d", st.name, len(fds), len(st.oids))
	}
	for i, fd := range fds {
		if fd.DataTypeOID != st.oids[i] || (fd.Format != pgx.BinaryFormatCode && st.oids[i] != oidText) {
			_, _ = rr.Close()
			return fmt.Errorf("db: %s column %s has type %d (format %d), want %d", st.name, fd.Name, fd.DataTypeOID, fd.Format, st.oids[i])
		}
	}
	for rr.NextRow() {
		v := rr.Values()
		if err := checkWidths(v, st.oids); err != nil {
			_, _ = rr.Close()
			return fmt.Errorf("db: %s: %w", st.name, err)
		}
		if err := row(v); err != nil {
			_, _ = rr.Close()
			return err
		}
	}
	_, err := rr.Close()
	return err
}

// checkWidths refuses binary values whose length does not fit their type, so the
// decoders below can index without checks. NULL is nil.
func checkWidths(v [][]byte, oids []uint32) error {
	for i, b := range v {
		if b == nil {
			continue
		}
		want := -1
		switch oids[i] {
		case oidBool:
			want = 1
		case oidInt4:
			want = 4
		case oidInt8, oidTimestamptz:
			want = 8
		}
		if want >= 0 && len(b) != want {
			return fmt.Errorf("column %d: %d bytes, want %d", i, len(b), want)
		}
	}
	return nil
}

// pgEpoch is PostgreSQL's timestamp epoch; binary timestamptz counts microseconds from it.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// pgTime decodes a binary timestamptz; NULL is the zero time (as bun's nullzero).
func pgTime(b []byte) time.Time {
	if b == nil {
		return time.Time{}
	}
	us := int64(binary.BigEndian.Uint64(b))
	sec, rem := us/1e6, us%1e6
	if rem < 0 {
		sec, rem = sec-1, rem+1e6
	}
	return time.Unix(pgEpoch+sec, rem*1000).UTC()
}

func pgBool(b []byte) bool { return b != nil && b[0] != 0 }

func pgInt4(b []byte) int32 {
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

func pgInt8(b []byte) int64 {
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

func pgInt8Ptr(b []byte) *int64 {
	if b == nil {
		return nil
	}
	v := pgInt8(b)
	return &v
}

// textArray encodes a text[] parameter in PostgreSQL's text format, every element quoted.
func textArray(list []string) []byte {
	n := 2
	for _, s := range list {
		n += len(s) + 3
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		for j := 0; j < len(s); j++ {
			if s[j] == '"' || s[j] == '\\' {
				b = append(b, '\\')
			}
			b = append(b, s[j])
		}
		b = append(b, '"')
	}
	return append(b, '}')
}
