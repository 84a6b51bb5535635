package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // the server's SQLite driver, for the floor on SQLite
)

// encodePage builds the response document the list query would return and encodes it.
func encodePage(cases []*floorCase) ([]byte, error) {
	edges := make([]map[string]any, len(cases))
	for i, c := range cases {
		evs := c.Events
		if len(evs) > 10 {
			evs = evs[:10]
		}
		edges[i] = map[string]any{"cursor": fmt.Sprintf("r1|created_at|%d|%s", c.CreatedAt.UnixMilli(), c.ID),
			"node": c, "events": map[string]any{"nodes": evs, "hasNextPage": len(c.Events) > 10}}
	}
	return json.Marshal(map[string]any{"data": map[string]any{"resolutions": map[string]any{"edges": edges}}})
}

// floorDB runs the floor's statements on PostgreSQL (pgx) or SQLite (database/sql).
type floorDB struct {
	pool *pgxpool.Pool
	sql  *sql.DB
}

func openFloor(ctx context.Context, url string, conns int) (*floorDB, error) {
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		d, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
		if err != nil {
			return nil, err
		}
		d.SetMaxOpenConns(conns)
		d.SetMaxIdleConns(conns)
		return &floorDB{sql: d}, d.PingContext(ctx)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = int32(conns)
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &floorDB{pool: p}, p.Ping(ctx)
}

func (f *floorDB) Close() {
	if f.pool != nil {
		f.pool.Close()
	}
	if f.sql != nil {
		f.sql.Close()
	}
}

// page reads one list page with its related rows and returns its JSON encoding.
func (f *floorDB) page(ctx context.Context) ([]byte, error) {
	var cases []*floorCase
	if f.pool != nil {
		rs, err := f.pool.Query(ctx, floorPageSQL)
		if err != nil {
			return nil, err
		}
		cases, err = scanPage(rs)
		rs.Close()
		if err != nil {
			return nil, err
		}
		b := &pgx.Batch{}
		for _, l := range floorLookups {
			b.Queue(fmt.Sprintf(l.sql, "= ANY($1)"), distinctIDs(cases, l.ids))
		}
		br := f.pool.SendBatch(ctx, b)
		for _, l := range floorLookups {
			rs, err := br.Query()
			if err == nil {
				err = l.scan(rs, cases)
				rs.Close()
			}
			if err != nil {
				br.Close()
				return nil, err
			}
		}
		if err := br.Close(); err != nil {
			return nil, err
		}
		return encodePage(cases)
	}
	rs, err := f.sql.QueryContext(ctx, floorPageSQL)
	if err != nil {
		return nil, err
	}
	cases, err = scanPage(rs)
	rs.Close()
	if err != nil {
		return nil, err
	}
	for _, l := range floorLookups {
		ids := distinctIDs(cases, l.ids)
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		in := "IN (NULL)"
		if len(ids) > 0 {
			in = "IN (?" + strings.Repeat(",?", len(ids)-1) + ")"
		}
		rs, err := f.sql.QueryContext(ctx, fmt.Sprintf(l.sql, in), args...)
		if err != nil {
			return nil, err
		}
		err = l.scan(rs, cases)
		rs.Close()
		if err != nil {
			return nil, err
		}
	}
	return encodePage(cases)
}
