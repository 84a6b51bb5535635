package pubsub

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listener holds one PostgreSQL LISTEN connection per process and feeds the hub. When
// the connection drops it reconnects with backoff and asks the hub to resync, so the
// hub re-reads every subscriber's case from its last position: nothing is lost.
type Listener struct {
	Config  *pgx.ConnConfig
	Channel string
	Hub     *Hub
	Parse   func(payload string) (Notice, error)
	Logger  *slog.Logger

	up atomic.Bool
	// Reconnects counts how many times the connection was re-established.
	Reconnects atomic.Int64
}

// Up reports whether the LISTEN connection is established (for readiness).
func (l *Listener) Up() bool { return l.up.Load() }

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
		l.Logger.Warn("pubsub: LISTEN connection lost; reconnecting", "err", err, "backoff", backoff)
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
	conn, err := pgx.ConnectConfig(connectCtx, l.Config)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.Channel}.Sanitize()); err != nil {
		return err
	}
	l.up.Store(true)
	if !first {
		l.Reconnects.Add(1)
		l.Logger.Info("pubsub: LISTEN connection re-established; resyncing subscribers")
	}
	// Anything committed while we were not listening is read again from the log.
	l.Hub.Resync()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		notice, err := l.Parse(n.Payload)
		if err != nil {
			l.Logger.Warn("pubsub: ignoring malformed notice", "payload", n.Payload)
			continue
		}
		l.Hub.Notify(notice)
	}
}
