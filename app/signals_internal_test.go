package app

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestStoppedDuringStartup: once a stop signal has ended the start-up's context, its
// failure is the stop's, whether the error is the context's, wraps it, or is a
// driver's own word for a cut statement (SQLite's "interrupted"); without a stop, any
// error is a failure.
func TestStoppedDuringStartup(t *testing.T) {
	stopped, cancel := context.WithCancelCause(context.Background())
	cancel(&StopSignal{})
	live := context.Background()
	for _, c := range []struct {
		ctx  context.Context
		err  error
		want bool
	}{
		{stopped, context.Canceled, true},
		{stopped, fmt.Errorf("migrate: %w", context.Canceled), true},
		{stopped, errors.New("migrate: interrupted (9)"), true},
		{stopped, nil, false},
		{live, errors.New("oidc: discovery: 404"), false},
		{live, context.Canceled, false},
	} {
		if got := stoppedDuringStartup(c.ctx, c.err); got != c.want {
			t.Errorf("stoppedDuringStartup(stopped=%v, %v) = %v, want %v", c.ctx.Err() != nil, c.err, got, c.want)
		}
	}
}
