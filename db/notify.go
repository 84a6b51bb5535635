package db

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
	"resolutioncenter/pubsub"
)

// NotifyChannel is the PostgreSQL channel that carries change notices.
const NotifyChannel = "resolution_events"

// Notice is what a committed change announces: the case, its new event's position and
// its new version.
type Notice struct {
	CaseID   string
	Position int
	Version  int
}

// String encodes a notice as a NOTIFY payload: "caseID:position:version" (well under
// PostgreSQL's 8000-byte limit).
func (n Notice) String() string {
	return n.CaseID + ":" + strconv.Itoa(n.Position) + ":" + strconv.Itoa(n.Version)
}

// ParseNotice decodes a NOTIFY payload.
func ParseNotice(s string) (Notice, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return Notice{}, fmt.Errorf("db: bad notice %q", s)
	}
	pos, err1 := strconv.Atoi(parts[1])
	ver, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil {
		return Notice{}, fmt.Errorf("db: bad notice %q", s)
	}
	return Notice{CaseID: parts[0], Position: pos, Version: ver}, nil
}

// Feed connects hub to the changes this database commits: on PostgreSQL it returns
// the Listener (LISTEN on NotifyChannel) for the caller to run, which also carries the
// other processes' changes; on SQLite it sets OnCommit and returns nil.
func (d *DB) Feed(hub *pubsub.Hub, logger *slog.Logger) *pubsub.Listener {
	if d.Engine != Postgres {
		d.OnCommit = func(n Notice) { hub.Notify(pubsub.Notice(n)) }
		return nil
	}
	return &pubsub.Listener{Config: d.ListenConfig(), Channel: NotifyChannel, Hub: hub, Logger: logger,
		Parse: func(s string) (pubsub.Notice, error) { n, err := ParseNotice(s); return pubsub.Notice(n), err }}
}

// announce makes a change known. On PostgreSQL it sends NOTIFY inside the transaction,
// so the notice is delivered at commit to every listening process and never on
// rollback. On SQLite the caller passes the notice to OnCommit after the commit.
func (d *DB) announce(ctx context.Context, tx bun.Tx, c dispute.Case, ev dispute.Event) error {
	if d.Engine != Postgres {
		return nil
	}
	n := Notice{CaseID: c.ID, Position: ev.Position, Version: c.Version}
	_, err := tx.ExecContext(ctx, "SELECT pg_notify(?, ?)", NotifyChannel, n.String())
	return mapErr(err)
}

// committed runs the in-process commit hook (SQLite) for a change that committed.
func (d *DB) committed(res Result) {
	if d.Engine == Postgres || res.Replayed || d.OnCommit == nil {
		return
	}
	d.OnCommit(Notice{CaseID: res.Case.ID, Position: res.Event.Position, Version: res.Case.Version})
}

// maxCasesPerRead bounds the OR-list of one EventsAfter statement.
const maxCasesPerRead = 200

// EventsAfter returns, per case, the events after the given positions, in order.
func (d *DB) EventsAfter(ctx context.Context, after map[string]int) (map[string][]dispute.Event, error) {
	out := make(map[string][]dispute.Event, len(after))
	ids := make([]string, 0, len(after))
	for id := range after {
		ids = append(ids, id)
	}
	for start := 0; start < len(ids); start += maxCasesPerRead {
		chunk := ids[start:min(start+maxCasesPerRead, len(ids))]
		var rows []eventRow
		q := d.Bun.NewSelect().Model(&rows).WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			for _, id := range chunk {
				q = q.WhereOr("(e.resolution_id = ? AND e.position > ?)", id, after[id])
			}
			return q
		}).Order("e.resolution_id", "e.position")
		if err := q.Scan(ctx); err != nil {
			return nil, mapErr(err)
		}
		for _, r := range rows {
			out[r.ResolutionID] = append(out[r.ResolutionID], toDomainEvent(r))
		}
	}
	return out, nil
}

// CasesByID returns the cases with the given IDs.
func (d *DB) CasesByID(ctx context.Context, ids []string) (map[string]dispute.Case, error) {
	return GetResolutions(ctx, d.Bun, Scope{All: true}, ids)
}

// CasesUpdatedSince returns up to limit cases updated at or after t, the most recent first.
func (d *DB) CasesUpdatedSince(ctx context.Context, t time.Time, limit int) ([]dispute.Case, error) {
	var rows []resolutionRow
	err := d.Bun.NewSelect().Model(&rows).Where("r.updated_at >= ?", t.UTC()).
		OrderExpr("r.updated_at DESC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]dispute.Case, len(rows))
	for i, r := range rows {
		out[i] = toDomainCase(r)
	}
	return out, nil
}
