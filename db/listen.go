package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listener holds one PostgreSQL LISTEN connection per process and feeds the sink.
// When the connection drops it reconnects with backoff and asks the sink to resync, so
// the sink re-reads every subscriber's case from its last position: nothing is lost.
// Make one with Feed.
type Listener struct {
	config  *pgx.ConnConfig
	channel string
	sink    Sink
	logger  *slog.Logger
	// revocations returns the sink of token revocations (RevocationChannel), or nil.
	revocations func() RevocationSink

	up atomic.Bool
	// Reconnects counts how many times the connection was re-established.
	Reconnects atomic.Int64
	// IdleCheck is how long the connection may stay silent before it is pinged; a
	// ping not answered within IdleCheck (at most DefaultIdleCheck) ends the session.
	// A peer can vanish without closing the connection (a dropped NAT mapping, a
	// failed-over address, a stuck middlebox); TCP would tell only minutes later,
	// and until then every notice is lost while the connection looks up. Zero means
	// DefaultIdleCheck. Set it before Run.
	IdleCheck time.Duration
}

// DefaultIdleCheck is Listener.IdleCheck's default.
const DefaultIdleCheck = 15 * time.Second

func (l *Listener) idleCheck() time.Duration {
	if l.IdleCheck > 0 {
		return l.IdleCheck
	}
	return DefaultIdleCheck
}

// Up reports whether the LISTEN connection is established (for readiness).
func (l *Listener) Up() bool { return l.up.Load() }

func (l *Listener) revocationSink() RevocationSink {
	if l.revocations == nil {
		return nil
	}
	return l.revocations()
}

// Run listens until ctx ends.
func (l *Listener) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		started := time.Now()
		err := l.session(ctx, first)
		l.up.Store(false)
		if time.Since(started) > 30*time.Second {
			backoff = 100 * time.Millisecond // a long session: this is a new outage
		}
		if ctx.Err() != nil {
			return
		}
		first = false
		l.logger.Warn("db: LISTEN connection lost; reconnecting", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// session connects, listens, and forwards notices until the connection fails.
func (l *Listener) session(ctx context.Context, first bool) error {
	connectCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(connectCtx, l.config)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.channel}.Sanitize()); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{RevocationChannel}.Sanitize()); err != nil {
		return err
	}
	l.up.Store(true)
	if !first {
		l.Reconnects.Add(1)
		l.logger.Info("db: LISTEN connection re-established; resyncing subscribers")
	}
	// Anything committed while we were not listening is read again from the log.
	l.sink.Resync()
	if rs := l.revocationSink(); rs != nil {
		rs.ResyncRevocations()
	}
	idle := l.idleCheck()
	for {
		wctx, cancel := context.WithTimeout(ctx, idle)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			// Silent for a while: is the server still there? (Notices that arrive
			// during the ping are kept by the connection for the next wait.)
			pctx, cancel := context.WithTimeout(ctx, min(idle, DefaultIdleCheck))
			err = conn.Ping(pctx)
			cancel()
			if err == nil {
				continue
			}
			return fmt.Errorf("db: LISTEN connection silent: %w", err)
		}
		if err != nil {
			return err
		}
		if n.Channel == RevocationChannel {
			if rs := l.revocationSink(); rs != nil {
				rs.Revoked(n.Payload)
			}
			continue
		}
		notice, err := parseNotice(n.Payload)
		if err != nil {
			l.logger.Warn("db: ignoring malformed notice", "payload", n.Payload)
			continue
		}
		l.sink.Notify(notice)
	}
}
