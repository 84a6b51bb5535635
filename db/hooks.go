package db

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
)

// QueryHook observes statements: metrics, tracing, statement counts in tests.
type QueryHook = bun.QueryHook

// AddQueryHook makes h observe every statement from now on, until remove is called.
// It is safe while the database is in use; several servers sharing one DB (tests)
// each add their own.
func (d *DB) AddQueryHook(h QueryHook) (remove func()) {
	e := &hookEntry{h}
	d.hooks.update(func(hs []QueryHook) []QueryHook { return append(hs, e) })
	return func() {
		d.hooks.update(func(hs []QueryHook) []QueryHook {
			out := hs[:0]
			for _, x := range hs {
				if x != QueryHook(e) {
					out = append(out, x)
				}
			}
			return out
		})
	}
}

// hookEntry gives each added hook an identity, so that it can be removed.
type hookEntry struct{ QueryHook }

// hookList is the one hook bun calls; it hands each statement to the hooks added.
type hookList struct {
	hooks atomic.Pointer[[]QueryHook]
}

type hookCtxKey struct{}

// update replaces the list by f of a copy of it.
func (l *hookList) update(f func([]QueryHook) []QueryHook) {
	for {
		old := l.hooks.Load()
		next := f(append([]QueryHook(nil), derefHooks(old)...))
		if l.hooks.CompareAndSwap(old, &next) {
			return
		}
	}
}

func derefHooks(p *[]QueryHook) []QueryHook {
	if p == nil {
		return nil
	}
	return *p
}

func (l *hookList) BeforeQuery(ctx context.Context, ev *bun.QueryEvent) context.Context {
	hs := derefHooks(l.hooks.Load())
	if len(hs) == 0 {
		return ctx
	}
	for _, h := range hs {
		ctx = h.BeforeQuery(ctx, ev)
	}
	// AfterQuery runs the same hooks, even if one is added meanwhile.
	return context.WithValue(ctx, hookCtxKey{}, hs)
}

func (l *hookList) AfterQuery(ctx context.Context, ev *bun.QueryEvent) {
	hs, _ := ctx.Value(hookCtxKey{}).([]QueryHook)
	for i := len(hs) - 1; i >= 0; i-- {
		hs[i].AfterQuery(ctx, ev)
	}
}

// hooked runs one statement that does not go through bun (the prepared statements of
// the PostgreSQL paths) between the query hooks, so they observe it as they observe
// bun's; run's error is the event's.
func (d *DB) hooked(ctx context.Context, query string, run func() error) error {
	ev := &bun.QueryEvent{DB: d.bun, Query: query, StartTime: time.Now()}
	hookCtx := d.hooks.BeforeQuery(ctx, ev)
	ev.Err = run()
	d.hooks.AfterQuery(hookCtx, ev)
	return ev.Err
}
