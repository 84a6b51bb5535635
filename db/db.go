// Package db stores the resolution center in PostgreSQL or an embedded SQLite file
// through bun: opening by URL, versioned migrations, row models with converters to the
// dispute types, and the queries the API needs. Query helpers take bun.IDB so they
// compose inside transactions.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"
)

// Engine names the database engine behind a DB.
type Engine string

// The supported engines.
const (
	Postgres Engine = "postgres"
	SQLite   Engine = "sqlite"
)

// DefaultSQLitePath is where the embedded database lives when DATABASE_URL is unset.
const DefaultSQLitePath = "data/resolution-center.db"

// DB is an open database: the bun handle, its engine, and (on SQLite) the single-writer
// gate that keeps concurrent write transactions from failing with "database is locked".
type DB struct {
	Bun    *bun.DB
	Engine Engine
	// URL is the URL the database was opened with, with any password masked.
	URL string

	// OnCommit, when set, is called on SQLite after every committed change of a case.
	// (On PostgreSQL changes are announced by NOTIFY instead; see ListenConfig.)
	OnCommit func(Notice)

	pool   *pgxpool.Pool // PostgreSQL only
	writer chan struct{} // SQLite only: a one-slot semaphore for write transactions
}

// Open connects to the database named by rawURL: a postgres:// or postgresql:// URL
// means PostgreSQL; "" means the SQLite file DefaultSQLitePath; sqlite:PATH or
// file:PATH means an SQLite file at PATH. The SQLite file and its folder are created
// when missing. Open does not migrate; call Migrate.
func Open(ctx context.Context, rawURL string, opts ...Option) (*DB, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return openPostgres(ctx, rawURL, o)
	case rawURL == "":
		return openSQLite(DefaultSQLitePath)
	case strings.HasPrefix(rawURL, "sqlite:"):
		return openSQLite(strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "//"))
	case strings.HasPrefix(rawURL, "file:"):
		return openSQLite(strings.TrimPrefix(rawURL, "file:"))
	}
	return nil, fmt.Errorf("db: unsupported DATABASE_URL %q: want postgres://..., sqlite:PATH or empty", MaskURL(rawURL))
}

// Option tunes Open.
type Option func(*options)

type options struct {
	statementTimeout time.Duration
}

// WithStatementTimeout sets PostgreSQL's statement_timeout on every connection, so no
// statement runs longer than d (SQLite statements are bounded by the request context).
func WithStatementTimeout(d time.Duration) Option {
	return func(o *options) { o.statementTimeout = d }
}

func openPostgres(ctx context.Context, rawURL string, o options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("db: parse postgres url: %w", err)
	}
	// bun formats arguments on the client, so prepared statements gain nothing.
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	if o.statementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(o.statementTimeout.Milliseconds(), 10)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > 5*time.Second {
		// Fail fast when the database is down, so requests answer UNAVAILABLE quickly.
		cfg.ConnConfig.ConnectTimeout = 3 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("db: connect postgres: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("db: ping postgres at %s: %w", MaskURL(rawURL), err)
	}
	sqldb := stdlib.OpenDBFromPool(pool)
	return &DB{Bun: bun.NewDB(sqldb, pgdialect.New()), Engine: Postgres, URL: MaskURL(rawURL), pool: pool}, nil
}

func openSQLite(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("db: empty sqlite path")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("db: create %s: %w", dir, err)
		}
	}
	// modernc reads pragmas as _pragma=name(value); _txlock=immediate takes the write
	// lock at BEGIN so a read-then-write transaction never fails with BUSY_SNAPSHOT.
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite"
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("db: open sqlite %s: %w", path, err)
	}
	sqldb.SetMaxOpenConns(8)
	sqldb.SetMaxIdleConns(8)
	sqldb.SetConnMaxIdleTime(0)
	if err := sqldb.Ping(); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("db: open sqlite %s: %w", path, err)
	}
	d := &DB{Bun: bun.NewDB(sqldb, sqlitedialect.New()), Engine: SQLite, URL: "sqlite:" + path, writer: make(chan struct{}, 1)}
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error {
	err := d.Bun.Close()
	if d.pool != nil {
		d.pool.Close()
	}
	return err
}

// ListenConfig returns a copy of the connection settings for a dedicated LISTEN
// connection, or nil on SQLite.
func (d *DB) ListenConfig() *pgx.ConnConfig {
	if d.pool == nil {
		return nil
	}
	return d.pool.Config().ConnConfig.Copy()
}

// Pool returns the pgx pool on PostgreSQL and nil on SQLite.
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.Bun.PingContext(ctx) }

// InTx runs fn in a write transaction. On SQLite it first takes the single-writer gate
// (honouring ctx), so concurrent writers queue in Go instead of spinning on the file lock.
func (d *DB) InTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	if d.writer != nil {
		select {
		case d.writer <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-d.writer }()
	}
	return mapErr(d.Bun.RunInTx(ctx, nil, fn))
}

// MaskURL hides the password in a database URL, for logs.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
