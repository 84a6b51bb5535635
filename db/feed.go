package db

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
)

// NotifyChannel is the PostgreSQL channel that carries change notices.
const NotifyChannel = "resolution_events"

// RevocationChannel is the PostgreSQL channel that carries token revocations: the
// revoked token's ID, sent by the revoking transaction and delivered at its commit.
const RevocationChannel = "rc_token_revocations"

// RevocationSink receives the token revocations committed by any process, and
// ResyncRevocations when some may have been missed (the LISTEN connection was lost),
// after which it re-checks the tokens it cares about (RevokedTokens).
type RevocationSink interface {
	Revoked(tokenID string)
	ResyncRevocations()
}

// WatchRevocations makes sink receive every token revocation committed from now on, by
// this process (SQLite: after commit) or any other (PostgreSQL: through the Listener
// that Feed returns, which must run). Call it before Feed's Listener runs.
func (d *DB) WatchRevocations(sink RevocationSink) {
	d.revocations.Store(&sink)
}

func (d *DB) revocationSink() RevocationSink {
	if p := d.revocations.Load(); p != nil {
		return *p
	}
	return nil
}

// announceRevocation sends the revocation notice inside the transaction (PostgreSQL:
// delivered to every listening process at commit, never on rollback).
func (d *DB) announceRevocation(ctx context.Context, tx bun.Tx, tokenID string) error {
	if d.Engine != Postgres {
		return nil
	}
	_, err := d.pgExec(ctx, tx, pgNotify, RevocationChannel, tokenID)
	return err
}

// revocationCommitted hands a committed revocation to the sink on SQLite, where this
// process is the only writer.
func (d *DB) revocationCommitted(tokenID string) {
	if d.Engine == Postgres {
		return
	}
	if s := d.revocationSink(); s != nil {
		s.Revoked(tokenID)
	}
}

// Sink receives the change feed: a notice per committed change of a case, and Resync
// when notices may have been missed (the LISTEN connection was lost), after which the
// sink re-reads what it needs from the timeline by position.
type Sink interface {
	Notify(dispute.Notice)
	Resync()
}

// Feed connects sink to the changes committed to this database. On PostgreSQL it
// returns the Listener (LISTEN on NotifyChannel, which also carries the other server
// processes' changes) for the caller to Run; on SQLite, where this process is the only
// writer, every commit calls sink directly and Feed returns nil.
func (d *DB) Feed(sink Sink, logger *slog.Logger) *Listener {
	if d.Engine != Postgres {
		fn := sink.Notify
		d.onCommit.Store(&fn)
		return nil
	}
	return &Listener{config: d.pool.Config().ConnConfig.Copy(), channel: NotifyChannel, sink: sink, logger: logger,
		revocations: d.revocationSink}
}

// encodeNotice encodes a notice as a NOTIFY payload: "caseID:position:version" (well
// under PostgreSQL's 8000-byte limit).
func encodeNotice(n dispute.Notice) string {
	return n.CaseID + ":" + strconv.Itoa(n.Position) + ":" + strconv.Itoa(n.Version)
}

// parseNotice decodes a NOTIFY payload.
func parseNotice(s string) (dispute.Notice, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return dispute.Notice{}, fmt.Errorf("db: bad notice %q", s)
	}
	pos, err1 := strconv.Atoi(parts[1])
	ver, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil {
		return dispute.Notice{}, fmt.Errorf("db: bad notice %q", s)
	}
	return dispute.Notice{CaseID: parts[0], Position: pos, Version: ver}, nil
}

// announce makes a change known. On PostgreSQL it sends NOTIFY inside the transaction,
// so the notice is delivered at commit to every listening process and never on
// rollback. On SQLite committed passes the notice on after the commit.
func (d *DB) announce(ctx context.Context, tx bun.Tx, c dispute.Case, ev dispute.Event) error {
	if d.Engine != Postgres {
		return nil
	}
	n := dispute.Notice{CaseID: c.ID, Position: ev.Position, Version: c.Version}
	_, err := d.pgExec(ctx, tx, pgNotify, NotifyChannel, encodeNotice(n))
	return err
}

// committed runs the in-process commit hook (SQLite) for a change that committed.
func (d *DB) committed(res Result) {
	if d.Engine == Postgres || res.Replayed {
		return
	}
	if fn := d.onCommit.Load(); fn != nil {
		(*fn)(dispute.Notice{CaseID: res.Case.ID, Position: res.Event.Position, Version: res.Case.Version})
	}
}
