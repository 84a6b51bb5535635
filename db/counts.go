package db

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
)

// Case counts. The table case_counts holds, for each company, each customer and the
// whole platform, how many cases it has by status, issue and outcome, so that the
// inbox's tab counts (SummarizeCases) and totalCount (CountCases) read a few dozen rows
// whatever the number of cases. Every write of a case changes them in its own
// transaction: change() for OpenCase and UpdateCase (so the sweeper and chargeback
// records too), the bulk writer for generated data, and the migration that created the
// table for the cases already there. A write that changes no count (a message that
// keeps the status) costs nothing; one that does costs one statement, the last before
// the commit, so that the rows it locks are held for as short a time as possible.
//
// Contention on PostgreSQL: two transactions that move cases of one company from and
// to the same (status, issue) wait for each other's commit at the count rows. The
// platform's rows are spread over slots (by the case ID's last character, 8 of
// them), so they are no hotter than a company's. Every transaction updates its rows
// in one statement, in one order (sorted keys), so they never deadlock. The commits of
// case changes are already serialised by NOTIFY (PostgreSQL takes one lock for the
// notification queue at every notifying commit), so the counts add no new queue.
//
// Reads: a scope's rows are stored together (scope by scope, by the migration and by
// RecountCases, with a fifth of each page free so that updates stay on their page), so
// the platform's summary reads 320 rows on about 7 pages and a company's a few dozen on
// one or two.
//
// Only the server's writes keep the counts: a statement run by hand (Raw, psql) or a
// process of an older build writing after the migration leaves them off. RecountCases
// rebuilds them; CheckCounts compares them with the cases.

// globalScope is the scope of the rows counting every case.
const globalScope = "*"

// caseCountRow is one count: the cases of scope (a company ID, a user ID or
// globalScope) in one slot (globalScope only; "" otherwise) with this status, issue
// and outcome ("" while open).
type caseCountRow struct {
	bun.BaseModel `bun:"table:case_counts,alias:cc"`
	Scope         string `bun:"scope,pk"`
	Slot          string `bun:"slot,pk"`
	Status        string `bun:"status,pk"`
	Issue         string `bun:"issue,pk"`
	Outcome       string `bun:"outcome,pk"`
	N             int64  `bun:"n,notnull"`
}

type countKey struct{ Scope, Slot, Status, Issue, Outcome string }

// countDeltas are changes of counts, summed per key.
type countDeltas map[countKey]int64

// countSlots is the number of rows the platform's count of one (status, issue,
// outcome) is spread over. More slots mean fewer writers waiting for one row but more
// rows for the platform's summary to add up (8 x 40 keys = 320 rows). The migration
// that created the counts filled 8; another number needs RecountCases after the change.
const countSlots = 8

// slotOf is the slot of a case's platform-wide count: the code of its ID's last
// character modulo countSlots (as the migration computes it, with ascii(right(id, 1))
// or unicode(substr(id, -1))). IDs end in random characters, so the writers of
// different cases spread over the slots.
func slotOf(caseID string) string {
	if caseID == "" {
		return ""
	}
	return strconv.Itoa(int(caseID[len(caseID)-1]) % countSlots)
}

// add counts c n times (n = -1 takes it out) in its company's, its customer's and the
// platform's rows.
func (d countDeltas) add(c dispute.Case, n int64) {
	st, is, oc := string(c.Status), string(c.Issue), string(c.Outcome)
	d[countKey{c.CompanyID, "", st, is, oc}] += n
	d[countKey{c.UserID, "", st, is, oc}] += n
	d[countKey{globalScope, slotOf(c.ID), st, is, oc}] += n
}

// rows returns the non-zero changes as rows, in key order: every writer locks the rows
// it changes in the same order.
func (d countDeltas) rows() []caseCountRow {
	out := make([]caseCountRow, 0, len(d))
	for k, n := range d {
		if n != 0 {
			out = append(out, caseCountRow{Scope: k.Scope, Slot: k.Slot, Status: k.Status, Issue: k.Issue, Outcome: k.Outcome, N: n})
		}
	}
	slices.SortFunc(out, compareCountRows)
	return out
}

func compareCountRows(a, b caseCountRow) int {
	return cmp.Or(strings.Compare(a.Scope, b.Scope), strings.Compare(a.Slot, b.Slot), strings.Compare(a.Status, b.Status),
		strings.Compare(a.Issue, b.Issue), strings.Compare(a.Outcome, b.Outcome))
}

// countChange moves a case from before (nil: it is new) to after in the counts.
func countChange(ctx context.Context, db bun.IDB, before *dispute.Case, after dispute.Case) error {
	d := countDeltas{}
	if before != nil {
		d.add(*before, -1)
	}
	d.add(after, 1)
	return addCounts(ctx, db, d.rows())
}

// countChunk is the most count rows per statement.
const countChunk = 1000

// addCounts adds rows to the counts, creating the keys not there yet, in order.
func addCounts(ctx context.Context, db bun.IDB, rows []caseCountRow) error {
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), countChunk)]
		_, err := db.NewInsert().Model(&chunk).
			On("CONFLICT (scope, slot, status, issue, outcome) DO UPDATE").
			Set("n = cc.n + EXCLUDED.n").Exec(ctx)
		if err != nil {
			return mapErr(err)
		}
		rows = rows[len(chunk):]
	}
	return nil
}

// recountQuery computes what case_counts should hold from the cases, as the migration
// that created the table did (scope, slot, status, issue, outcome, n).
func (d *DB) recountQuery() string {
	slots := strconv.Itoa(countSlots)
	if d.Engine == Postgres {
		return `SELECT coalesce(company_id, user_id, '*') AS scope, coalesce(slot, '') AS slot, status, issue, outcome, count(*) AS n
FROM (SELECT company_id, user_id, (ascii(right(id, 1)) % ` + slots + `)::text AS slot, status, issue, coalesce(outcome, '') AS outcome
      FROM resolutions) AS r
GROUP BY GROUPING SETS ((company_id, status, issue, outcome), (user_id, status, issue, outcome), (slot, status, issue, outcome))`
	}
	return `SELECT company_id AS scope, '' AS slot, status, issue, coalesce(outcome, '') AS outcome, count(*) AS n FROM resolutions
GROUP BY company_id, status, issue, coalesce(outcome, '')
UNION ALL
SELECT user_id, '', status, issue, coalesce(outcome, ''), count(*) FROM resolutions GROUP BY user_id, status, issue, coalesce(outcome, '')
UNION ALL
SELECT '*', CAST(unicode(substr(id, -1)) % ` + slots + ` AS TEXT), status, issue, coalesce(outcome, ''), count(*) FROM resolutions
GROUP BY unicode(substr(id, -1)) % ` + slots + `, status, issue, coalesce(outcome, '')`
}

// pgBulkSettings lift, for one transaction, the server's statement timeout (it bounds
// requests, not a pass over every case) and give the recount's hash tables the memory
// that keeps them off the disk (about 230 MB for 1,000,000 cases).
var pgBulkSettings = []string{"SET LOCAL statement_timeout = 0", "SET LOCAL work_mem = '256MB'", "SET LOCAL jit = off"}

// RecountCases rebuilds the counts from the cases, in one transaction that keeps
// writers of cases waiting, and (PostgreSQL) readers of the counts too (a repair after
// writes that bypassed the server; it reads every case).
func (d *DB) RecountCases(ctx context.Context) error {
	return d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		steps := []string{"DELETE FROM case_counts", "INSERT INTO case_counts (scope, slot, status, issue, outcome, n) " + d.recountQuery()}
		if d.Engine == Postgres {
			// As the migration does: rows stored scope by scope, the key built once after them.
			steps = append(append([]string{"LOCK TABLE resolutions IN SHARE MODE"}, pgBulkSettings...),
				"TRUNCATE case_counts", "ALTER TABLE case_counts DROP CONSTRAINT case_counts_pkey",
				"INSERT INTO case_counts (scope, slot, status, issue, outcome, n) SELECT * FROM ("+d.recountQuery()+
					`) AS g ORDER BY scope COLLATE "C"`,
				"ALTER TABLE case_counts ADD PRIMARY KEY (scope, slot, status, issue, outcome)", "ANALYZE case_counts")
		}
		for _, s := range steps {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
}

// ErrCountsDiffer is what CheckCounts returns, wrapped with the differences, when the
// counts are not those of the cases.
var ErrCountsDiffer = errors.New("db: the case counts differ from the cases")

// CheckCounts compares the counts with a recount of the cases, in one snapshot on
// PostgreSQL (on SQLite, behind the single writer), and describes the first
// differences (a count of zero is the same as no row) in an error that wraps
// ErrCountsDiffer. Any other error means it could not tell.
func (d *DB) CheckCounts(ctx context.Context) error {
	var stored, want []caseCountRow
	err := d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if d.Engine == Postgres {
			for _, s := range append([]string{"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"}, pgBulkSettings...) {
				if _, err := tx.ExecContext(ctx, s); err != nil {
					return err
				}
			}
		}
		if err := tx.NewSelect().Model(&stored).Where("n <> 0").Scan(ctx); err != nil {
			return err
		}
		return tx.NewRaw(d.recountQuery()).Scan(ctx, &want)
	})
	if err != nil {
		return fmt.Errorf("db: check the case counts: %w", err)
	}
	diff := countDeltas{}
	for _, r := range stored {
		diff[countKey{r.Scope, r.Slot, r.Status, r.Issue, r.Outcome}] += r.N
	}
	for _, r := range want {
		diff[countKey{r.Scope, r.Slot, r.Status, r.Issue, r.Outcome}] -= r.N
	}
	bad := diff.rows()
	if len(bad) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d counts, stored minus counted:", len(bad))
	for i, r := range bad {
		if i == 10 {
			b.WriteString(" ...")
			break
		}
		fmt.Fprintf(&b, " [%s %s %s %s %q]%+d", r.Scope, r.Slot, r.Status, r.Issue, r.Outcome, r.N)
	}
	return fmt.Errorf("%w: %s", ErrCountsDiffer, b.String())
}
