package db

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
	"resolutioncenter/ids"
)

// Webhook endpoints, the delivery outbox and the attempt log. The rules (who may
// register what, which changes produce which deliveries, signing, retries) live in
// package webhook; this file stores them.

type webhookEndpointRow struct {
	bun.BaseModel      `bun:"table:webhook_endpoints,alias:we"`
	ID                 string    `bun:"id,pk"`
	CompanyID          string    `bun:"company_id,nullzero"`
	URL                string    `bun:"url,notnull"`
	Description        string    `bun:"description,nullzero"`
	EventTypes         string    `bun:"event_types,notnull"`
	SecretEnc          string    `bun:"secret_enc,notnull"`
	OldSecretEnc       string    `bun:"old_secret_enc,nullzero"`
	OldSecretExpiresAt time.Time `bun:"old_secret_expires_at,nullzero"`
	DisabledAt         time.Time `bun:"disabled_at,nullzero"`
	DisabledReason     string    `bun:"disabled_reason,nullzero"`
	FailingSince       time.Time `bun:"failing_since,nullzero"`
	CreatedAt          time.Time `bun:"created_at,notnull"`
	UpdatedAt          time.Time `bun:"updated_at,notnull"`
}

type webhookDeliveryRow struct {
	bun.BaseModel  `bun:"table:webhook_deliveries,alias:wd"`
	ID             string    `bun:"id,pk"`
	EndpointID     string    `bun:"endpoint_id,notnull"`
	CompanyID      string    `bun:"company_id,notnull"`
	CaseID         string    `bun:"case_id,notnull"`
	Position       int       `bun:"position,notnull"`
	Ordinal        int       `bun:"ordinal,notnull"`
	EventType      string    `bun:"event_type,notnull"`
	Status         string    `bun:"status,notnull"`
	Attempts       int       `bun:"attempts,notnull"`
	NextAttemptAt  time.Time `bun:"next_attempt_at,nullzero"`
	LeaseUntil     time.Time `bun:"lease_until,nullzero"`
	CreatedAt      time.Time `bun:"created_at,notnull"`
	DeliveredAt    time.Time `bun:"delivered_at,nullzero"`
	LastStatusCode int       `bun:"last_status_code,nullzero"`
	LastError      string    `bun:"last_error,nullzero"`
	// Read with the delivery from its message (webhook_messages), never written here.
	Data     string `bun:"data,scanonly"`
	Previous string `bun:"previous_attributes,scanonly"`
}

// webhookMessageRow is one change as the outbox keeps it: the case as committed (the
// payload's data) and its previous attributes, shared by the change's deliveries.
type webhookMessageRow struct {
	bun.BaseModel `bun:"table:webhook_messages,alias:wm"`
	CaseID        string    `bun:"case_id,pk"`
	Position      int       `bun:"position,pk"`
	CompanyID     string    `bun:"company_id,notnull"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
	Data          string    `bun:"data,notnull"`
	Previous      string    `bun:"previous_attributes,nullzero"`
}

type webhookAttemptRow struct {
	bun.BaseModel   `bun:"table:webhook_attempts,alias:wa"`
	ID              string    `bun:"id,pk"`
	DeliveryID      string    `bun:"delivery_id,notnull"`
	AttemptedAt     time.Time `bun:"attempted_at,notnull"`
	Success         bool      `bun:"success,notnull"`
	StatusCode      int       `bun:"status_code,nullzero"`
	LatencyMS       int       `bun:"latency_ms,notnull"`
	ResponseExcerpt string    `bun:"response_excerpt,nullzero"`
	Error           string    `bun:"error,nullzero"`
}

// WebhookEndpoint is a URL that receives a company's case changes. CompanyID is ""
// for a platform endpoint, which receives every company's changes.
type WebhookEndpoint struct {
	ID          string
	CompanyID   string
	URL         string
	Description string
	EventTypes  []string
	// SecretEnc is the signing secret, encrypted by package webhook; OldSecretEnc the
	// previous one, still signing beside it until OldSecretExpiresAt after a rotation.
	SecretEnc          string
	OldSecretEnc       string
	OldSecretExpiresAt *time.Time
	DisabledAt         *time.Time
	DisabledReason     string
	// FailingSince is when the current run of failed attempts began; nil after a success.
	FailingSince *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// The delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// WebhookDelivery is one message to one endpoint: the outbox row. Its ID is the
// webhook-id header, the same on every attempt. Deliveries of one case to one endpoint
// are sent in (Position, Ordinal) order: the order their changes committed in.
type WebhookDelivery struct {
	ID         string
	EndpointID string
	CompanyID  string
	CaseID     string
	Position   int // the position of the event the change appended
	Ordinal    int // the order among the deliveries of one change (updated before decided)
	EventType  string
	// Data and Previous are the payload's data and previous_attributes (JSON; Previous
	// is "" for created), frozen when the change committed; with the fields above they
	// make the body (webhook.Body).
	Data           string
	Previous       string
	Status         string
	Attempts       int
	NextAttemptAt  *time.Time
	LeaseUntil     *time.Time
	CreatedAt      time.Time
	DeliveredAt    *time.Time
	LastStatusCode int
	LastError      string
}

// WebhookAttempt is one try to deliver: the answer's status (0 without an answer), how
// long it took, the start of the response body and the transport error, if any.
type WebhookAttempt struct {
	ID              string
	DeliveryID      string
	AttemptedAt     time.Time
	Success         bool
	StatusCode      int
	LatencyMS       int
	ResponseExcerpt string
	Error           string
}

func toWebhookEndpoint(r webhookEndpointRow) WebhookEndpoint {
	return WebhookEndpoint{ID: r.ID, CompanyID: r.CompanyID, URL: r.URL, Description: r.Description,
		EventTypes: splitScopes(r.EventTypes), SecretEnc: r.SecretEnc, OldSecretEnc: r.OldSecretEnc,
		OldSecretExpiresAt: timePtr(r.OldSecretExpiresAt), DisabledAt: timePtr(r.DisabledAt),
		DisabledReason: r.DisabledReason, FailingSince: timePtr(r.FailingSince),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func fromWebhookEndpoint(e WebhookEndpoint) webhookEndpointRow {
	return webhookEndpointRow{ID: e.ID, CompanyID: e.CompanyID, URL: e.URL, Description: e.Description,
		EventTypes: strings.Join(e.EventTypes, ","), SecretEnc: e.SecretEnc, OldSecretEnc: e.OldSecretEnc,
		OldSecretExpiresAt: timeVal(e.OldSecretExpiresAt), DisabledAt: timeVal(e.DisabledAt),
		DisabledReason: e.DisabledReason, FailingSince: timeVal(e.FailingSince),
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

func toWebhookDelivery(r webhookDeliveryRow) WebhookDelivery {
	return WebhookDelivery{ID: r.ID, EndpointID: r.EndpointID, CompanyID: r.CompanyID, CaseID: r.CaseID,
		Position: r.Position, Ordinal: r.Ordinal, EventType: r.EventType, Status: r.Status,
		Attempts: r.Attempts, NextAttemptAt: timePtr(r.NextAttemptAt), LeaseUntil: timePtr(r.LeaseUntil),
		CreatedAt: r.CreatedAt.UTC(), DeliveredAt: timePtr(r.DeliveredAt), LastStatusCode: r.LastStatusCode,
		LastError: r.LastError, Data: r.Data, Previous: r.Previous}
}

func fromWebhookDelivery(d WebhookDelivery) webhookDeliveryRow {
	return webhookDeliveryRow{ID: d.ID, EndpointID: d.EndpointID, CompanyID: d.CompanyID, CaseID: d.CaseID,
		Position: d.Position, Ordinal: d.Ordinal, EventType: d.EventType, Status: d.Status,
		Attempts: d.Attempts, NextAttemptAt: timeVal(d.NextAttemptAt), LeaseUntil: timeVal(d.LeaseUntil),
		CreatedAt: d.CreatedAt, DeliveredAt: timeVal(d.DeliveredAt), LastStatusCode: d.LastStatusCode,
		LastError: d.LastError}
}

func toWebhookAttempt(r webhookAttemptRow) WebhookAttempt {
	return WebhookAttempt{ID: r.ID, DeliveryID: r.DeliveryID, AttemptedAt: r.AttemptedAt.UTC(), Success: r.Success,
		StatusCode: r.StatusCode, LatencyMS: r.LatencyMS, ResponseExcerpt: r.ResponseExcerpt, Error: r.Error}
}

var errNoEndpoint = &dispute.Error{Code: dispute.CodeNotFound, Field: "id", Message: "no webhook endpoint with this ID"}

// endpointLockClass is the first key of the transaction advisory locks that make the
// creations of endpoints in one scope (a company, or the platform) take turns on
// PostgreSQL; the second is a hash of the company ID ("" for the platform).
const endpointLockClass = 0x77686570 // "whep"

// CreateWebhookEndpoint stores a new endpoint (its ID is assigned here). When max > 0
// its company may have at most max endpoints (enabled or not), and so may the platform
// (the endpoints with no company): one more is LIMIT_REACHED and nothing is written.
// Creations in one scope take turns (an advisory lock on PostgreSQL, the single writer
// on SQLite), so concurrent ones cannot pass the cap together.
func (d *DB) CreateWebhookEndpoint(ctx context.Context, e WebhookEndpoint, max int) (WebhookEndpoint, error) {
	e.ID = ids.New(ids.WebhookEndpoint)
	r := fromWebhookEndpoint(e)
	err := d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if max > 0 {
			if d.Engine == Postgres {
				if _, err := tx.NewRaw("SELECT pg_advisory_xact_lock(?, hashtext(?))", endpointLockClass, e.CompanyID).Exec(ctx); err != nil {
					return err
				}
			}
			q := tx.NewSelect().Model((*webhookEndpointRow)(nil))
			if e.CompanyID == "" {
				q = q.Where("we.company_id IS NULL")
			} else {
				q = q.Where("we.company_id = ?", e.CompanyID)
			}
			n, err := q.Count(ctx)
			if err != nil {
				return err
			}
			if int(n) >= max {
				return endpointLimit(e.CompanyID, max)
			}
		}
		_, err := tx.NewInsert().Model(&r).Exec(ctx)
		return err
	})
	if err != nil {
		return WebhookEndpoint{}, err
	}
	return toWebhookEndpoint(r), nil
}

// endpointLimit is the refusal of an endpoint over the cap of its scope.
func endpointLimit(companyID string, max int) error {
	msg := fmt.Sprintf("the company has %d webhook endpoints, the most allowed: delete one to add another", max)
	if companyID == "" {
		msg = fmt.Sprintf("there are %d platform-wide webhook endpoints, the most allowed: delete one to add another", max)
	}
	return &dispute.Error{Code: dispute.CodeLimitReached, Message: msg}
}

// WebhookEndpointByID returns an endpoint; NOT_FOUND when there is none.
func (d *DB) WebhookEndpointByID(ctx context.Context, id string) (WebhookEndpoint, error) {
	var r webhookEndpointRow
	err := d.bun.NewSelect().Model(&r).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return WebhookEndpoint{}, errNoEndpoint
	}
	if err != nil {
		return WebhookEndpoint{}, mapErr(err)
	}
	return toWebhookEndpoint(r), nil
}

// UpdateWebhookEndpoint changes an endpoint in one transaction: check and change see
// the row as it is (locked on PostgreSQL), and nothing is written when either fails.
func (d *DB) UpdateWebhookEndpoint(ctx context.Context, id string, check func(WebhookEndpoint) error,
	change func(*WebhookEndpoint) error) (WebhookEndpoint, error) {
	var out WebhookEndpoint
	err := d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var r webhookEndpointRow
		q := tx.NewSelect().Model(&r).Where("id = ?", id)
		if d.Engine == Postgres {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errNoEndpoint
			}
			return mapErr(err)
		}
		e := toWebhookEndpoint(r)
		if err := check(e); err != nil {
			return err
		}
		if err := change(&e); err != nil {
			return err
		}
		e.ID = id
		nr := fromWebhookEndpoint(e)
		if _, err := tx.NewUpdate().Model(&nr).WherePK().ExcludeColumn("id", "created_at").Exec(ctx); err != nil {
			return mapErr(err)
		}
		out = e
		return nil
	})
	return out, err
}

// DeleteWebhookEndpoint deletes an endpoint with its deliveries, their attempts and the
// messages no other endpoint's delivery refers to, after check approves it.
func (d *DB) DeleteWebhookEndpoint(ctx context.Context, id string, check func(WebhookEndpoint) error) error {
	return d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var r webhookEndpointRow
		if err := tx.NewSelect().Model(&r).Where("id = ?", id).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errNoEndpoint
			}
			return mapErr(err)
		}
		if err := check(toWebhookEndpoint(r)); err != nil {
			return err
		}
		// The messages only this endpoint's deliveries refer to go with them.
		if _, err := tx.NewRaw(`DELETE FROM webhook_messages WHERE (case_id, position) IN (SELECT wd.case_id, wd.position
 FROM webhook_deliveries AS wd WHERE wd.endpoint_id = ?) AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS other
 WHERE other.case_id = webhook_messages.case_id AND other.position = webhook_messages.position AND other.endpoint_id <> ?)`,
			id, id).Exec(ctx); err != nil {
			return mapErr(err)
		}
		sub := tx.NewSelect().Model((*webhookDeliveryRow)(nil)).Column("id").Where("endpoint_id = ?", id)
		if _, err := tx.NewDelete().Model((*webhookAttemptRow)(nil)).Where("delivery_id IN (?)", sub).Exec(ctx); err != nil {
			return mapErr(err)
		}
		if _, err := tx.NewDelete().Model((*webhookDeliveryRow)(nil)).Where("endpoint_id = ?", id).Exec(ctx); err != nil {
			return mapErr(err)
		}
		_, err := tx.NewDelete().Model((*webhookEndpointRow)(nil)).Where("id = ?", id).Exec(ctx)
		return mapErr(err)
	})
}

// EndpointFilter selects endpoints: All (the platform) or those of CompanyIDs
// (platform endpoints, with no company, are listed only with All); narrowed to
// CompanyID when set.
type EndpointFilter struct {
	All        bool
	CompanyIDs []string
	CompanyID  string
}

// ListWebhookEndpoints returns up to limit endpoints in ID order after the ID after.
func (d *DB) ListWebhookEndpoints(ctx context.Context, f EndpointFilter, after string, limit int) ([]WebhookEndpoint, error) {
	var rows []webhookEndpointRow
	q := d.bun.NewSelect().Model(&rows).OrderExpr("we.id ASC").Limit(int64(limit))
	if !f.All {
		if len(f.CompanyIDs) == 0 {
			return nil, nil
		}
		q = q.Where("we.company_id IN (?)", bun.List(f.CompanyIDs))
	}
	if f.CompanyID != "" {
		q = q.Where("we.company_id = ?", f.CompanyID)
	}
	if after != "" {
		q = q.Where("we.id > ?", after)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	out := make([]WebhookEndpoint, len(rows))
	for i, r := range rows {
		out[i] = toWebhookEndpoint(r)
	}
	return out, nil
}

// DeliveryFilter narrows an endpoint's deliveries to a status and to one case, each
// when set.
type DeliveryFilter struct {
	Status string
	CaseID string
}

// ListWebhookDeliveries returns up to limit deliveries of an endpoint that pass f,
// newest first, older than the ID before (when set). A case's are found on the case
// index (a case has a few of them), not by stepping through the endpoint's log. They
// come without their message (Data and Previous are ""): a payload is about 14 KB,
// read only when asked for (WebhookMessages).
func (d *DB) ListWebhookDeliveries(ctx context.Context, endpointID string, f DeliveryFilter, before string, limit int) ([]WebhookDelivery, error) {
	var rows []webhookDeliveryRow
	if err := d.listDeliveries(&rows, endpointID, f, before, limit).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	out := make([]WebhookDelivery, len(rows))
	for i, r := range rows {
		out[i] = toWebhookDelivery(r)
	}
	return out, nil
}

// listDeliveries is ListWebhookDeliveries's query, into rows.
func (d *DB) listDeliveries(rows *[]webhookDeliveryRow, endpointID string, f DeliveryFilter, before string, limit int) *bun.SelectQuery {
	endpoint := "wd.endpoint_id = ?"
	if f.CaseID != "" && d.Engine != Postgres {
		// SQLite would walk the endpoint's index backwards (it gives the order) and
		// filter by case, through the whole log: a unary plus keeps the endpoint term off
		// every index, so the case index is taken.
		endpoint = "+wd.endpoint_id = ?"
	}
	q := d.bun.NewSelect().Model(rows).ColumnExpr("wd.*").Where(endpoint, endpointID).OrderExpr("wd.id DESC").Limit(int64(limit))
	if f.Status != "" {
		q = q.Where("wd.status = ?", f.Status)
	}
	if f.CaseID != "" {
		q = q.Where("wd.case_id = ?", f.CaseID)
	}
	if before != "" {
		q = q.Where("wd.id < ?", before)
	}
	return q
}

// messageColumns reads a delivery's message with it.
const messageColumns = "wm.data, wm.previous_attributes"

// withMessage selects deliveries with their message.
func withMessage(q *bun.SelectQuery) *bun.SelectQuery {
	return q.ColumnExpr("wd.*").ColumnExpr(messageColumns).
		Join("JOIN webhook_messages AS wm ON wm.case_id = wd.case_id AND wm.position = wd.position")
}

// WebhookDeliveryByID returns a delivery; NOT_FOUND when there is none.
func (d *DB) WebhookDeliveryByID(ctx context.Context, id string) (WebhookDelivery, error) {
	var r webhookDeliveryRow
	err := withMessage(d.bun.NewSelect().Model(&r)).Where("wd.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return WebhookDelivery{}, &dispute.Error{Code: dispute.CodeNotFound, Field: "deliveryId", Message: "no webhook delivery with this ID"}
	}
	if err != nil {
		return WebhookDelivery{}, mapErr(err)
	}
	return toWebhookDelivery(r), nil
}

// MessageKey names a change's message: the case and the position of the event the
// change appended.
type MessageKey struct {
	CaseID   string
	Position int
}

// WebhookMessage is a change's payload as the outbox keeps it: the data and previous
// attributes of WebhookDelivery.
type WebhookMessage struct {
	Data     string
	Previous string
}

// WebhookMessages returns the messages of the given changes in one statement, keyed
// as asked; a change with no message (purged) is absent.
func (d *DB) WebhookMessages(ctx context.Context, keys []MessageKey) (map[MessageKey]WebhookMessage, error) {
	out := make(map[MessageKey]WebhookMessage, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	var rows []webhookMessageRow
	pairs := make([]string, len(keys))
	args := make([]any, 0, 2*len(keys))
	for i, k := range keys {
		pairs[i] = "(?, ?)"
		args = append(args, k.CaseID, k.Position)
	}
	if err := d.bun.NewSelect().Model(&rows).Column("case_id", "position", "data", "previous_attributes").
		Where("(wm.case_id, wm.position) IN ("+strings.Join(pairs, ", ")+")", args...).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	for _, r := range rows {
		out[MessageKey{r.CaseID, r.Position}] = WebhookMessage{Data: r.Data, Previous: r.Previous}
	}
	return out, nil
}

// WebhookAttempts returns the attempts of the given deliveries, oldest first, keyed by
// delivery ID, at most limit per delivery (the most recent ones), in one statement
// that reads no more than limit rows of each (a delivery redelivered many times has
// more).
func (d *DB) WebhookAttempts(ctx context.Context, deliveryIDs []string, limit int) (map[string][]WebhookAttempt, error) {
	out := make(map[string][]WebhookAttempt, len(deliveryIDs))
	if len(deliveryIDs) == 0 {
		return out, nil
	}
	var rows []webhookAttemptRow
	ranked := d.bun.NewSelect().Model((*webhookAttemptRow)(nil)).ColumnExpr("wa.*").
		ColumnExpr("row_number() OVER (PARTITION BY wa.delivery_id ORDER BY wa.attempted_at DESC, wa.id DESC) AS rn").
		Where("wa.delivery_id IN (?)", bun.List(deliveryIDs))
	if err := d.bun.NewSelect().Model(&rows).ModelTableExpr("(?) AS wa", ranked).
		Column("id", "delivery_id", "attempted_at", "success", "status_code", "latency_ms", "response_excerpt", "error").
		Where("wa.rn <= ?", limit).OrderExpr("wa.delivery_id, wa.attempted_at DESC, wa.id DESC").Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	for _, r := range rows {
		out[r.DeliveryID] = append(out[r.DeliveryID], toWebhookAttempt(r))
	}
	for id, list := range out {
		for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
			list[i], list[j] = list[j], list[i]
		}
		out[id] = list
	}
	return out, nil
}

// WebhookBacklog returns how many deliveries are pending and when the oldest of them
// was created (zero when none), for metrics.
func (d *DB) WebhookBacklog(ctx context.Context) (int, time.Time, error) {
	var res struct {
		N      int       `bun:"n"`
		Oldest time.Time `bun:"oldest"`
	}
	err := d.bun.NewSelect().Model((*webhookDeliveryRow)(nil)).ColumnExpr("count(*) AS n").
		ColumnExpr("min(wd.created_at) AS oldest").Where("wd.status = ?", DeliveryPending).Scan(ctx, &res)
	return res.N, res.Oldest.UTC(), mapErr(err)
}

// purgeBatch bounds the rows one purge statement deletes (one short transaction each,
// so the sweeper never holds the single writer or many row locks for long).
const purgeBatch = 1000

// PurgeWebhookDeliveries deletes the finished (delivered or failed) deliveries created
// before cutoff with their attempts, then the messages older than cutoff that no
// delivery refers to any more; pending deliveries and their messages stay, however old.
// It returns how many deliveries and messages it deleted. Deliveries are found by
// their time-ordered IDs on the primary key, messages on their age index.
func (d *DB) PurgeWebhookDeliveries(ctx context.Context, cutoff time.Time) (deliveries, messages int64, err error) {
	floor := ids.Floor(ids.WebhookDelivery, cutoff)
	limit := cmp.Or(d.purgeBatch, purgeBatch)
	batch := func(query string, args ...any) (int64, error) {
		var n int64
		err := d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			res, err := tx.NewRaw(query, args...).Exec(ctx)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		return n, mapErr(err)
	}
	for {
		// The status again on the deleted row itself: a delivery requeued (redelivered)
		// after the subquery read it is pending again and stays (PostgreSQL rechecks the
		// outer condition on the row's newest version).
		n, err := batch(`DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries
 WHERE id < ? AND status <> 'pending' ORDER BY id LIMIT ?) AND status <> 'pending'`, floor, limit)
		deliveries += n
		if err != nil || n < int64(limit) {
			if err != nil {
				return deliveries, messages, err
			}
			break
		}
	}
	for {
		n, err := batch(`DELETE FROM webhook_messages WHERE (case_id, position) IN (SELECT m.case_id, m.position
 FROM webhook_messages AS m WHERE m.created_at < ? AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS wd
 WHERE wd.case_id = m.case_id AND wd.position = m.position) LIMIT ?)`, cutoff, limit)
		messages += n
		if err != nil || n < int64(limit) {
			return deliveries, messages, err
		}
	}
}
