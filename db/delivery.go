package db

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
)

// The delivery side of the outbox: claiming deliveries and recording attempts, in
// batches. A batch may mix the deliveries of many changes, cases and endpoints (the
// webhook workers merge what their concurrent jobs need), so that a burst of changes
// costs a few statements, not a few per delivery. On PostgreSQL a claim batch is one
// statement and a batch of successful attempts another, both prepared once per
// connection (their text is fixed; arrays carry the batch); on SQLite each batch is one
// transaction behind the single-writer gate.

// DeliveryRef names a delivery and its place in its case's order to its endpoint.
type DeliveryRef struct {
	ID         string `json:"delivery_id"`
	EndpointID string `json:"endpoint_id"`
	CaseID     string `json:"case_id"`
	Position   int    `json:"position"`
	Ordinal    int    `json:"ordinal"`
}

// Ref returns the delivery's reference.
func (d WebhookDelivery) Ref() DeliveryRef {
	return DeliveryRef{ID: d.ID, EndpointID: d.EndpointID, CaseID: d.CaseID, Position: d.Position, Ordinal: d.Ordinal}
}

// before reports whether r comes before o in its case's order to its endpoint.
func (r DeliveryRef) before(o DeliveryRef) bool {
	return r.Position < o.Position || r.Position == o.Position && r.Ordinal < o.Ordinal
}

// Claim is what a claim found for one ref: a delivery to send now (leased to the
// caller until the lease ends, with its message), or Done (nothing left to do up to the
// ref), or WaitUntil (an earlier delivery of the same case to the same endpoint, or the
// ref itself, is being sent or waits for its retry: try again then).
type Claim struct {
	Delivery  WebhookDelivery
	Done      bool
	WaitUntil time.Time
}

// leasedRecheck is how soon a claim blocked by a delivery in flight looks again.
const leasedRecheck = 200 * time.Millisecond

// ClaimWebhookDeliveries takes, for each ref, the next delivery to send on the way to
// delivering it: the earliest pending delivery of the same case to the same endpoint
// (the ref itself when it is the first), so that one case's deliveries reach an
// endpoint in commit order. A delivery taken is leased until now+lease: no other worker
// sends it meanwhile (a concurrent claim waits for the row lock, then sees the lease),
// and a worker that died holding it is replaced once the lease ends. Refs of one case
// and endpoint share its one head: the earliest of them gets it, the later ones wait.
// The claims come back in the order of refs.
func (d *DB) ClaimWebhookDeliveries(ctx context.Context, refs []DeliveryRef, now time.Time, lease time.Duration) ([]Claim, error) {
	out := make([]Claim, len(refs))
	if len(refs) == 0 {
		return out, nil
	}
	// One lookup per case and endpoint, up to the latest ref of the pair, in a fixed
	// order (case, endpoint): concurrent batches lock heads in the same order.
	type pair struct{ endpoint, caseID string }
	latest := map[pair]DeliveryRef{}
	for _, r := range refs {
		k := pair{r.EndpointID, r.CaseID}
		if l, ok := latest[k]; !ok || l.before(r) {
			latest[k] = r
		}
	}
	groups := make([]DeliveryRef, 0, len(latest))
	for _, r := range latest {
		groups = append(groups, r)
	}
	slices.SortFunc(groups, func(a, b DeliveryRef) int {
		return cmp.Or(cmp.Compare(a.CaseID, b.CaseID), cmp.Compare(a.EndpointID, b.EndpointID))
	})
	var heads []headClaim
	var err error
	if d.Engine == Postgres {
		heads, err = d.pgClaim(ctx, groups, now, lease)
	} else {
		heads, err = d.sqliteClaim(ctx, groups, now, lease)
	}
	if err != nil {
		return nil, err
	}
	byPair := make(map[pair]headClaim, len(heads))
	for _, h := range heads {
		byPair[pair{h.ref.EndpointID, h.ref.CaseID}] = h
	}
	// Hand each head to the earliest ref at or after it; the other refs of the pair
	// wait for it.
	given := map[pair]bool{}
	order := make([]int, len(refs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ra, rb := refs[a], refs[b]
		return cmp.Or(cmp.Compare(ra.Position, rb.Position), cmp.Compare(ra.Ordinal, rb.Ordinal))
	})
	for _, i := range order {
		r := refs[i]
		k := pair{r.EndpointID, r.CaseID}
		h, ok := byPair[k]
		switch {
		case !ok || !h.found || r.before(h.head):
			out[i].Done = true // nothing pending up to r
		case given[k] || !h.claimed:
			out[i].WaitUntil = now.Add(leasedRecheck)
			if h.next.After(out[i].WaitUntil) {
				out[i].WaitUntil = h.next
			}
		default:
			given[k] = true
			out[i].Delivery = h.delivery
		}
	}
	return out, nil
}

// headClaim is what a claim found for one case and endpoint up to ref: its head (the
// earliest pending delivery), and whether it was leased to the caller (delivery) or
// when it may next be tried.
type headClaim struct {
	ref      DeliveryRef
	found    bool
	head     DeliveryRef
	claimed  bool
	delivery WebhookDelivery
	next     time.Time
}

// pgClaimQuery finds, locks and (when free and due) leases the head of each case and
// endpoint in one statement, with the claimed deliveries' messages: a change's data
// once per batch (it is the bulk of the message; the other deliveries of the change
// share it). The lateral lookup runs per ref in the order given, so heads are locked in
// that order. The rows to lease are then named by their tuple IDs (the heads are locked,
// so these stay put; the usual idiom of queues on PostgreSQL), never by a join: the plan
// is a TID lookup whatever the table's statistics say (a join planned on the statistics
// of a table analyzed while empty scanned a whole index for every claim).
const pgClaimQuery = `WITH refs AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[]) WITH ORDINALITY AS r(endpoint_id, case_id, position, ordinal, n)
), heads AS (
  SELECT r.n, h.ctid AS row, h.id, h.position, h.ordinal, h.next_attempt_at FROM refs AS r CROSS JOIN LATERAL (
    SELECT w.ctid, w.id, w.position, w.ordinal, w.next_attempt_at FROM webhook_deliveries AS w
    WHERE w.endpoint_id = r.endpoint_id AND w.case_id = r.case_id AND w.status = 'pending'
      AND (w.position < r.position OR (w.position = r.position AND w.ordinal <= r.ordinal))
    ORDER BY w.position, w.ordinal LIMIT 1 FOR NO KEY UPDATE) AS h
), claimed AS (
  UPDATE webhook_deliveries AS w SET lease_until = $5, attempts = w.attempts + 1
  WHERE w.ctid = ANY(ARRAY(SELECT row FROM heads))
    AND (w.lease_until IS NULL OR w.lease_until <= $6) AND (w.next_attempt_at IS NULL OR w.next_attempt_at <= $6)
  RETURNING w.id, w.endpoint_id, w.company_id, w.case_id, w.position, w.ordinal, w.event_type, w.attempts, w.created_at
)
SELECT h.n, h.position, h.ordinal, h.next_attempt_at, c.id, c.endpoint_id, c.company_id, c.case_id, c.event_type,
  c.attempts, c.created_at,
  CASE WHEN row_number() OVER (PARTITION BY c.case_id, c.position ORDER BY h.n) = 1 THEN m.data END, m.previous_attributes
FROM heads AS h LEFT JOIN claimed AS c ON c.id = h.id
LEFT JOIN webhook_messages AS m ON m.case_id = c.case_id AND m.position = c.position`

func (d *DB) pgClaim(ctx context.Context, groups []DeliveryRef, now time.Time, lease time.Duration) ([]headClaim, error) {
	n := len(groups)
	eps, cases, positions, ordinals := make([]string, n), make([]string, n), make([]int32, n), make([]int32, n)
	for i, g := range groups {
		eps[i], cases[i], positions[i], ordinals[i] = g.EndpointID, g.CaseID, int32(g.Position), int32(g.Ordinal)
	}
	out := make([]headClaim, n)
	for i, g := range groups {
		out[i].ref = g
	}
	type change struct {
		caseID   string
		position int
	}
	data := map[change]string{}
	err := d.pgStatement(ctx, pgClaimQuery, []any{eps, cases, positions, ordinals, now.Add(lease), now}, func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				idx                 int64
				pos, ord            int32
				next                *time.Time
				id, ep, co, cs, typ *string
				attempts            *int32
				created             *time.Time
				msg, previous       *string
			)
			if err := rows.Scan(&idx, &pos, &ord, &next, &id, &ep, &co, &cs, &typ, &attempts, &created, &msg, &previous); err != nil {
				return err
			}
			h := &out[idx-1]
			h.found = true
			h.head = DeliveryRef{EndpointID: h.ref.EndpointID, CaseID: h.ref.CaseID, Position: int(pos), Ordinal: int(ord)}
			if next != nil {
				h.next = next.UTC()
			}
			if id == nil {
				continue
			}
			h.claimed = true
			h.head.ID = *id
			h.delivery = WebhookDelivery{ID: *id, EndpointID: *ep, CompanyID: *co, CaseID: *cs, Position: int(pos),
				Ordinal: int(ord), EventType: *typ, Status: DeliveryPending, Attempts: int(*attempts), CreatedAt: created.UTC(),
				Previous: deref(previous)}
			if msg != nil {
				data[change{*cs, int(pos)}] = *msg
			}
		}
		return rows.Err()
	})
	until := now.Add(lease)
	for i := range out {
		if h := &out[i]; h.claimed {
			h.delivery.Data = data[change{h.delivery.CaseID, h.delivery.Position}]
			h.delivery.LeaseUntil = &until
		}
	}
	return out, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// headQuery selects the earliest pending delivery of ref's case to ref's endpoint, up
// to ref itself.
const headQuery = `SELECT id FROM webhook_deliveries WHERE endpoint_id = ? AND case_id = ? AND status = 'pending'
 AND (position < ? OR (position = ? AND ordinal <= ?)) ORDER BY position, ordinal LIMIT 1`

// sqliteClaim claims each group's head in one transaction (the single writer orders
// it against every other claim).
func (d *DB) sqliteClaim(ctx context.Context, groups []DeliveryRef, now time.Time, lease time.Duration) ([]headClaim, error) {
	out := make([]headClaim, len(groups))
	claim := `UPDATE webhook_deliveries SET lease_until = ?, attempts = attempts + 1 WHERE id = (` + headQuery + `)
 AND (lease_until IS NULL OR lease_until <= ?) AND (next_attempt_at IS NULL OR next_attempt_at <= ?) RETURNING id`
	err := d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for i, g := range groups {
			out[i] = headClaim{ref: g}
			var ids []string
			if err := tx.NewRaw(claim, now.Add(lease), g.EndpointID, g.CaseID, g.Position, g.Position, g.Ordinal, now, now).
				Scan(ctx, &ids); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return mapErr(err)
			}
			if len(ids) == 1 {
				var r webhookDeliveryRow
				if err := withMessage(tx.NewSelect().Model(&r)).Where("wd.id = ?", ids[0]).Scan(ctx); err != nil {
					return mapErr(err)
				}
				out[i].found, out[i].claimed, out[i].delivery = true, true, toWebhookDelivery(r)
				out[i].head = out[i].delivery.Ref()
				// The value written, as the caller will name it (the fencing token).
				until := now.Add(lease)
				out[i].delivery.LeaseUntil = &until
				continue
			}
			var heads []webhookDeliveryRow
			err := tx.NewRaw(`SELECT * FROM webhook_deliveries WHERE id = (`+headQuery+`)`,
				g.EndpointID, g.CaseID, g.Position, g.Position, g.Ordinal).Scan(ctx, &heads)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return mapErr(err)
			}
			if len(heads) == 1 {
				h := toWebhookDelivery(heads[0])
				out[i].found, out[i].head = true, h.Ref()
				if h.NextAttemptAt != nil {
					out[i].next = *h.NextAttemptAt
				}
			}
		}
		return nil
	})
	return out, err
}

// AttemptResult says what an attempt means for its delivery and endpoint.
type AttemptResult struct {
	EndpointID string
	Attempt    WebhookAttempt
	// LeaseUntil is the lease the attempt was sent under (the claimed delivery's
	// LeaseUntil). The attempt is always logged, but the delivery's status changes only
	// while the delivery still holds that lease: a record that comes after the lease ran
	// out, when another worker may have claimed the delivery again (or a redelivery
	// requeued it), leaves the delivery to its new holder.
	LeaseUntil time.Time
	// Status is the delivery's new status; NextAttemptAt when it stays pending.
	Status        string
	NextAttemptAt time.Time
	// DisableReason, when set, disables the endpoint.
	DisableReason string
}

// pgRecordDelivered logs successful attempts, marks their deliveries delivered and
// ends their endpoints' runs of failures, in one statement (the IDs as an array too, so
// that the update is an index lookup under any statistics). It first locks its
// deliveries in the order claims lock heads, by case and endpoint (byte order, as the
// claims' refs are sorted in Go): updated in the order of the batch, a record holding
// one case's delivery and waiting for another's deadlocked with a claim that held the
// second as its head and waited for the first, and each deadlock stalled both batches
// for deadlock_timeout (1 s) before PostgreSQL broke it (16 in half an hour of the
// webhooks benchmark; TestRecordLocksInClaimOrder).
const pgRecordDelivered = `WITH v AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::int[], $5::int[], $6::text[], $8::timestamptz[])
    AS v(id, delivery_id, attempted_at, status_code, latency_ms, excerpt, lease_until)
), locked AS MATERIALIZED (
  SELECT w.id FROM webhook_deliveries AS w WHERE w.id = ANY($2::text[])
  ORDER BY w.case_id COLLATE "C", w.endpoint_id COLLATE "C" FOR NO KEY UPDATE
), attempt AS (
  INSERT INTO webhook_attempts (id, delivery_id, attempted_at, success, status_code, latency_ms, response_excerpt)
  SELECT id, delivery_id, attempted_at, true, status_code, latency_ms, nullif(excerpt, '') FROM v
), healthy AS (
  UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ANY($7::text[]) AND failing_since IS NOT NULL
)
UPDATE webhook_deliveries AS w SET status = 'delivered', lease_until = NULL, last_status_code = v.status_code,
  last_error = NULL, delivered_at = v.attempted_at
FROM v WHERE w.id = v.delivery_id AND w.lease_until = v.lease_until AND w.id = ANY(ARRAY(SELECT id FROM locked))`

// RecordWebhookAttempts logs attempts, releases their deliveries' leases with their new
// status, and keeps each endpoint's run of failures (FailingSince) up to date. On
// PostgreSQL the successes are one statement and each other result a transaction of
// its own; on SQLite the batch is one transaction. An attempt whose delivery is gone
// (deleted with its endpoint meanwhile) is dropped; should the batch fail on it, the
// others are recorded one by one, so that none of them is sent again for its sake.
func (d *DB) RecordWebhookAttempts(ctx context.Context, results []AttemptResult) error {
	err := d.recordAttempts(ctx, results)
	if err == nil || len(results) < 2 || ctx.Err() != nil {
		if dispute.CodeOf(err) == dispute.CodeNotFound {
			return nil
		}
		return err
	}
	var errs []error
	for _, r := range results {
		if err := d.recordAttempts(ctx, []AttemptResult{r}); err != nil && dispute.CodeOf(err) != dispute.CodeNotFound {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (d *DB) recordAttempts(ctx context.Context, results []AttemptResult) error {
	if len(results) == 0 {
		return nil
	}
	if d.Engine != Postgres {
		return d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			for _, r := range results {
				if err := recordAttempt(ctx, tx, r); err != nil {
					return err
				}
			}
			return nil
		})
	}
	var ok []AttemptResult
	for _, r := range results {
		if r.Status == DeliveryDelivered && r.DisableReason == "" {
			ok = append(ok, r)
			continue
		}
		if err := d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error { return recordAttempt(ctx, tx, r) }); err != nil {
			return err
		}
	}
	if len(ok) == 0 {
		return nil
	}
	n := len(ok)
	ids, deliveries, excerpts := make([]string, n), make([]string, n), make([]string, n)
	at, leases, codes, latencies := make([]time.Time, n), make([]time.Time, n), make([]int32, n), make([]int32, n)
	var endpoints []string
	for i, r := range ok {
		a := r.Attempt
		ids[i], deliveries[i], excerpts[i] = a.ID, a.DeliveryID, a.ResponseExcerpt
		at[i], leases[i], codes[i], latencies[i] = a.AttemptedAt, r.LeaseUntil, int32(a.StatusCode), int32(a.LatencyMS)
		if !slices.Contains(endpoints, r.EndpointID) {
			endpoints = append(endpoints, r.EndpointID)
		}
	}
	return d.pgStatement(ctx, pgRecordDelivered, []any{ids, deliveries, at, codes, latencies, excerpts, endpoints, leases}, nil)
}

// RecordWebhookAttempt records one attempt (RecordWebhookAttempts of one).
func (d *DB) RecordWebhookAttempt(ctx context.Context, r AttemptResult) error {
	return d.RecordWebhookAttempts(ctx, []AttemptResult{r})
}

// recordAttempt logs an attempt, sets its delivery's status and its endpoint's run of
// failures (or disables it) inside tx.
func recordAttempt(ctx context.Context, tx bun.Tx, r AttemptResult) error {
	a := r.Attempt
	row := webhookAttemptRow{ID: a.ID, DeliveryID: a.DeliveryID, AttemptedAt: a.AttemptedAt, Success: a.Success,
		StatusCode: a.StatusCode, LatencyMS: a.LatencyMS, ResponseExcerpt: a.ResponseExcerpt, Error: a.Error}
	if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
		return mapErr(err)
	}
	q := tx.NewUpdate().Model((*webhookDeliveryRow)(nil)).Set("status = ?", r.Status).Set("lease_until = NULL").
		Set("last_status_code = ?", nullInt(a.StatusCode)).Set("last_error = ?", nullStr(a.Error)).
		Where("id = ?", a.DeliveryID).Where("lease_until = ?", r.LeaseUntil)
	if r.Status == DeliveryDelivered {
		q = q.Set("delivered_at = ?", a.AttemptedAt)
	}
	if r.Status == DeliveryPending {
		q = q.Set("next_attempt_at = ?", r.NextAttemptAt)
	}
	if _, err := q.Exec(ctx); err != nil {
		return mapErr(err)
	}
	eq := tx.NewUpdate().Model((*webhookEndpointRow)(nil)).Where("id = ?", r.EndpointID)
	switch {
	case r.DisableReason != "":
		eq = eq.Set("disabled_at = ?", a.AttemptedAt).Set("disabled_reason = ?", r.DisableReason).
			Set("updated_at = ?", a.AttemptedAt)
	case a.Success:
		eq = eq.Set("failing_since = NULL").Where("failing_since IS NOT NULL")
	default:
		eq = eq.Set("failing_since = ?", a.AttemptedAt).Where("failing_since IS NULL")
	}
	_, err := eq.Exec(ctx)
	return mapErr(err)
}

// uncountClaim takes back the attempt a claim counted, for a claimed delivery that was
// not sent (attemptCount is the attempts made).
const uncountClaim = "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"

// FailWebhookDelivery ends a leased delivery as failed without an attempt (its endpoint
// was disabled), with the reason as its last error, if it still holds the lease leased
// (see AttemptResult.LeaseUntil). Its claim is not counted as an attempt.
func (d *DB) FailWebhookDelivery(ctx context.Context, id string, leased time.Time, reason string) error {
	return d.inWrite(ctx, func(ctx context.Context, idb bun.IDB) error {
		_, err := idb.NewUpdate().Model((*webhookDeliveryRow)(nil)).Set("status = ?", DeliveryFailed).
			Set("lease_until = NULL").Set(uncountClaim).Set("last_error = ?", reason).
			Where("id = ?", id).Where("lease_until = ?", leased).Exec(ctx)
		return mapErr(err)
	})
}

// ReleaseWebhookDeliveries gives back the leases of claimed deliveries that were not
// sent (no slot at their endpoint within the lease, or the process is stopping): each
// is free to be claimed again at once, and its claim no longer counts as an attempt. A
// delivery no longer holding the lease it was claimed with is left alone.
func (d *DB) ReleaseWebhookDeliveries(ctx context.Context, list []WebhookDelivery) error {
	return d.inWrite(ctx, func(ctx context.Context, idb bun.IDB) error {
		for _, del := range list {
			if del.LeaseUntil == nil {
				continue
			}
			_, err := idb.NewUpdate().Model((*webhookDeliveryRow)(nil)).Set("lease_until = NULL").Set(uncountClaim).
				Where("id = ?", del.ID).Where("lease_until = ?", *del.LeaseUntil).Exec(ctx)
			if err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

// inWrite runs fn as one write: on PostgreSQL straight on the pool (fn's statements
// each commit on their own), on SQLite in a transaction behind the single-writer gate.
func (d *DB) inWrite(ctx context.Context, fn func(ctx context.Context, idb bun.IDB) error) error {
	if d.Engine == Postgres {
		return fn(ctx, d.bun)
	}
	return d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error { return fn(ctx, tx) })
}

// pgStatement runs one statement of fixed text on the pool as a prepared statement (once per
// connection), with the query hooks, handing its rows to scan (nil: none expected).
// A deadlock (which lock ordering makes unlikely, and which rolls the statement back)
// is retried.
func (d *DB) pgStatement(ctx context.Context, query string, args []any, scan func(pgx.Rows) error) error {
	var err error
	for range 3 {
		err = d.hooked(ctx, query, func() error {
			rows, err := d.pool.Query(ctx, query, append([]any{pgx.QueryExecModeCacheStatement}, args...)...)
			if err != nil {
				return err
			}
			if scan != nil {
				err = scan(rows)
			}
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
			return err
		})
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "40P01" {
			break
		}
	}
	return mapErr(err)
}

func nullInt(v int) any {
	if v == 0 {
		return nil
	}
	return v
}

func nullStr(v string) any {
	if v == "" {
		return nil
	}
	return v
}
