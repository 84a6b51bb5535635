package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
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
	if isUnavailable(err) {
		return &dispute.Error{Code: dispute.CodeUnavailable, Message: "the database is unavailable; retry shortly"}
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
		case "57014": // query_canceled (statement_timeout)
			return &dispute.Error{Code: dispute.CodeUnavailable, Message: "the query took too long"}
		case "57P01", "57P02", "57P03", "53300": // admin shutdown, crash shutdown, cannot connect now, too many connections
			return &dispute.Error{Code: dispute.CodeUnavailable, Message: "the database is unavailable; retry shortly"}
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

// isUnavailable recognises failures to reach the database (as opposed to errors the
// database reported): refused or broken connections and connect timeouts.
func isUnavailable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return false
	}
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		pgconn.Timeout(err) || errors.Is(err, puddle.ErrClosedPool) || errors.Is(err, pgconn.ErrConnClosed)
}
