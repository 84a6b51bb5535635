package db

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"resolutioncenter/dispute"
)

// mapErr turns driver errors into the domain's closed set of codes, keeping the cause
// wrapped for logs. Unknown errors pass through and become INTERNAL at the edge.
func mapErr(err error) error { return mapErrField(err, "") }

func mapErrField(err error, field string) error {
	if err == nil {
		return nil
	}
	var de *dispute.Error
	if errors.As(err, &de) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return &dispute.Error{Code: dispute.CodeNotFound, Message: "not found"}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return &dispute.Error{Code: dispute.CodeAlreadyExists, Field: field, Message: "already exists"}
		case "23503": // foreign_key_violation
			return &dispute.Error{Code: dispute.CodeNotFound, Message: "a referenced object does not exist"}
		case "40001", "40P01": // serialization failure, deadlock
			return &dispute.Error{Code: dispute.CodeConflict, Message: "concurrent update, retry"}
		}
		return err
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &dispute.Error{Code: dispute.CodeAlreadyExists, Field: field, Message: "already exists"}
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return &dispute.Error{Code: dispute.CodeNotFound, Message: "a referenced object does not exist"}
		}
	}
	return err
}
