package db

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
)

// Idempotency identifies a retryable mutation: the same principal sending the same
// key gets the first result back; the same key with a different request is refused.
type Idempotency struct {
	Principal   string // the caller's principal, e.g. "user:user_..." (auth.Principal.Key)
	Key         string
	Operation   string // what was asked: a dispute.Action
	RequestHash string // a hash of the request's input
}

type idempotencyRow struct {
	bun.BaseModel `bun:"table:idempotency_keys"`
	Principal     string    `bun:"principal,pk"`
	Key           string    `bun:"key,pk"`
	Operation     string    `bun:"operation,notnull"`
	RequestHash   string    `bun:"request_hash,notnull"`
	Response      string    `bun:"response,nullzero"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
}

// IdempotencyTTL is how long a key's result is kept: a retry within it is answered
// from the record, a request after it runs as a new one (claimKey), and
// PurgeIdempotencyKeys deletes the older records.
const IdempotencyTTL = 24 * time.Hour

// claimKey claims an idempotency key inside the transaction. When the key is new it is
// inserted (and its result stored by storeResult before commit); a concurrent claim of
// the same key waits on the unique index until this transaction ends. When the key was
// used before, the stored result is returned with found=true, or an error if the
// request differs.
func claimKey(ctx context.Context, tx bun.Tx, k Idempotency, now time.Time) (Result, bool, error) {
	row := idempotencyRow{Principal: k.Principal, Key: k.Key, Operation: k.Operation, RequestHash: k.RequestHash,
		CreatedAt: now.UTC().Truncate(time.Millisecond)}
	res, err := tx.NewInsert().Model(&row).On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return Result{}, false, mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return Result{}, false, nil
	}
	// A record older than IdempotencyTTL is gone by contract, even when the sweeper has
	// not deleted it yet (it runs every SWEEP_INTERVAL, or on another replica, or not
	// at all): the key is claimed afresh for this request. The condition is checked on
	// the row itself, so of two concurrent retries of an expired key one claims it and
	// the other, once the first commits, finds its record.
	res, err = tx.NewUpdate().Model((*idempotencyRow)(nil)).
		Set("operation = ?", row.Operation).Set("request_hash = ?", row.RequestHash).
		Set("response = NULL").Set("created_at = ?", row.CreatedAt).
		Where("principal = ?", k.Principal).Where("key = ?", k.Key).
		Where("created_at < ?", now.Add(-IdempotencyTTL)).Exec(ctx)
	if err != nil {
		return Result{}, false, mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return Result{}, false, nil
	}
	var old idempotencyRow
	if err := tx.NewSelect().Model(&old).Where("principal = ?", k.Principal).Where("key = ?", k.Key).Scan(ctx); err != nil {
		return Result{}, false, mapErr(err)
	}
	if old.Operation != k.Operation || old.RequestHash != k.RequestHash {
		return Result{}, false, &dispute.Error{Code: dispute.CodeConflict, Field: "idempotencyKey",
			Message: "this idempotency key was already used with a different request"}
	}
	if old.Response == "" {
		return Result{}, false, dispute.Conflict("the first request with this idempotency key is still in progress")
	}
	c, ev, err := dispute.DecodeResult([]byte(old.Response))
	if err != nil {
		return Result{}, false, err
	}
	return Result{Case: c, Event: ev, Replayed: true}, true, nil
}

func storeResult(ctx context.Context, tx bun.Tx, k Idempotency, res Result) error {
	b, err := dispute.EncodeResult(res.Case, res.Event)
	if err != nil {
		return err
	}
	_, err = tx.NewUpdate().Model((*idempotencyRow)(nil)).Set("response = ?", string(b)).
		Where("principal = ?", k.Principal).Where("key = ?", k.Key).Exec(ctx)
	return mapErr(err)
}

// PurgeIdempotencyKeys deletes the keys created more than IdempotencyTTL before now and
// returns how many it deleted.
func (d *DB) PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*idempotencyRow)(nil)).Where("created_at < ?", now.Add(-IdempotencyTTL)).Exec(ctx)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
