// Package db stores the resolution center in PostgreSQL or an embedded SQLite file
// through bun: opening by URL, versioned migrations, one row struct per table with
// named converters to the dispute types and the plain records below, the queries the
// API needs, the case counts behind summaries (counts.go), bulk loading, and the
// change feed (NOTIFY/LISTEN on PostgreSQL, a commit hook on SQLite) that tells
// subscribers what committed.
//
// The bun handle never leaves the package: callers use the methods of DB. Every write
// runs in inTx, which on SQLite also takes the single-writer gate, so writers queue in
// Go instead of failing with "database is locked". Query helpers inside the package
// take bun.IDB so they compose inside a transaction.
//
// Names: reads are named for what they return (CasesByID, ListCases, RecentEvents),
// writes for what they do (OpenCase, UpdateCase, CreateCompany). Every error is one of
// dispute's codes (mapErr), with the driver's error wrapped for logs.
//
// db imports dispute and ids of this module, and nothing else of it.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"

	"resolutioncenter/dispute"
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
	Engine Engine
	// URL is the URL the database was opened with, with any password masked.
	URL string

	bun    *bun.DB
	hooks  *hookList
	pool   *pgxpool.Pool // PostgreSQL only
	writer chan struct{} // SQLite only: a one-slot semaphore for write transactions
	// onCommit is the SQLite change feed's sink, called after every committed change of
	// a case (on PostgreSQL the transaction's NOTIFY does this; see Feed).
	onCommit atomic.Pointer[func(dispute.Notice)]
	// revocations receives token revocations (see WatchRevocations).
	revocations atomic.Pointer[RevocationSink]
	// outbox sees every change inside its transaction (webhooks; see SetOutbox).
	outbox atomic.Pointer[outboxHolder]
	// purgeBatch overrides the rows a purge statement deletes (tests); 0: purgeBatch.
	purgeBatch int
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
	return newDB(bun.NewDB(sqldb, pgdialect.New()), Postgres, MaskURL(rawURL), pool), nil
}

func newDB(b *bun.DB, engine Engine, url string, pool *pgxpool.Pool) *DB {
	hooks := &hookList{}
	d := &DB{bun: b.WithQueryHook(hooks), hooks: hooks, Engine: engine, URL: url, pool: pool}
	if engine == SQLite {
		d.writer = make(chan struct{}, 1)
	}
	return d
}

func openSQLite(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("db: empty sqlite path")
	}
	// A new database, and a folder made for it, are the owner's alone: the file holds
	// e-mails, messages and token hashes (SQLite gives its -wal and -shm files the
	// database's mode). An existing file keeps the mode it has.
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("db: create %s: %w", dir, err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("db: open sqlite %s: %w", path, err)
	}
	f.Close()
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
	return newDB(bun.NewDB(sqldb, sqlitedialect.New()), SQLite, "sqlite:"+path, nil), nil
}

// Background returns a handle on the same database with a pool of its own of at most
// maxConns connections (PostgreSQL), for background work such as webhook delivery, so
// that it never takes the connections requests need. Its commits do not wait for the
// WAL flush (synchronous_commit=off): what it writes is bookkeeping that a crash of
// PostgreSQL may roll back by a fraction of a second, which the caller must tolerate
// (a delivery acknowledged just before such a crash is sent again: at least once).
// On SQLite it returns d itself: one file, one single-writer gate. Close the handle
// when done (on SQLite, Close is then d's own).
func (d *DB) Background(ctx context.Context, maxConns int) (*DB, error) {
	if d.Engine != Postgres {
		return d, nil
	}
	cfg := d.pool.Config()
	cfg.MaxConns = int32(max(1, maxConns))
	cfg.MinConns = 0
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("db: background pool: %w", err)
	}
	b := bun.NewDB(stdlib.OpenDBFromPool(pool), pgdialect.New())
	return &DB{bun: b.WithQueryHook(d.hooks), hooks: d.hooks, Engine: d.Engine, URL: d.URL, pool: pool}, nil
}

// Close closes the database.
func (d *DB) Close() error {
	err := d.bun.Close()
	if d.pool != nil {
		d.pool.Close()
	}
	return err
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.bun.PingContext(ctx) }

// SQL returns the database/sql pool under the store, for its statistics (metrics).
// Queries go through the methods of DB, never through this handle.
func (d *DB) SQL() *sql.DB { return d.bun.DB }

// inTx runs fn in a write transaction. On SQLite it first takes the single-writer gate
// (honouring ctx), so concurrent writers queue in Go instead of spinning on the file lock.
func (d *DB) inTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	release, err := d.gate(ctx)
	if err != nil {
		return err
	}
	defer release()
	return mapErr(d.bun.RunInTx(ctx, nil, fn))
}

// gate takes the SQLite single-writer gate (a no-op on PostgreSQL).
func (d *DB) gate(ctx context.Context) (release func(), err error) {
	if d.writer == nil {
		return func() {}, nil
	}
	select {
	case d.writer <- struct{}{}:
		return func() { <-d.writer }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// MaskURL hides the password in a database URL, for logs. A URL whose password holds
// a reserved character left unencoded (#, /, ?, %, a space) does not parse, or parses
// with the password in its path or host; the userinfo is then taken to run to the last
// '@', as an operator who wrote it meant, and masked whole (at worst more than the
// password is hidden, never less).
func MaskURL(raw string) string {
	scheme, rest, isURL := strings.Cut(raw, "://")
	if !isURL {
		// A key/value connection string (host=... password=...), or not a URL.
		return dsnPassword.ReplaceAllString(raw, "${1}xxxxx")
	}
	u, err := url.Parse(raw)
	if err == nil && (u.User != nil || !strings.Contains(rest, "@")) {
		if u.User != nil {
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
			}
		}
		if q := u.Query(); q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if user, _, hasPassword := strings.Cut(rest[:at], ":"); hasPassword {
			rest = user + ":xxxxx" + rest[at:]
		}
	}
	return dsnPassword.ReplaceAllString(scheme+"://"+rest, "${1}xxxxx")
}

// dsnPassword is the password of a key/value connection string: password=value or
// password='quoted value'.
var dsnPassword = regexp.MustCompile(`(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)
